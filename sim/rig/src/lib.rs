//! Hardware in the loop (feature `hil`): the btleplug-backed GATT client, scans and rig
//! runs of `@hil` scenarios against a real button. Without the feature this crate is
//! empty, so the default build needs no system library and no Bluetooth.

#[cfg(feature = "hil")]
pub mod hil;

#[cfg(feature = "hil")]
pub(crate) use sim_steps::{runner, steps};
#[cfg(feature = "hil")]
pub(crate) use sim_world::simulation;
