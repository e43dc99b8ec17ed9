//! placeholder

pub mod battery;
