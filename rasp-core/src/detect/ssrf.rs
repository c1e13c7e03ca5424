//! Server-side request forgery detector.
