//! placeholder

pub mod power;
