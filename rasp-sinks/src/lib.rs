//! Guarded integrations of rasp.
#[cfg(feature = "header")]
pub mod header;
#[cfg(feature = "redirect")]
pub mod redirect;
#[cfg(feature = "sqlx")]
pub mod sqlx;
