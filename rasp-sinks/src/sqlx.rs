//! sqlx guard (placeholder).
