//! Recording what the extractors produce in the current request context.
//!
//! Recording is bounded by the context's caps; once the count cap is
//! reached the walks below stop early, so a body with a million strings
//! costs a million cheap steps at most, not a million lock round-trips.

use std::borrow::Cow;
use std::sync::Arc;

use rasp_core::{RequestContext, SourceMeta};
use serde_json::Value;

/// Records each of `inputs` in the current context, if any.
pub(crate) fn record_all<I: AsRef<str>>(
    source: &'static SourceMeta,
    inputs: impl IntoIterator<Item = I>,
) {
    RequestContext::with_current(|ctx| {
        if let Some(ctx) = ctx {
            for input in inputs {
                let full = is_full(ctx);
                // Past the cap this call only counts the drop (and reports
                // it once); the remaining inputs are not looked at.
                ctx.record_input(source, input.as_ref().as_bytes());
                if full {
                    break;
                }
            }
        }
    });
}

/// Records the decoded keys and values of an `application/x-www-form-urlencoded`
/// text: the same pairs, decoded the same way, that `serde_urlencoded` hands
/// to the target type.
pub(crate) fn record_form_pairs(source: &'static SourceMeta, encoded: &[u8]) {
    record_all(source, form_fields(encoded));
}

/// Each key and value of a form, decoded, in order: what
/// `form_urlencoded::parse` yields, flattened. Most pairs need no decoding
/// (ASCII without `%` or `+`) and are yielded as they are, which spares
/// every protected request with a query string the decoder's copies and
/// UTF-8 repair; the others are decoded by `form_urlencoded` itself.
fn form_fields(encoded: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    encoded
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .flat_map(|pair| {
            let plain = pair.is_ascii() && memchr::memchr2(b'%', b'+', pair).is_none();
            let (key, value) = match std::str::from_utf8(pair) {
                Ok(text) if plain => {
                    let (key, value) = text.split_once('=').unwrap_or((text, ""));
                    (Cow::Borrowed(key), Cow::Borrowed(value))
                }
                // One pair: the segment holds no `&`.
                _ => form_urlencoded::parse(pair).next().unwrap_or_default(),
            };
            [key, value]
        })
}

/// Records every object key and string leaf of a JSON document, nested
/// ones included. Numbers, booleans and nulls carry no text an injection
/// could use once deserialized as such, so they are skipped.
pub(crate) fn record_json(source: &'static SourceMeta, value: &Value) {
    RequestContext::with_current(|ctx| {
        if let Some(ctx) = ctx {
            // An explicit stack: serde_json bounds nesting already, but the
            // walk should not depend on that to stay off the call stack.
            let mut pending = vec![Node::Value(value)];
            while let Some(node) = pending.pop() {
                let text = match node {
                    Node::Key(key) => key,
                    Node::Value(Value::String(s)) => s,
                    Node::Value(Value::Array(items)) => {
                        pending.extend(items.iter().rev().map(Node::Value));
                        continue;
                    }
                    Node::Value(Value::Object(map)) => {
                        for (key, item) in map.iter().rev() {
                            pending.push(Node::Value(item));
                            pending.push(Node::Key(key));
                        }
                        continue;
                    }
                    Node::Value(Value::Null | Value::Bool(_) | Value::Number(_)) => continue,
                };
                let full = is_full(ctx);
                // Past the cap this call only counts the drop (and reports
                // it once); the rest of the document is not walked.
                ctx.record_input(source, text.as_bytes());
                if full {
                    break;
                }
            }
        }
    });
}

enum Node<'a> {
    Key(&'a str),
    Value(&'a Value),
}

/// Records `input` in `ctx`, the context an extractor captured, rather than
/// whichever is current when a header or cookie is finally read.
pub(crate) fn record_in(
    ctx: Option<&Arc<RequestContext>>,
    source: &'static SourceMeta,
    input: &[u8],
) {
    if let Some(ctx) = ctx {
        ctx.record_input(source, input);
    }
}

fn is_full(ctx: &RequestContext) -> bool {
    ctx.input_count() >= ctx.limits().max_inputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::InputLimits;

    fn recorded(ctx: &RequestContext) -> Vec<String> {
        ctx.inputs()
            .map(|i| String::from_utf8_lossy(i.bytes()).into_owned())
            .collect()
    }

    #[test]
    fn json_keys_and_nested_strings_are_recorded_in_document_order() {
        let ctx = RequestContext::new();
        let doc = serde_json::json!({
            "user": { "name": "ann", "tags": ["a", 1, null, true, { "deep": "x' OR 1=1" }] },
            "n": 5
        });
        ctx.scope(|| record_json(&crate::sources::JSON, &doc));
        assert_eq!(
            recorded(&ctx),
            ["n", "user", "name", "ann", "tags", "a", "deep", "x' OR 1=1"]
        );
    }

    #[test]
    fn walks_stop_at_the_count_cap_and_count_one_drop() {
        let ctx = RequestContext::builder()
            .limits(InputLimits {
                max_inputs: 3,
                max_total_bytes: 1024,
            })
            .build();
        let doc = Value::Array(
            (0..100_000)
                .map(|i| Value::String(format!("s{i}")))
                .collect(),
        );
        ctx.scope(|| record_json(&crate::sources::JSON, &doc));
        assert_eq!(recorded(&ctx), ["s0", "s1", "s2"]);
        assert_eq!(ctx.dropped_inputs(), 1);
    }

    #[test]
    fn form_pairs_are_recorded_decoded() {
        let ctx = RequestContext::new();
        ctx.scope(|| record_form_pairs(&crate::sources::FORM, b"na%6De=O%27Brien&q=a+b&bad=%FF"));
        assert_eq!(
            recorded(&ctx),
            ["name", "O'Brien", "q", "a b", "bad", "\u{fffd}"]
        );
    }

    /// `form_urlencoded` is the oracle: the same fields, decoded the same
    /// way, on texts built from the bytes that matter to the parser.
    #[test]
    fn form_fields_match_form_urlencoded() {
        use proptest::prelude::*;
        let byte = prop_oneof![
            Just(b'&'),
            Just(b'='),
            Just(b'%'),
            Just(b'+'),
            Just(b'a'),
            Just(b'F'),
            Just(b'2'),
            Just(0xc3),
            Just(0xa9),
            any::<u8>(),
        ];
        proptest!(|(encoded in proptest::collection::vec(byte, 0..40))| {
            let fast: Vec<Cow<'_, str>> = form_fields(&encoded).collect();
            let oracle: Vec<Cow<'_, str>> = form_urlencoded::parse(&encoded)
                .flat_map(|(key, value)| [key, value])
                .collect();
            prop_assert_eq!(fast, oracle);
        });
        let fields: Vec<Cow<'_, str>> = form_fields(b"q=kettle&&page=2&flag&a=b=c").collect();
        assert_eq!(fields, ["q", "kettle", "page", "2", "flag", "", "a", "b=c"]);
        assert!(fields.iter().all(|f| matches!(f, Cow::Borrowed(_))));
    }

    #[test]
    fn nothing_is_recorded_outside_a_context() {
        record_form_pairs(&crate::sources::QUERY, b"a=b");
        assert!(RequestContext::current().is_none());
    }
}
