//! The phone app's alert logic as a sans-IO state machine.
//!
//! [`PhoneApp`] consumes BLE events ([`gatt::GattEvent`]) and platform callbacks
//! ([`app::Input`]) with the current UTC time, and emits [`app::Command`]s to the
//! platform's ports: the GATT client, SMS, telephony, conference, location, siren,
//! recorder, warnings and durable storage. It knows nothing of the simulator: the same
//! code would run inside the real app.
//!
//! - [`config`]: contacts (E.164), texts, timings;
//! - [`gatt`]: the GATT-client port (trait) and its commands and events;
//! - [`note`]: the app's log lines, typed ([`AppNote`]);
//! - [`store`]: what survives an app restart;
//! - [`text`]: how positions and times are written in messages;
//! - [`app`]: the state machine;
//! - [`platform`]: the platform port (trait): SMS, calls, location, siren, recorder,
//!   warnings, durable storage, log;
//! - [`host`]: the host loop applying the app's commands to both ports, so that a host
//!   only implements [`GattClient`] and [`Platform`].

pub mod app;
pub mod config;
pub mod gatt;
pub mod host;
pub mod note;
pub mod platform;
pub mod store;
pub mod text;

pub use app::{CallUpdate, Command, Input, PhoneApp, Warning};
pub use config::{AppConfig, Contact};
pub use gatt::{DeviceId, GattClient, GattCommand, GattEvent};
pub use host::HostError;
pub use note::{AppNote, CancelledBy, RejectReason};
pub use platform::Platform;
pub use store::Durable;
pub use text::Fix;

/// Errors of the phone logic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// A contact is not valid.
    #[error("invalid contact {name:?}: {reason}")]
    InvalidContact {
        /// Contact name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// There must be 1 to 5 contacts.
    #[error("expected 1 to 5 emergency contacts, got {0}")]
    ContactCount(usize),
    /// Durable storage could not be read back.
    #[error("corrupt durable state: {0}")]
    CorruptState(String),
}
