//! The shop's handlers. Each takes its input through a tainting extractor.
//! Where a handler builds sink text (SQL, a shell script, a path, a
//! cookie), the protected shop builds it with rasp's span-exact macros,
//! which judge exactly the bytes each input wrote, and the unprotected
//! shop vouches for the input unchecked and splices it with `format!` (the
//! bug). Where the input is the whole sink value (an avatar URL, a
//! redirect target) or goes into markup or a log line, both vouch for it
//! unchecked, and the protected shop's guarded sink finds it verbatim in
//! what it is handed.
//!
//! Built with the `protected` feature, each handler runs under
//! `#[rasp::protect]`: it reuses the request context `RaspLayer` opened
//! (one request, one context) and adds a `rasp.protect` span naming the
//! route and the handler, so a refusal's security event says which
//! handler it happened in. A shop opened unprotected in that build runs
//! the same handlers, whose plain sinks never consult the context the
//! attribute opens there. Built without the feature, the attribute is not
//! there at all.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rasp::axum::{TaintedForm, TaintedPath, TaintedQuery};
use serde::Deserialize;

use crate::db::Query;
use crate::{
    Avatars, Shop, ShopError, vouched_header, vouched_html, vouched_log, vouched_path,
    vouched_redirect, vouched_shell, vouched_sql, vouched_url,
};

/// `GET /health`: `ok`, touching neither the database nor any sink.
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// A header value as the unprotected shop sets it: whatever the input
/// says, refused only when `http` cannot carry it at all.
fn plain_header(text: &str) -> Result<HeaderValue, ShopError> {
    HeaderValue::from_str(text).map_err(ShopError::internal)
}

#[derive(Deserialize)]
pub(crate) struct Search {
    q: String,
}

/// `GET /search?q=`: product names matching `q`. Protected, the SQL is
/// built by `rasp::sql!`; unprotected, by `format!` (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/search"))]
pub(crate) async fn search(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Search>,
) -> Result<Json<Vec<String>>, ShopError> {
    let q = query.map(|s| s.q);
    let query = if shop.protected {
        Query::Checked(rasp::sql!(
            "SELECT name FROM products WHERE name LIKE '%{}%' ORDER BY id",
            q
        )?)
    } else {
        let q = vouched_sql(q);
        Query::Unchecked(format!(
            "SELECT name FROM products WHERE name LIKE '%{q}%' ORDER BY id"
        ))
    };
    Ok(Json(shop.db.texts(query).await?))
}

/// `GET /files/{*path}`: a download from `files/`. Protected, the file
/// name is one segment under the folder (`rasp::path!`); unprotected, the
/// path is joined as given (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/files/{*path}"))]
pub(crate) async fn download(
    State(shop): State<Shop>,
    TaintedPath(path): TaintedPath<String>,
) -> Result<Vec<u8>, ShopError> {
    let file = if shop.protected {
        rasp::path!(shop.root, "{}", path)?
    } else {
        shop.files.join(vouched_path(path))
    };
    std::fs::read(file).map_err(|_| ShopError::NotFound)
}

#[derive(Deserialize)]
pub(crate) struct Export {
    name: String,
}

/// `GET /export?name=`: writes an order report to `exports/<name>.csv`
/// through `sh -c`. Protected, the script is built by `rasp::shell!`;
/// unprotected, the name is spliced in with `format!` (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/export"))]
pub(crate) async fn export(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Export>,
) -> Result<String, ShopError> {
    let name = query.map(|e| e.name);
    let mut command = if shop.protected {
        rasp::shell!("echo 'order report' > exports/{}.csv; echo exported", name)?.std()
    } else {
        let name = vouched_shell(name);
        let script = format!("echo 'order report' > exports/{name}.csv; echo exported");
        // The unguarded path on purpose: this is the bug the guard prevents.
        #[allow(clippy::disallowed_methods)]
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg(script);
        command
    };
    command.current_dir(shop.dir.path());
    // The shell blocks; keep it off the async workers.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(ShopError::internal)?
        .map_err(ShopError::internal)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[derive(Deserialize)]
pub(crate) struct Avatar {
    url: String,
}

/// `GET /avatar?url=`: fetches the user's avatar from `url` and passes it
/// on, whatever host the URL names (the bug). Protected, the guarded
/// client reaches public hosts, and an avatar on the shop's CDN is fetched
/// by its path from the CDN the shop knows: the CDN is internal, and the
/// guarded client refuses an internal host a user's URL names, on any
/// port.
#[cfg_attr(feature = "protected", rasp::protect(route = "/avatar"))]
pub(crate) async fn avatar(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Avatar>,
) -> Result<Response, ShopError> {
    let url = vouched_url(query.map(|a| a.url));
    let fetched = match &shop.avatars {
        Avatars::Guarded { client, host } => {
            let target = on_cdn(&url, host).unwrap_or(url);
            client.get(target).send().await.map_err(|err| {
                ShopError::refused_or(err.blocked(), ShopError::BadGateway(err.to_string()))
            })?
        }
        Avatars::Plain(client) => client
            .get(url)
            .send()
            .await
            .map_err(|err| ShopError::BadGateway(err.to_string()))?,
    };
    if !fetched.status().is_success() {
        return Err(ShopError::BadGateway(format!(
            "the avatar host answered {}",
            fetched.status()
        )));
    }
    let content_type = fetched
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let body = fetched
        .bytes()
        .await
        .map_err(|err| ShopError::BadGateway(err.to_string()))?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The shop's own URL for an avatar URL that names the CDN `host`: the
/// same path and query, on the CDN's default port.
fn on_cdn(url: &str, host: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let named = parsed.host_str()?.trim_end_matches('.');
    if !named.eq_ignore_ascii_case(host) || !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let query = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!("http://{host}{}{query}", parsed.path()))
}

#[derive(Deserialize)]
pub(crate) struct Login {
    name: String,
    key: String,
    next: String,
}

/// Where a login may send the browser besides the shop itself.
const PARTNER_HOST: &str = "partner.shop.example";

/// `POST /login` (form): checks the user's API key with SQL (built by
/// `rasp::sql!` when protected, by `format!` otherwise: the bug), writes
/// the outcome to the audit log with the name as typed, then redirects to
/// `next` as given (two more bugs).
#[cfg_attr(feature = "protected", rasp::protect(route = "/login"))]
pub(crate) async fn login(
    State(shop): State<Shop>,
    TaintedForm(form): TaintedForm<Login>,
) -> Result<Response, ShopError> {
    let next = vouched_redirect(form.as_ref().map(|l| l.next.clone()));
    let name = form.as_ref().map(|l| l.name.clone());
    let key = form.map(|l| l.key);
    let query = if shop.protected {
        Query::Checked(rasp::sql!(
            "SELECT name FROM users WHERE name = '{}' AND api_key = '{}'",
            name.clone(),
            key
        )?)
    } else {
        let (name, key) = (vouched_sql(name.clone()), vouched_sql(key));
        Query::Unchecked(format!(
            "SELECT name FROM users WHERE name = '{name}' AND api_key = '{key}'"
        ))
    };
    let user = shop.db.text(query).await?;
    let name = vouched_log(name);
    let outcome = if user.is_some() { "ok" } else { "failed" };
    shop.audit(format!("login {outcome} user={name}"))?;
    if user.is_none() {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    }
    let location = if shop.protected {
        rasp::redirect::RedirectPolicy::same_site()
            .allow_host(PARTNER_HOST)
            .location(next)?
            .into()
    } else {
        plain_header(&next)?
    };
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

impl Shop {
    /// Appends `t=<unix seconds> <event>` to the audit log. Protected, the
    /// line is checked first, so an input cannot write lines of its own.
    fn audit(&self, event: String) -> Result<(), ShopError> {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let line = format!("t={seconds} {event}\n");
        let line = if self.protected {
            rasp::log::line(line)?.into_inner()
        } else {
            line
        };
        let _whole = self.audit_log.lock.lock();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.audit_log.path)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .map_err(|err| ShopError::internal(format_args!("cannot write the audit log: {err}")))
    }
}

#[derive(Deserialize)]
pub(crate) struct Profile {
    name: String,
    bio: String,
}

/// The profile preview page; `card` is markup the handler built.
#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<C: std::fmt::Display> {
    card: C,
}

/// `GET /profile?name=&bio=`: a preview of the user's profile card, the
/// display name and bio spliced into markup with `format!` (the bug).
/// Protected, the markup is checked before the page renders it.
#[cfg_attr(feature = "protected", rasp::protect(route = "/profile"))]
pub(crate) async fn profile(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Profile>,
) -> Result<Html<String>, ShopError> {
    let Profile { name, bio } = vouched_html(query);
    let card = format!("<h1 class=\"name\">{name}</h1>\n<p class=\"bio\">{bio}</p>");
    let page = if shop.protected {
        ProfilePage {
            card: rasp::html::raw(card)?,
        }
        .render()
    } else {
        ProfilePage { card }.render()
    };
    page.map(Html).map_err(ShopError::internal)
}

#[derive(Deserialize)]
pub(crate) struct Lang {
    lang: String,
}

/// `GET /lang?lang=`: remembers the language in a cookie and goes back to
/// the front page. Protected, the cookie is built by `rasp::header!`, which
/// keeps the value one parameter; unprotected, the value is spliced into
/// `Set-Cookie` with `format!` (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/lang"))]
pub(crate) async fn lang(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Lang>,
) -> Result<Response, ShopError> {
    let lang = query.map(|l| l.lang);
    let cookie = if shop.protected {
        rasp::header!("lang={}; Path=/; HttpOnly", lang)?
    } else {
        let lang = vouched_header(lang);
        plain_header(&format!("lang={lang}; Path=/; HttpOnly"))?
    };
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, HeaderValue::from_static("/")),
        ],
    )
        .into_response())
}
