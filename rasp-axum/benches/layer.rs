//! Cost of the layer.
fn main() {}
