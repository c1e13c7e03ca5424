//! Runs the shop on 127.0.0.1 and prints `listening on http://ADDR` once
//! bound.
//!
//! ```text
//! rasp-example-shop [--port N] [--avatar-host NAME] [--avatar-addr IP:PORT] [--audit-log PATH]
//! ```
//!
//! Each option can also come from the environment: `PORT`,
//! `SHOP_AVATAR_HOST`, `SHOP_AVATAR_ADDR`, `SHOP_AUDIT_LOG`. `DATABASE_URL`
//! (`postgres://…`) puts the data in a fresh schema of that PostgreSQL
//! server instead of a temporary SQLite file; the schema is dropped when
//! the shop stops on Ctrl-C.
//!
//! Both builds log warnings and errors to stderr as JSON lines. Built with
//! the `protected` feature (the default) the shop installs its policy, runs
//! its guarded sinks under `RaspLayer` and logs rasp's security events
//! too; built with
//! `--no-default-features` it runs the same handlers through plain sinks,
//! really vulnerable. The choice is made at build time so that a vulnerable
//! binary cannot be turned on by a stray flag in production.

use std::net::SocketAddr;
use std::process::ExitCode;

use rasp_example_shop::{Options, Shop};

const USAGE: &str = "usage: rasp-example-shop [--port N] [--avatar-host NAME] \
                     [--avatar-addr IP:PORT] [--audit-log PATH]";

/// The command line, over the environment's defaults.
fn parse(args: &[String], protected: bool) -> Result<(u16, Options), String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut port = env("PORT");
    let mut avatar_host = env("SHOP_AVATAR_HOST");
    let mut avatar_addr = env("SHOP_AVATAR_ADDR");
    let mut audit_log = env("SHOP_AUDIT_LOG");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--port" => &mut port,
            "--avatar-host" => &mut avatar_host,
            "--avatar-addr" => &mut avatar_addr,
            "--audit-log" => &mut audit_log,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        };
        *slot = Some(args.next().ok_or(format!("{arg} needs a value"))?.clone());
    }
    let port = match port {
        None => 0,
        Some(text) => text
            .parse()
            .map_err(|_| format!("the port must be a number from 0 to 65535, not `{text}`"))?,
    };
    let mut options = Options::new(protected);
    options.database_url = env("DATABASE_URL");
    if let Some(host) = avatar_host {
        options.avatar_host = host;
    }
    options.avatar_addr = avatar_addr
        .map(|text| {
            text.parse()
                .map_err(|_| format!("--avatar-addr must be IP:PORT, not `{text}`"))
        })
        .transpose()?;
    options.audit_log = audit_log.map(Into::into);
    Ok((port, options))
}

fn main() -> ExitCode {
    let protected = cfg!(feature = "protected");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, options) = match parse(&args, protected) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match serve(port, options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(
    port: u16,
    options: Options,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Warnings and errors as JSON lines, as a service in production logs
    // them, and one line per security event: the request id in each lets
    // an operator (or the demo) find why a request was refused. Both
    // builds log alike, so that comparing them measures rasp, not logging.
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "warn,rasp::security=info",
        ))
        .init();
    if options.protected {
        rasp_example_shop::install_policy()?;
    }
    let shop = Shop::open_with(options).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        shop.clone()
            .router()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    shop.close().await
}
