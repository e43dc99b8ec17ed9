//! sim binary
fn main() {}
