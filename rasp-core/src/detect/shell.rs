//! Shell command injection detector.
