//! Attacks on this surface; see the suite's overview in `main.rs`.
