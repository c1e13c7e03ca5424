//! Runs the shop on 127.0.0.1 and prints `listening on http://ADDR` once
//! bound. `--port N` (or `PORT`) picks the port, 0 (any free one) by
//! default.
//!
//! Built with the `protected` feature (the default) the shop installs its
//! policy and runs its guarded sinks under `RaspLayer`; built with
//! `--no-default-features` it runs the same handlers through plain sinks,
//! really vulnerable. The choice is made at build time so that a vulnerable
//! binary cannot be turned on by a stray flag in production.

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: rasp-example-shop [--port N]";

/// The command line: `--port N`, or `PORT` from the environment.
fn port(args: &[String]) -> Result<u16, String> {
    let mut port = std::env::var("PORT").ok();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().ok_or("--port needs a value")?.clone()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    match port {
        None => Ok(0),
        Some(text) => text
            .parse()
            .map_err(|_| format!("the port must be a number from 0 to 65535, not `{text}`")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port(&args) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match serve(port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(port: u16) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let protected = cfg!(feature = "protected");
    if protected {
        rasp_example_shop::install_policy()?;
    }
    let shop = rasp_example_shop::Shop::open(protected).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        shop.router()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
