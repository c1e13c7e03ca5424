//! Runs the shop on 127.0.0.1. `--port N` (or `PORT`) picks the port, 0 by
//! default; `--unprotected` turns the guarded sinks off.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let unprotected = args.iter().any(|a| a == "--unprotected");
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("PORT").ok())
        .map(|p| p.parse::<u16>())
        .transpose()?
        .unwrap_or(0);
    if !unprotected {
        rasp_example_shop::install_policy()?;
    }
    let shop = rasp_example_shop::Shop::open(!unprotected).await?;
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
