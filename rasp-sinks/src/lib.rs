//! Guarded integrations of rasp.
#[cfg(any(feature = "header", feature = "log", feature = "fs"))]
#[macro_use]
mod text;
#[cfg(feature = "process")]
pub mod command;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "header")]
pub mod header;
#[cfg(feature = "html")]
pub mod html;
#[cfg(feature = "reqwest")]
pub mod http_client;
#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "redirect")]
pub mod redirect;
#[cfg(any(feature = "process", feature = "fs", feature = "reqwest"))]
mod refusal;
#[cfg(feature = "sqlx")]
pub mod sqlx;
