//! Judging what each build did with a request: whether an attack's real
//! effect shows (unprotected), what rasp decided (protected), and whether
//! the row passes the demo's gate.
//!
//! The unprotected shop is judged by effects, never by status codes: a 200
//! says nothing about whether rows leaked, while the admin's API key in the
//! body, a marker file on disk or a hit on the metadata stand-in does.

use std::time::Duration;

use super::http::Response;

/// What a request is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    /// A request a real user could send, often one that looks like an
    /// attack to a naive filter.
    Benign,
    /// A real attack.
    Attack,
}

impl Expected {
    /// `benign` or `attack`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Expected::Benign => "benign",
            Expected::Attack => "attack",
        }
    }
}

/// How a request's outcome is recognised: for a benign request, what being
/// served looks like; for an attack, the real effect that shows it worked.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// Served with this status (benign requests).
    Served(u16),
    /// A login answered with its redirect: the user is in.
    LoggedIn,
    /// The body contains this text (leaked rows, a file's content, a script).
    BodyContains(&'static str),
    /// The body lists exactly these products (a blind probe's true answer).
    BodyIs(&'static str),
    /// The answer took at least this long (a time-based blind probe).
    SlowerThan(Duration),
    /// `Location` leads to a host other than these.
    LocationOffSite(&'static [&'static str]),
    /// The header carries this text (attributes injected into a cookie).
    HeaderContains(&'static str, &'static str),
    /// The internal metadata stand-in received a request.
    InternalReached,
    /// The marker file the injected command writes exists.
    MarkerWritten,
    /// The audit log gained this exact line, which no event wrote.
    AuditLine(&'static str),
    /// Every one of a burst of requests was answered, none throttled.
    Unthrottled,
}

/// Everything observed around one scenario in one build.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observed {
    /// Every response, in order (one, or a burst).
    pub(crate) responses: Vec<Response>,
    /// Whether the internal stand-in was reached meanwhile.
    pub(crate) internal_reached: bool,
    /// Whether the shell marker file appeared.
    pub(crate) marker_written: bool,
    /// Lines the audit log gained.
    pub(crate) audit_lines: Vec<String>,
}

impl Observed {
    fn last(&self) -> Option<&Response> {
        self.responses.last()
    }
}

/// The evidence that `check` holds for `observed`, or `None`.
pub(crate) fn evidence(check: &Check, observed: &Observed) -> Option<String> {
    let last = observed.last()?;
    match check {
        Check::Served(status) => (last.status == *status).then(|| format!("served {status}")),
        Check::LoggedIn => (last.status == 303).then(|| "logged in without the key".to_owned()),
        Check::BodyContains(text) => last
            .body
            .contains(text)
            .then(|| format!("`{}` in the body", shorten(text, 28))),
        Check::BodyIs(text) => (last.body == *text).then(|| format!("answered {text}")),
        Check::SlowerThan(least) => (last.elapsed >= *least)
            .then(|| format!("answer delayed {} ms", last.elapsed.as_millis())),
        Check::LocationOffSite(own) => {
            let location = last.header("location")?;
            let host = location_host(location)?;
            (!own.iter().any(|h| h.eq_ignore_ascii_case(&host)))
                .then(|| format!("Location → {}", shorten(&host, 30)))
        }
        Check::HeaderContains(name, text) => last
            .header(name)
            .filter(|v| v.contains(text))
            .map(|_| format!("{name}: …{text}…")),
        Check::InternalReached => observed
            .internal_reached
            .then(|| "internal server reached".to_owned()),
        Check::MarkerWritten => observed
            .marker_written
            .then(|| "marker file written".to_owned()),
        Check::AuditLine(line) => observed
            .audit_lines
            .iter()
            .any(|l| l == line)
            .then(|| format!("forged line `{}`", tail(line, 20))),
        Check::Unthrottled => (!observed.responses.iter().any(|r| r.status == 429)).then(|| {
            format!(
                "{}/{} guesses answered",
                observed.responses.len(),
                observed.responses.len()
            )
        }),
    }
}

/// The host a browser goes to for `location`, lowercase, or `None` for a
/// reference that stays on the site. `//host` counts as a host, and so
/// does `/\host` (browsers read `\` as `/`).
fn location_host(location: &str) -> Option<String> {
    let normalized = location.trim().replace('\\', "/");
    let rest = match normalized.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => rest,
        _ => normalized.strip_prefix("//")?,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // The host is after any userinfo, before any port.
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    Some(host.to_ascii_lowercase())
}

/// A security event the protected shop wrote (one JSON line on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// `rasp.request.id`.
    pub(crate) request_id: String,
    /// `rasp.action`: `block`, `monitor` or `allow`; empty for entry events.
    pub(crate) action: String,
    /// `rasp.sink.kind`, or the entry rule for entry events.
    pub(crate) what: String,
    /// `rasp.reason`, when there is one.
    pub(crate) reason: String,
}

/// Reads the events in the protected shop's stderr; other lines are skipped.
pub(crate) fn events(stderr: &str) -> Vec<Event> {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|event| {
            let fields = event.get("fields")?;
            let text = |name: &str| {
                fields
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let request_id = text("rasp.request.id");
            if request_id.is_empty() {
                return None;
            }
            let kind = text("rasp.sink.kind");
            Some(Event {
                request_id,
                action: text("rasp.action"),
                what: if kind.is_empty() {
                    text("rasp.entry.rule")
                } else {
                    kind
                },
                reason: text("rasp.reason"),
            })
        })
        .collect()
}

/// What the protected build did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A sink or an entry rule refused it with a 403.
    Blocked {
        /// The request id named in the 403 body.
        request_id: String,
        /// The event's sink class and reason, when one was found.
        detail: String,
    },
    /// An entry rate limit answered 429.
    Throttled {
        /// The request id named in the 429 body.
        request_id: String,
    },
    /// Served, and rasp reported a detection without refusing.
    Monitored {
        /// The event's request id.
        request_id: String,
        /// The event's sink class and reason.
        detail: String,
    },
    /// Served, nothing reported.
    Allowed,
}

impl Verdict {
    /// Whether rasp stopped the request.
    pub(crate) fn stopped(&self) -> bool {
        matches!(self, Verdict::Blocked { .. } | Verdict::Throttled { .. })
    }
}

/// What rasp did with the requests whose ids are `request_ids` (sent in
/// order; `observed.responses` answers them), judged from the answers and
/// the events.
pub(crate) fn verdict(observed: &Observed, request_ids: &[String], events: &[Event]) -> Verdict {
    let detail = |id: &str| {
        events
            .iter()
            .find(|e| e.request_id == id)
            .map(|e| match e.reason.is_empty() {
                true => e.what.clone(),
                false => format!("{} {}", e.what, e.reason),
            })
            .unwrap_or_default()
    };
    for response in &observed.responses {
        let request_id = refusal_id(response);
        match (response.status, request_id) {
            (403, Some(request_id)) => {
                let detail = detail(&request_id);
                return Verdict::Blocked { request_id, detail };
            }
            (429, Some(request_id)) => return Verdict::Throttled { request_id },
            _ => {}
        }
    }
    request_ids
        .iter()
        .find_map(|id| {
            events
                .iter()
                .find(|e| &e.request_id == id && e.action == "monitor")
                .map(|_| Verdict::Monitored {
                    request_id: id.clone(),
                    detail: detail(id),
                })
        })
        .unwrap_or(Verdict::Allowed)
}

/// The request id of one of rasp's refusal bodies
/// (`{"error":"forbidden"|"too_many_requests","request_id":"…"}`).
fn refusal_id(response: &Response) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(&response.body).ok()?;
    let error = body.get("error")?.as_str()?;
    if error != "forbidden" && error != "too_many_requests" {
        return None;
    }
    Some(body.get("request_id")?.as_str()?.to_owned())
}

/// One build's cell of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    /// What happened, in a few words.
    pub(crate) text: String,
    /// Whether this is the outcome the demo expects of this build.
    pub(crate) as_expected: bool,
}

/// The unprotected build's cell: the attack's effect shown (expected), or a
/// benign request served.
pub(crate) fn unprotected_cell(expected: Expected, check: &Check, observed: &Observed) -> Cell {
    let status = observed.last().map_or(0, |r| r.status);
    match (expected, evidence(check, observed)) {
        (Expected::Attack, Some(evidence)) => Cell {
            text: format!("EXPLOITED: {evidence}"),
            as_expected: true,
        },
        (Expected::Attack, None) => Cell {
            text: format!("no effect seen ({status})"),
            as_expected: false,
        },
        (Expected::Benign, Some(evidence)) => Cell {
            text: evidence,
            as_expected: true,
        },
        (Expected::Benign, None) => Cell {
            text: format!("not served ({status})"),
            as_expected: false,
        },
    }
}

/// The protected build's cell: an attack stopped with no effect, or a
/// benign request served and not reported.
pub(crate) fn protected_cell(
    expected: Expected,
    check: &Check,
    observed: &Observed,
    verdict: &Verdict,
) -> Cell {
    let effect = evidence(check, observed);
    let status = observed.last().map_or(0, |r| r.status);
    let text = match verdict {
        Verdict::Blocked { request_id, detail } if detail.is_empty() => {
            format!("blocked [{request_id}]")
        }
        Verdict::Blocked { request_id, detail } => format!("blocked {detail} [{request_id}]"),
        Verdict::Throttled { request_id } => {
            let served = observed
                .responses
                .iter()
                .filter(|r| r.status != 429)
                .count();
            format!("throttled after {served} [{request_id}]")
        }
        Verdict::Monitored { request_id, detail } => format!("monitored {detail} [{request_id}]"),
        Verdict::Allowed => match (&effect, expected) {
            (Some(evidence), Expected::Benign) => format!("allowed: {evidence}"),
            _ => format!("allowed ({status})"),
        },
    };
    let as_expected = match expected {
        // Stopped, and nothing of the attack happened anyway (a refusal
        // after the damage would not count).
        Expected::Attack => verdict.stopped() && effect.is_none(),
        Expected::Benign => *verdict == Verdict::Allowed && effect.is_some(),
    };
    match (expected, as_expected, verdict.stopped()) {
        (Expected::Attack, false, true) => Cell {
            text: format!("{text}, yet {}", effect.unwrap_or_default()),
            as_expected,
        },
        (Expected::Attack, false, false) => Cell {
            text: format!("GOT THROUGH: {text}"),
            as_expected,
        },
        _ => Cell { text, as_expected },
    }
}

/// The end of `text`, at most `max` characters, with `…` before it when
/// cut: the end of a forged log line is what tells.
fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let mut cut = String::from("…");
    cut.extend(text.chars().skip(count - max.saturating_sub(1)));
    cut
}

/// `text`, cut to `max` characters with `…`.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { '⏎' } else { c })
        .collect();
    if printable.chars().count() <= max {
        printable
    } else {
        let mut cut: String = printable.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
            elapsed: Duration::from_millis(3),
        }
    }

    fn observed(responses: Vec<Response>) -> Observed {
        Observed {
            responses,
            ..Observed::default()
        }
    }

    const OWN: &[&str] = &["partner.shop.example"];

    #[test]
    fn off_site_locations_are_recognised_however_spelt() {
        for location in [
            "https://evil.example/phish",
            "//evil.example/",
            "/\\evil.example",
            "https://partner.shop.example@evil.example/",
            "HTTPS://EVIL.EXAMPLE:8443",
        ] {
            let seen = observed(vec![response(303, &[("location", location)], "")]);
            let found = evidence(&Check::LocationOffSite(OWN), &seen);
            assert!(
                found.is_some_and(|e| e.contains("evil.example")),
                "{location}"
            );
        }
        for location in [
            "/orders",
            "/welcome?from=https://evil.example",
            "https://partner.shop.example/a",
        ] {
            let seen = observed(vec![response(303, &[("location", location)], "")]);
            assert_eq!(
                evidence(&Check::LocationOffSite(OWN), &seen),
                None,
                "{location}"
            );
        }
        // No Location at all is no redirect.
        let seen = observed(vec![response(403, &[], "")]);
        assert_eq!(evidence(&Check::LocationOffSite(OWN), &seen), None);
    }

    #[test]
    fn audit_lines_must_match_whole() {
        let check = Check::AuditLine("t=1 login ok user=admin");
        let mut seen = observed(vec![response(401, &[], "")]);
        // A bypass logs the typed name, which merely contains the text.
        seen.audit_lines = vec!["t=9 login ok user=admin' --".to_owned()];
        assert_eq!(evidence(&check, &seen), None);
        seen.audit_lines.push("t=1 login ok user=admin".to_owned());
        assert!(evidence(&check, &seen).is_some());
    }

    #[test]
    fn bursts_count_as_throttled_only_with_a_429() {
        let answered = observed(vec![response(401, &[], ""); 5]);
        assert_eq!(
            evidence(&Check::Unthrottled, &answered).as_deref(),
            Some("5/5 guesses answered")
        );
        let mut throttled = answered.clone();
        throttled.responses.push(response(
            429,
            &[],
            r#"{"error":"too_many_requests","request_id":"demo-7"}"#,
        ));
        assert_eq!(evidence(&Check::Unthrottled, &throttled), None);
        assert_eq!(
            verdict(&throttled, &[], &[]),
            Verdict::Throttled {
                request_id: "demo-7".to_owned()
            }
        );
    }

    #[test]
    fn only_rasp_refusals_count_as_blocked() {
        let event = Event {
            request_id: "demo-3".to_owned(),
            action: "block".to_owned(),
            what: "sql".to_owned(),
            reason: "breaks_literal".to_owned(),
        };
        let refused = observed(vec![response(
            403,
            &[],
            r#"{"error":"forbidden","request_id":"demo-3"}"#,
        )]);
        assert_eq!(
            verdict(
                &refused,
                &["demo-3".to_owned()],
                std::slice::from_ref(&event)
            ),
            Verdict::Blocked {
                request_id: "demo-3".to_owned(),
                detail: "sql breaks_literal".to_owned()
            }
        );
        // A 403 of the application's own is not rasp's doing.
        let other = observed(vec![response(403, &[], "no")]);
        assert_eq!(
            verdict(&other, &["demo-3".to_owned()], &[]),
            Verdict::Allowed
        );
        // Served with a monitor event: monitored.
        let monitored_event = Event {
            action: "monitor".to_owned(),
            ..event
        };
        let served = observed(vec![response(200, &[], "[]")]);
        assert!(matches!(
            verdict(&served, &["demo-3".to_owned()], &[monitored_event]),
            Verdict::Monitored { .. }
        ));
    }

    #[test]
    fn an_attack_passes_only_when_stopped_without_effect() {
        let check = Check::BodyContains("key-admin");
        let blocked = Verdict::Blocked {
            request_id: "d".to_owned(),
            detail: String::new(),
        };
        let refused = observed(vec![response(403, &[], r#"{"error":"forbidden"}"#)]);
        assert!(protected_cell(Expected::Attack, &check, &refused, &blocked).as_expected);
        let leaked = observed(vec![response(200, &[], r#"["key-admin-91c2"]"#)]);
        let cell = protected_cell(Expected::Attack, &check, &leaked, &Verdict::Allowed);
        assert!(
            !cell.as_expected && cell.text.starts_with("GOT THROUGH"),
            "{cell:?}"
        );
        // Stopped too late: the internal server was reached before the refusal.
        let mut late = refused.clone();
        late.internal_reached = true;
        let cell = protected_cell(Expected::Attack, &Check::InternalReached, &late, &blocked);
        assert!(!cell.as_expected, "{cell:?}");
        // A monitored attack got through.
        let monitored = Verdict::Monitored {
            request_id: "d".to_owned(),
            detail: "sql".to_owned(),
        };
        assert!(!protected_cell(Expected::Attack, &check, &refused, &monitored).as_expected);
    }

    #[test]
    fn a_benign_request_passes_only_when_served_and_unreported() {
        let check = Check::Served(200);
        let served = observed(vec![response(200, &[], "ok")]);
        assert!(protected_cell(Expected::Benign, &check, &served, &Verdict::Allowed).as_expected);
        let blocked = Verdict::Blocked {
            request_id: "d".to_owned(),
            detail: String::new(),
        };
        assert!(!protected_cell(Expected::Benign, &check, &served, &blocked).as_expected);
        let failed = observed(vec![response(500, &[], "")]);
        assert!(!protected_cell(Expected::Benign, &check, &failed, &Verdict::Allowed).as_expected);
    }

    #[test]
    fn an_attack_without_effect_unprotected_is_flagged() {
        let check = Check::MarkerWritten;
        let nothing = observed(vec![response(200, &[], "exported")]);
        let cell = unprotected_cell(Expected::Attack, &check, &nothing);
        assert!(!cell.as_expected, "{cell:?}");
        let mut written = nothing.clone();
        written.marker_written = true;
        let cell = unprotected_cell(Expected::Attack, &check, &written);
        assert_eq!(cell.text, "EXPLOITED: marker file written");
    }

    #[test]
    fn events_are_read_from_json_lines() {
        let stderr = concat!(
            "not json\n",
            r#"{"fields":{"message":"policy installed","rasp.policy.revision":1}}"#,
            "\n",
            r#"{"fields":{"rasp.request.id":"demo-2","rasp.action":"block","rasp.sink.kind":"path","rasp.reason":"escapes_root"}}"#,
            "\n",
        );
        assert_eq!(
            events(stderr),
            [Event {
                request_id: "demo-2".to_owned(),
                action: "block".to_owned(),
                what: "path".to_owned(),
                reason: "escapes_root".to_owned(),
            }]
        );
    }

    #[test]
    fn shorten_cuts_and_shows_line_breaks() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("a\nb", 5), "a⏎b");
        assert_eq!(tail("t=1 login ok user=admin", 11), "…user=admin");
        assert_eq!(tail("short", 11), "short");
    }
}
