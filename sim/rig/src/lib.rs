//! Hardware in the loop: `@hil` scenarios run against a real button, through the same
//! step parser and the same Then checks as the simulator.
//!
//! - [`rig`] (always built): the rig runner, generic over the BLE central
//!   ([`phone::GattClient`] plus [`rig::RigLink`]) and over its clock ([`rig::Clock`]),
//!   so that it also runs — and is tested — against the simulator's virtual central;
//! - [`serve`] (always built): the simulated button hosted as a BLE peripheral on the
//!   wall clock, behind a port (`sim hil serve`);
//! - [`hil`] (cargo feature `hil`): the btleplug central ([`hil::BtleClient`]), scans,
//!   and `sim hil run` on the wall clock. Only this part needs btleplug and BlueZ.

pub mod rig;
pub mod serve;

#[cfg(feature = "hil")]
pub mod hil;

/// Errors of rig runs and of the hardware central.
#[derive(Debug, thiserror::Error)]
pub enum HilError {
    /// No usable adapter: no system bus, no BlueZ, or no controller.
    #[error("no Bluetooth adapter: {0}")]
    NoAdapter(String),
    /// The adapter refused or failed an operation.
    #[error("Bluetooth: {0}")]
    Bluetooth(String),
    /// The operation needs a connection to this device.
    #[error("not connected to {0}")]
    NotConnected(String),
    /// The device did not show up or could not be reached.
    #[error("device {0} not found or not reachable")]
    DeviceNotFound(String),
    /// The async runtime could not be built or stopped.
    #[error("async runtime: {0}")]
    Runtime(String),
    /// A feature file could not be read or parsed.
    #[error("{path}: {message}")]
    Feature {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A run option is missing or invalid.
    #[error("{0}")]
    Usage(String),
}
