//! The alarm button's firmware behaviour as a sans-IO state machine.
//!
//! Inputs carry their own timestamps (microseconds on whatever clock the host keeps);
//! outputs are actions the host performs. No clock, no randomness, no I/O here: the
//! simulator drives it under virtual time, a hardware rig could drive it for real.
//!
//! The firmware's logic and state are the `no_std`, allocation-free [`firmware`] crate
//! (debounce and gestures, the fall detector, the persistent queue, sequence numbers,
//! bonding state, the clock, the link states, the battery thresholds); this crate is the
//! host side, as a board support package would be:
//!
//! - [`button`]: the firmware core on its board: it wires the cell model and the radio
//!   to the core, seals frames (protocol version 2), and queues the [`Action`]s; every
//!   refused write is counted ([`Button::rejected_commands`]);
//! - [`accel`]: the accelerometer's analogue front end (resampling, range, saturation,
//!   quantisation, in `f64`); [`power`]: the cell and power physics;
//! - [`profile`]: every timing and threshold, loaded from JSON and validated; the test
//!   service exists only in [`DeviceProfile::test_firmware`];
//! - [`gesture`] and [`fall`]: the firmware's modules, re-exported.

pub mod accel;
pub mod button;
pub mod power;
pub mod profile;

pub use firmware::{fall, gesture};

pub use button::{Action, Button, DeviceEvent, Flash, Input, QueuedEvent};
pub use gesture::{Gesture, GestureConfig};
pub use profile::DeviceProfile;

/// Errors of the device model (profile loading and validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// A profile file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// File.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A profile is not valid JSON of the expected shape.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// File.
        file: String,
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What was expected.
        message: String,
    },
    /// A profile value is out of range.
    #[error("invalid profile field `{field}`: {message}")]
    Invalid {
        /// Field path.
        field: String,
        /// What was expected.
        message: String,
    },
}
