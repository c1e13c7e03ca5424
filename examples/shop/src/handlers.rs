//! The shop's handlers. Each takes its input through a tainting extractor,
//! vouches for it unchecked (the bug), and hands it to a guarded sink when
//! protected or to the plain one otherwise.
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
    Avatars, Shop, ShopError, vouched_header, vouched_html, vouched_path, vouched_redirect,
    vouched_shell, vouched_sql, vouched_url,
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

impl Shop {
    /// The query as the protected shop sends it (checked by rasp in the
    /// database's dialect) or as the unprotected one does.
    fn query(&self, sql: String) -> Result<Query, ShopError> {
        if self.protected {
            Ok(Query::Checked(rasp::sql_for(self.db.dialect(), sql)?))
        } else {
            Ok(Query::Unchecked(sql))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct Search {
    q: String,
}

/// `GET /search?q=`: product names matching `q`, the SQL built with
/// `format!` (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/search"))]
pub(crate) async fn search(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Search>,
) -> Result<Json<Vec<String>>, ShopError> {
    let q = vouched_sql(query.map(|s| s.q));
    let sql = format!("SELECT name FROM products WHERE name LIKE '%{q}%' ORDER BY id");
    Ok(Json(shop.db.texts(shop.query(sql)?).await?))
}

/// `GET /files/{*path}`: a download under `files/`, the path joined as
/// given (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/files/{*path}"))]
pub(crate) async fn download(
    State(shop): State<Shop>,
    TaintedPath(path): TaintedPath<String>,
) -> Result<Vec<u8>, ShopError> {
    let path = vouched_path(path);
    if shop.protected {
        shop.root
            .read(&path)
            .map_err(|err| ShopError::refused_or(err.blocked(), ShopError::NotFound))
    } else {
        std::fs::read(shop.files.join(&path)).map_err(|_| ShopError::NotFound)
    }
}

#[derive(Deserialize)]
pub(crate) struct Export {
    name: String,
}

/// `GET /export?name=`: writes an order report to `exports/<name>.csv`
/// through `sh -c`, the name spliced into the script (the bug).
#[cfg_attr(feature = "protected", rasp::protect(route = "/export"))]
pub(crate) async fn export(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Export>,
) -> Result<String, ShopError> {
    let name = vouched_shell(query.map(|e| e.name));
    let script = format!("echo 'order report' > exports/{name}.csv; echo exported");
    let mut command = if shop.protected {
        rasp::process::shell(script)?.std()
    } else {
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

/// `POST /login` (form): checks the user's API key with SQL built by
/// `format!`, writes the outcome to the audit log with the name as typed,
/// then redirects to `next` as given (three bugs).
#[cfg_attr(feature = "protected", rasp::protect(route = "/login"))]
pub(crate) async fn login(
    State(shop): State<Shop>,
    TaintedForm(form): TaintedForm<Login>,
) -> Result<Response, ShopError> {
    let next = vouched_redirect(form.as_ref().map(|l| l.next.clone()));
    let Login { name, key, .. } = vouched_sql(form);
    let sql = format!("SELECT name FROM users WHERE name = '{name}' AND api_key = '{key}'");
    let user = shop.db.text(shop.query(sql)?).await?;
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

/// `GET /lang?lang=`: remembers the language in a cookie, the value
/// spliced into `Set-Cookie` (the bug), and goes back to the front page.
#[cfg_attr(feature = "protected", rasp::protect(route = "/lang"))]
pub(crate) async fn lang(
    State(shop): State<Shop>,
    TaintedQuery(query): TaintedQuery<Lang>,
) -> Result<Response, ShopError> {
    let lang = vouched_header(query.map(|l| l.lang));
    let cookie = format!("lang={lang}; Path=/; HttpOnly");
    let cookie = if shop.protected {
        rasp::header::set_cookie(cookie)?
    } else {
        plain_header(&cookie)?
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
