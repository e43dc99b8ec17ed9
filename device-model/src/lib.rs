//! The alarm button's firmware behaviour as a sans-IO state machine.
//!
//! Inputs carry their own timestamps (microseconds on whatever clock the host keeps);
//! outputs are actions the host performs. No clock, no randomness, no I/O here: the
//! simulator drives it under virtual time, a hardware rig could drive it for real.
//!
//! - [`gesture`]: debounce and the single/double/triple/long classifier;
//! - [`button`]: the firmware: persistent event queue, sequence numbers, pairing, sessions
//!   and signed commands (protocol version 2), the bounded clock, sealed events and
//!   heartbeats, rotating private addresses, delivery; every refused write is counted
//!   ([`Button::rejected_commands`]);
//! - [`profile`]: every timing and threshold, loaded from JSON and validated; the test
//!   service exists only in [`DeviceProfile::test_firmware`].

pub mod accel;
pub mod button;
pub mod fall;
pub mod gesture;
pub mod power;
pub mod profile;

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
