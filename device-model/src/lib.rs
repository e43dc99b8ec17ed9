//! placeholder

pub mod accel;
pub mod fall;
