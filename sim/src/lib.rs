//! The harness: a deterministic discrete-event simulation of the alarm button, the
//! virtual BLE link and the phone app on a simulated platform, plus the cucumber World,
//! the step catalogue, the runner and reports behind the `sim` binary.
//!
//! - [`sched`]: virtual clock and event queue; [`rng`]: seeded streams;
//! - [`link`]: the virtual BLE link; [`platform`]: SMS network, telephony, GPS, storage;
//! - [`hand`]: the model of the wearer's hand;
//! - [`simulation`]: ties button, link, phone and platform together;
//! - [`timeline`]: what happened, rendered for humans, snapshots and determinism checks;
//! - [`steps`]: the Gherkin vocabulary and the World; [`runner`]: running feature files;
//! - [`virtual_client`]: the GATT-client port over the simulator; [`conformance`]: the
//!   port's conformance suite; `hil` (feature `hil`): the btleplug adapter and rig runs.
//! - [`report`]: self-contained HTML reports with plots (replays and suite runs).

pub mod battery;
pub mod bench;
pub mod capture;
pub mod conformance;
pub mod falls_eval;
pub mod fleet;
pub mod hand;
#[cfg(feature = "hil")]
pub mod hil;
pub mod link;
pub mod platform;
pub mod report;
pub mod rng;
pub mod runner;
pub mod sched;
pub mod simulation;
pub mod steps;
pub mod timeline;
pub mod trace;
pub mod tracegen;
pub mod virtual_client;

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
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
    Trace(#[from] trace::TraceError),
    /// Hardware in the loop: no adapter, no bus, a device that does not answer.
    #[cfg(feature = "hil")]
    #[error(transparent)]
    Hil(#[from] hil::HilError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
