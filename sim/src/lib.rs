//! placeholder

pub mod falls_eval;
pub mod trace;
pub mod tracegen;
