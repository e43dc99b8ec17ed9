//! The platform port: everything the phone logic needs of the phone besides the BLE
//! central ([`crate::GattClient`]): SMS, telephony, conference, location, siren,
//! recorder, notifications, durable storage and the log.
//!
//! There is one method per non-GATT [`crate::Command`]; [`crate::host::apply`]
//! dispatches each command to it. A call only starts an operation: its outcome, when
//! there is one, comes back later as an [`crate::Input`] that the host feeds to
//! [`crate::PhoneApp::handle`]. Each method says which input answers it.
//!
//! Errors: an `Err` means the platform could not even start the operation (the port is
//! broken, not "the SMS was refused" — that is [`crate::Input::SmsResult`]). The host
//! loop stops at the first error so that nothing after a failed command runs before it
//! (see [`crate::host::drain`]).

use crate::app::Warning;
use crate::note::AppNote;

/// The phone's services, as the app's state machine uses them.
pub trait Platform {
    /// Error of the implementation.
    type Error: std::fmt::Display;

    /// Hand an SMS to the SMS service. Answered by [`crate::Input::SmsResult`] with the
    /// same `id` (accepted or refused), possibly after an app restart, and once the
    /// network has delivered it by its delivery report, [`crate::Input::SmsDelivered`]
    /// (a platform without delivery reports reports it delivered when accepted).
    fn send_sms(&mut self, id: u64, to: &str, text: &str) -> Result<(), Self::Error>;

    /// What became of SMS `id`: answer [`crate::Input::SmsResult`] (and
    /// [`crate::Input::SmsDelivered`] if the network delivered it) when its result is
    /// known, [`crate::Input::SmsUnknown`] when it was never handed over, nothing while
    /// its result is still to come. A phone's OS keeps its sent box across the app's
    /// restarts; the default answers nothing (the app then sends again, at its periodic
    /// retry, an SMS whose result never comes).
    fn query_sms(&mut self, id: u64) -> Result<(), Self::Error> {
        let _ = id;
        Ok(())
    }

    /// Place an alert call that speaks `message` when answered. Answered by
    /// [`crate::Input::Call`] updates with the same `id` (ringing, answered, busy,
    /// ended, failed).
    fn dial(&mut self, id: u64, to: &str, message: &str) -> Result<(), Self::Error>;

    /// Hang up call `id`. Its end is reported (or not) as [`crate::Input::Call`]; the
    /// app already counts it as ended.
    fn hang_up(&mut self, id: u64) -> Result<(), Self::Error>;

    /// Make the wearer's phone join the conference room at `url`. No answer.
    fn join_conference(
        &mut self,
        url: &str,
        mic_on: bool,
        speaker_muted: bool,
    ) -> Result<(), Self::Error>;

    /// Ask the location service for a fix. Answered by [`crate::Input::Location`]
    /// (or not at all: the app stops waiting after its fix timeout).
    fn request_location(&mut self) -> Result<(), Self::Error>;

    /// Sound (`on`) or silence the siren, at `volume_pct` percent, even in silent mode
    /// with `override_silent`. No answer.
    fn siren(&mut self, on: bool, volume_pct: u8, override_silent: bool)
        -> Result<(), Self::Error>;

    /// Start recorder `id` (with the button's microphone stream too when `button_mic`
    /// and the link allows). Answered, once stopped, by
    /// [`crate::Input::RecordingStopped`].
    fn start_recording(&mut self, id: u64, button_mic: bool) -> Result<(), Self::Error>;

    /// Stop recorder `id`. Answered by [`crate::Input::RecordingStopped`] with the
    /// same `id` and the recorded content.
    fn stop_recording(&mut self, id: u64) -> Result<(), Self::Error>;

    /// Show (`on`, with `seconds` to go) or remove the fall countdown alarm. The
    /// wearer's "cancel" comes back as [`crate::Input::UserCancel`].
    fn countdown_alarm(&mut self, on: bool, seconds: u32) -> Result<(), Self::Error>;

    /// Notify the wearer on the phone. No answer.
    fn warn(&mut self, warning: Warning) -> Result<(), Self::Error>;

    /// Show the pairing code for the wearer to compare with the button's. Answered by
    /// [`crate::Input::ConfirmPairing`] (the wearer's verdict). The default shows
    /// nothing: a host that never pairs need not implement it.
    fn show_pairing_code(&mut self, code: protocol::ConfirmCode) -> Result<(), Self::Error> {
        let _ = code;
        Ok(())
    }

    /// Write the durable state: a storage record ([`crate::store::record`]) to the slot
    /// [`crate::store::slot_of_record`] names (two slots, written alternately, so a
    /// torn write never damages the last good copy). The bytes must be durable when
    /// this returns `Ok`: the next command (an acknowledgement to the button, an SMS)
    /// relies on it. Both slots are given back at the next start through
    /// [`crate::store::load`] and [`crate::PhoneApp::start_loaded`]. No answer.
    fn persist(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// The app's log. `note.to_string()` is the line as the app has always written
    /// it. No answer.
    fn note(&mut self, note: &AppNote) -> Result<(), Self::Error>;
}
