//! Guarded integrations of rasp.
#[cfg(feature = "sqlx")]
pub mod sqlx;
