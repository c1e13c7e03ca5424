//! Entry evaluation with the fleet tier.
fn main() {}
