//! The deterministic world: one button, one phone app, the air between them and the
//! simulated phone platform, driven by a discrete-event scheduler in virtual time.
//!
//! - [`sched`]: virtual clock and event queue; [`rng`]: seeded streams; `shared`: the
//!   clock, queue and journal the parts share;
//! - [`link`]: the virtual BLE link's timing; [`air`]: the one air between button and
//!   phone (button model, link, delivery), the phone's GATT-client port; [`attacker`]: a
//!   second central in that air, without the key, and a sniffer;
//! - [`platform`]: SMS network, telephony, GPS, storage, the phone's platform port;
//! - [`hand`]: the model of the wearer's hand;
//! - [`simulation`]: the run loop and the wearer's and harness's verbs; `replay`: trace
//!   replay;
//! - [`timeline`]: what happened, rendered for humans, snapshots and determinism checks,
//!   each entry a typed [`observed::Observed`]; [`series`]: the same, structured, for
//!   reports;
//! - [`capture`]: the air's traffic as btsnoop;
//! - [`virtual_client`]: the air as a stand-alone GATT client; [`conformance`]: the
//!   port's conformance suite.
//!
//! No wall clock, no thread RNG, no cucumber, clap or tokio here.

pub mod air;
pub mod capture;
pub mod conformance;
pub mod fall_probe;
pub mod hand;
pub mod link;
pub mod observed;
pub mod platform;
mod replay;
pub mod rng;
pub mod sched;
pub mod series;
mod shared;
pub mod simulation;
pub mod timeline;
pub mod virtual_client;

pub use air::attacker;
pub use air::impostor;
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
    /// Pairing over the air did not complete.
    #[error("pairing over the air: {0}")]
    Pairing(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
