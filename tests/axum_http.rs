//! rasp in an axum app, through real HTTP.
