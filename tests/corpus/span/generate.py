"""Writes span.jsonl: cases the verbatim check cannot judge right.

Each case is a sink text with the byte range one argument wrote (`span`),
as `rasp::sql!` and `rasp::shell!` record it, and the input as the request
sent it. Two kinds:

- coincident: the input also occurs in the application's own text, where
  it is code; the argument's own bytes are data. Benign. The verbatim
  check judges the template's occurrence too and flags it.
- transformed: the application trimmed, case-folded, percent-decoded or
  Unicode-normalized the input before splicing it, so the sent text never
  occurs. The written bytes break out. An attack. The verbatim check
  cannot find it.

Run from this folder: `python3 generate.py`.
"""

import hashlib
import json
import unicodedata
from urllib.parse import unquote


def case(cls, kind, before, written, after, sent, attack, tags, dialect=None):
    template = before + written + after
    start = len(before.encode())
    end = start + len(written.encode())
    ident = hashlib.sha1(f"{cls}|{template}|{sent}".encode()).hexdigest()[:10]
    out = {
        "id": f"{cls}-span-{ident}",
        "class": cls,
        "template": template,
        "input": sent,
        "attack": attack,
        "tags": [kind] + tags,
        "span": [start, end],
    }
    if dialect:
        out["dialect"] = dialect
    return out


CASES = []

# SQL: the argument sits in a literal; the template's code spells it too.
for word in ["GROUP BY", "ORDER BY name", "OR 1=1", "UNION SELECT", "-- note", "1; DROP"]:
    CASES.append(case(
        "sqli", "coincident",
        "SELECT name, count(*) FROM tags WHERE label = '", word,
        f"' AND 1 = 1 {word if word.startswith(('GROUP', 'ORDER')) else ''}".rstrip(),
        word, False, ["string"], "generic"))
CASES.append(case(
    "sqli", "coincident", "SELECT * FROM t WHERE name = '", "OR 1=1", "' OR 1=1",
    "OR 1=1", False, ["string"], "generic"))
CASES.append(case(
    "sqli", "coincident", "SELECT 'abc' AS x FROM t WHERE code = '", "'a".replace("'", "''"),
    "'", "'a", False, ["string", "escaped"], "generic"))

# SQL: the argument was transformed before it was spliced.
for sent, transform, tag in [
    ("  x' or '1'='1  ", lambda s: s.strip().upper(), "trimmed-upper"),
    ("x%27%20OR%20%271%27%3D%271", unquote, "percent-decoded"),
    ("x\uff07 OR \uff071\uff07=\uff071", lambda s: unicodedata.normalize("NFKC", s), "nfkc"),
    ("ADMIN'--", str.lower, "lower"),
]:
    CASES.append(case(
        "sqli", "transformed", "SELECT secret FROM users WHERE name = '", transform(sent), "'",
        sent, True, ["string", tag], "generic"))
for sent in ["1%20OR%201%3D1", "1%3B%20DROP%20TABLE%20t"]:
    CASES.append(case(
        "sqli", "transformed", "SELECT * FROM t WHERE id = ", unquote(sent), " LIMIT 1",
        sent, True, ["number", "percent-decoded"], "generic"))

# Shell: the argument sits in single quotes; the script spells it as code.
for word in ["; ls", "| wc -l", "&& echo done", "$(date)"]:
    CASES.append(case(
        "shell", "coincident", "echo '", word, f"' {word}", word, False, ["single-quoted"]))
# Shell: transformed before splicing.
for sent, transform, tag in [
    ("x%3B%20id", unquote, "percent-decoded"),
    ("  x; id  ", str.strip, "trimmed"),
    ("X$(ID)", str.lower, "lower"),
    ("x\uff1b id", lambda s: unicodedata.normalize("NFKC", s), "nfkc"),
]:
    CASES.append(case(
        "shell", "transformed", "cat ", transform(sent), ".txt", sent, True, ["unquoted", tag]))
    CASES.append(case(
        "shell", "transformed", "cat '", transform(sent).replace("x", "x'"), "'", sent, True,
        ["single-quoted", tag]))

with open("span.jsonl", "w", encoding="utf-8") as out:
    for c in CASES:
        out.write(json.dumps(c, ensure_ascii=False) + "\n")
print(f"{len(CASES)} cases")
