//! Path traversal detector.
