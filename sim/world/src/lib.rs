//! The deterministic world: one button, one phone app, the air between them and the
//! simulated phone platform, driven by a discrete-event scheduler in virtual time.
//!
//! - [`sched`]: virtual clock and event queue; [`rng`]: seeded streams;
//! - [`link`]: the virtual BLE link; [`platform`]: SMS network, telephony, GPS, storage;
//! - [`hand`]: the model of the wearer's hand;
//! - [`simulation`]: ties button, link, phone and platform together;
//! - [`timeline`]: what happened, rendered for humans, snapshots and determinism checks;
//! - [`capture`]: the air's traffic as btsnoop;
//! - [`virtual_client`]: the GATT-client port over the simulated air; [`conformance`]:
//!   the port's conformance suite.
//!
//! No wall clock, no thread RNG, no cucumber, clap or tokio here.

pub mod capture;
pub mod conformance;
pub mod hand;
pub mod link;
pub mod platform;
pub mod rng;
pub mod sched;
pub mod simulation;
pub mod timeline;
pub mod virtual_client;

pub use sim_traces as trace;

/// Errors of the world.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A device profile problem.
    #[error(transparent)]
    Device(#[from] device_model::DeviceError),
    /// A phone configuration problem.
    #[error(transparent)]
    Phone(#[from] phone::PhoneError),
    /// A scenario set-up problem.
    #[error("{0}")]
    Setup(String),
    /// A trace cannot be read.
    #[error(transparent)]
    Trace(#[from] sim_traces::TraceError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
