//! The app's log, typed: every line the app logs is an [`AppNote`], emitted as
//! [`crate::app::Command::Note`] and handed to [`crate::Platform::note`].
//!
//! A host can match on the variants (for instance [`AppNote::EventReceived`] marks an
//! event newly recorded) instead of parsing text. [`AppNote`]'s `Display` renders the
//! exact line the app used to log as a string: timelines and their snapshots depend on
//! that text byte for byte, and the tests below pin it.

use std::fmt;

use protocol::{EventKind, ProtocolError, VibrationPattern};

use crate::app::CallUpdate;
use crate::gatt::DeviceId;
use crate::text::utc;

/// Why an event frame was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The frame came from a device that is not the bonded button.
    UnbondedDevice(DeviceId),
    /// The frame could not be decoded.
    Malformed(ProtocolError),
    /// The authentication tag does not match (tampered or forged).
    BadTag,
    /// An event older than the oldest one still remembered.
    ReplayOld {
        /// Sequence number.
        seq: u32,
    },
    /// A sealed frame arrived before any session was opened on this connection.
    NoSession,
    /// A session offer that does not prove the bond (an impostor at the address).
    BadOffer,
    /// A frame index already seen in this session (a replayed frame).
    ReplayedFrame {
        /// Frame index.
        index: u32,
    },
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::UnbondedDevice(d) => write!(f, "from unbonded device {d}"),
            RejectReason::Malformed(e) => write!(f, "malformed: {e}"),
            RejectReason::BadTag => {
                f.write_str("authentication tag does not match (tampered or forged)")
            }
            RejectReason::ReplayOld { seq } => write!(f, "replay of old event #{seq}"),
            RejectReason::NoSession => f.write_str("sealed frame without a session"),
            RejectReason::BadOffer => {
                f.write_str("session offer does not prove the bond (impostor)")
            }
            RejectReason::ReplayedFrame { index } => {
                write!(
                    f,
                    "frame index {index} replayed in this session (not above the last one)"
                )
            }
        }
    }
}

/// Who cancelled a fall countdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelledBy {
    /// A single press on the button.
    ButtonPress,
    /// The wearer pressed "cancel" on the phone ([`crate::Input::UserCancel`]).
    PhoneCancel,
    /// The wearer signalled "I am safe" (triple press).
    IAmSafe,
}

impl fmt::Display for CancelledBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelledBy::ButtonPress => "a press on the button",
            CancelledBy::PhoneCancel => "the wearer on the phone",
            CancelledBy::IAmSafe => "\"I am safe\"",
        })
    }
}

/// A line of the app's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppNote {
    /// The app started.
    Started,
    /// The cellular network is available again.
    NetworkBack,
    /// The bonded button is connected.
    Connected(DeviceId),
    /// The bonded button disconnected.
    Disconnected(DeviceId),
    /// A vibration could not be asked for: the button is not connected.
    CannotVibrate(VibrationPattern),
    /// An event frame was refused.
    Rejected(RejectReason),
    /// A recorded event came again, its acknowledgement never confirmed: acknowledged
    /// again, not acted on.
    Retransmission {
        /// Sequence number.
        seq: u32,
    },
    /// A recorded event came again in a session although the button had confirmed
    /// its acknowledgement (it reset before keeping it): acknowledged again, not acted
    /// on. Only the bonded button can seal a frame in a session, so this is never a
    /// replay.
    AcknowledgedAgain {
        /// Sequence number.
        seq: u32,
    },
    /// An event was recorded (and is acted on).
    EventReceived {
        /// Sequence number.
        seq: u32,
        /// What happened.
        kind: EventKind,
        /// When it happened (UTC ms, the phone's time if the button's clock was unset).
        event_ms: u64,
        /// It arrived later than the "late" threshold (the text then says when it
        /// happened).
        late: bool,
    },
    /// "I am safe" with nobody alerted within the window: no SMS.
    SafeNobodyAlerted,
    /// A fall within the refractory period of the previous one: not raised again.
    FallRefractory,
    /// The fall countdown started.
    FallCountdownStarted {
        /// Seconds to go.
        secs: u32,
    },
    /// The fall countdown ran out: the contacts are alerted.
    FallCountdownOver,
    /// The fall countdown was cancelled.
    FallCountdownCancelled(CancelledBy),
    /// The button's battery crossed a warning level.
    BatteryLow {
        /// Percent.
        pct: u8,
    },
    /// The button reported that its full queue had to let events go (counted over its
    /// life): the wearer is warned once per new count.
    ButtonDroppedEvents {
        /// Events dropped since the button was made.
        total: u32,
    },
    /// A recording was stored.
    RecordingStored {
        /// Size.
        bytes: u64,
        /// SHA-256 of the content.
        sha256: [u8; 32],
    },
    /// An SMS was refused; it stays in the outbox.
    SmsNotSent {
        /// SMS id.
        id: u64,
    },
    /// A call's progress.
    Call {
        /// Number called.
        to: String,
        /// What happened.
        update: CallUpdate,
    },
    /// A call rang too long and was hung up.
    CallUnanswered {
        /// Call id.
        id: u64,
    },
    /// A connection attempt got no answer: scanning again.
    ConnectTimedOut,
    /// Connected, but no session offer came for the `Hello`: the link is dropped so
    /// that a new connection asks again (an alert never waits on a silent link).
    SessionTimedOut,
    /// Pairing: the code to compare is shown to the wearer.
    PairingCode(protocol::ConfirmCode),
    /// Pairing completed: a new bond replaces the old one.
    Paired,
    /// Pairing abandoned (codes differ, a bad confirmation, a weak key).
    PairingFailed(&'static str),
    /// Storage was damaged (a torn write): the last good copy was taken.
    StorageRecovered {
        /// The damaged slot.
        slot: usize,
        /// What was wrong with it.
        why: String,
    },
    /// Storage could not be read at all: the app starts empty.
    StorageLost {
        /// What was wrong.
        why: String,
    },
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for AppNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppNote::Started => f.write_str("app started"),
            AppNote::NetworkBack => f.write_str("cellular network back"),
            AppNote::Connected(d) => write!(f, "connected to {d}"),
            AppNote::Disconnected(d) => write!(f, "disconnected from {d}"),
            AppNote::CannotVibrate(p) => {
                write!(f, "button not connected: cannot vibrate {}", p.name())
            }
            AppNote::Rejected(why) => write!(f, "rejected event: {why}"),
            AppNote::Retransmission { seq } => {
                write!(
                    f,
                    "event #{seq} again (ack not confirmed): acknowledged again"
                )
            }
            AppNote::AcknowledgedAgain { seq } => {
                write!(
                    f,
                    "event #{seq} again after its ack was confirmed: acknowledged again"
                )
            }
            AppNote::EventReceived {
                seq,
                kind,
                event_ms,
                late,
            } => {
                write!(f, "event #{seq} {} received", kind.name())?;
                if *late {
                    write!(f, " late (happened {})", utc(*event_ms))?;
                }
                Ok(())
            }
            AppNote::SafeNobodyAlerted => {
                f.write_str("\"I am safe\": nobody was alerted in the window, no SMS")
            }
            AppNote::FallRefractory => {
                f.write_str("fall within the refractory period: not raised again")
            }
            AppNote::FallCountdownStarted { secs } => {
                write!(f, "fall countdown started ({secs} s)")
            }
            AppNote::FallCountdownOver => f.write_str("fall countdown over: alerting contacts"),
            AppNote::FallCountdownCancelled(by) => write!(f, "fall countdown cancelled by {by}"),
            AppNote::BatteryLow { pct } => write!(f, "button battery at {pct} %"),
            AppNote::ButtonDroppedEvents { total } => {
                write!(f, "the button's full queue let {total} events go")
            }
            AppNote::PairingCode(c) => write!(f, "pairing: compare code {c}"),
            AppNote::Paired => f.write_str("paired: new bond stored"),
            AppNote::PairingFailed(why) => write!(f, "pairing failed: {why}"),
            AppNote::RecordingStored { bytes, sha256 } => {
                write!(f, "recording stored: {bytes} bytes, sha256 {}", hex(sha256))
            }
            AppNote::SmsNotSent { id } => write!(f, "SMS {id} not sent: kept for retry"),
            AppNote::Call { to, update } => write!(f, "call to {to}: {update:?}"),
            AppNote::CallUnanswered { id } => write!(f, "call {id} unanswered: hung up"),
            AppNote::ConnectTimedOut => f.write_str("connection attempt timed out: scanning again"),
            AppNote::SessionTimedOut => {
                f.write_str("no session offer from the button: disconnecting to ask again")
            }
            AppNote::StorageRecovered { slot, why } => write!(
                f,
                "STORAGE DAMAGED (slot {slot}: {why}): resumed from the last good copy"
            ),
            AppNote::StorageLost { why } => write!(
                f,
                "STORAGE UNREADABLE ({why}): starting empty, the button must be paired again"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each expected string is the literal the app logged before notes were typed.

    use super::*;

    fn dev() -> DeviceId {
        DeviceId("AA:BB".into())
    }

    fn same(note: AppNote, old: &str) {
        assert_eq!(note.to_string(), old, "{note:?}");
    }

    #[test]
    fn lifecycle_and_link_notes_read_as_before() {
        same(AppNote::Started, "app started");
        same(AppNote::NetworkBack, "cellular network back");
        same(AppNote::Connected(dev()), "connected to AA:BB");
        same(AppNote::Disconnected(dev()), "disconnected from AA:BB");
        same(
            AppNote::CannotVibrate(VibrationPattern::Countdown),
            "button not connected: cannot vibrate countdown",
        );
        same(
            AppNote::ConnectTimedOut,
            "connection attempt timed out: scanning again",
        );
        same(
            AppNote::SessionTimedOut,
            "no session offer from the button: disconnecting to ask again",
        );
    }

    #[test]
    fn rejections_read_as_before() {
        same(
            AppNote::Rejected(RejectReason::UnbondedDevice(dev())),
            "rejected event: from unbonded device AA:BB",
        );
        same(
            AppNote::Rejected(RejectReason::Malformed(ProtocolError::UnsupportedVersion(
                9,
            ))),
            "rejected event: malformed: unsupported protocol version 9",
        );
        same(
            AppNote::Rejected(RejectReason::BadTag),
            "rejected event: authentication tag does not match (tampered or forged)",
        );
        same(
            AppNote::Rejected(RejectReason::ReplayOld { seq: 3 }),
            "rejected event: replay of old event #3",
        );
    }

    #[test]
    fn event_notes_read_as_before() {
        same(
            AppNote::Retransmission { seq: 12 },
            "event #12 again (ack not confirmed): acknowledged again",
        );
        same(
            AppNote::AcknowledgedAgain { seq: 12 },
            "event #12 again after its ack was confirmed: acknowledged again",
        );
        same(
            AppNote::EventReceived {
                seq: 4,
                kind: EventKind::LowBattery,
                event_ms: 1_767_603_600_000,
                late: false,
            },
            "event #4 low_battery received",
        );
        same(
            AppNote::EventReceived {
                seq: 5,
                kind: EventKind::Single,
                event_ms: 1_767_603_600_000,
                late: true,
            },
            "event #5 single received late (happened 2026-01-05 09:00:00 UTC)",
        );
        same(
            AppNote::SafeNobodyAlerted,
            "\"I am safe\": nobody was alerted in the window, no SMS",
        );
        same(AppNote::BatteryLow { pct: 15 }, "button battery at 15 %");
        same(
            AppNote::ButtonDroppedEvents { total: 6 },
            "the button's full queue let 6 events go",
        );
    }

    #[test]
    fn fall_countdown_notes_read_as_before() {
        same(
            AppNote::FallRefractory,
            "fall within the refractory period: not raised again",
        );
        same(
            AppNote::FallCountdownStarted { secs: 30 },
            "fall countdown started (30 s)",
        );
        same(
            AppNote::FallCountdownOver,
            "fall countdown over: alerting contacts",
        );
        same(
            AppNote::FallCountdownCancelled(CancelledBy::ButtonPress),
            "fall countdown cancelled by a press on the button",
        );
        same(
            AppNote::FallCountdownCancelled(CancelledBy::PhoneCancel),
            "fall countdown cancelled by the wearer on the phone",
        );
        same(
            AppNote::FallCountdownCancelled(CancelledBy::IAmSafe),
            "fall countdown cancelled by \"I am safe\"",
        );
    }

    #[test]
    fn recording_sms_and_call_notes_read_as_before() {
        use sha2::{Digest, Sha256};
        let sha256: [u8; 32] = Sha256::digest(b"").into();
        same(
            AppNote::RecordingStored { bytes: 0, sha256 },
            "recording stored: 0 bytes, sha256 \
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        same(
            AppNote::SmsNotSent { id: 42 },
            "SMS 42 not sent: kept for retry",
        );
        for (update, word) in [
            (CallUpdate::Ringing, "Ringing"),
            (CallUpdate::Answered, "Answered"),
            (CallUpdate::Busy, "Busy"),
            (CallUpdate::Ended, "Ended"),
            (CallUpdate::Failed, "Failed"),
        ] {
            same(
                AppNote::Call {
                    to: "+33611111111".into(),
                    update,
                },
                &format!("call to +33611111111: {word}"),
            );
        }
        same(
            AppNote::CallUnanswered { id: 9 },
            "call 9 unanswered: hung up",
        );
    }
}
