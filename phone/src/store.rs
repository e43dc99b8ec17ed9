//! What the app keeps in durable storage, so that an app restart (its memory lost) loses
//! no alert: the bond (its key; sessions are per connection and never stored, so a
//! restored backup cannot make an old frame acceptable again), every event recorded (and whether the button has heard the ack),
//! alerts waiting for a position, the SMS outbox, call tasks, the fall countdown, the
//! evidence recordings, and counters. Serialised as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::text::Fix;
use crate::PhoneError;

/// The bonded button. It has no fixed address: the app recognises its rotating private
/// addresses with the bond's identity resolving key (derived from `key`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bond {
    /// The long-term key agreed at pairing.
    pub key: [u8; 16],
}

/// An event recorded from the button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Kind name.
    pub kind: String,
    /// When it happened (UTC ms).
    pub event_ms: u64,
    /// Whether the button confirmed receiving our acknowledgement.
    pub ack_confirmed: bool,
}

/// What an SMS-bearing alert says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertKind {
    /// Single press: the wearer's message.
    Help,
    /// Fall countdown expired.
    Fall,
    /// Double press: conference invitation.
    Conference {
        /// The room.
        url: String,
    },
    /// Triple press: "I am safe".
    Safe,
}

/// An alert whose SMS are being composed or sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it says.
    pub kind: AlertKind,
    /// Who gets it (phone numbers).
    pub recipients: Vec<String>,
    /// When the event happened (UTC ms).
    pub event_ms: u64,
    /// Delivered late: say when it happened.
    pub late: bool,
    /// Waiting for a fix until this time (UTC µs); `None` once composed.
    pub fix_deadline_us: Option<u64>,
    /// Sent without a current fix: follow up when one arrives.
    pub followup: bool,
    /// SMS of this alert not yet accepted by the network.
    pub unsent: u32,
    /// Feedback already given to the wearer (`sent` or `failed`).
    pub feedback: Option<String>,
}

/// An SMS not yet accepted by the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutSms {
    /// Recipient.
    pub to: String,
    /// Text.
    pub text: String,
    /// The alert it belongs to.
    pub alert: u64,
    /// Send attempts so far.
    pub attempts: u32,
    /// Handed to the SMS service at this time (UTC µs) and its result not yet known.
    #[serde(default)]
    pub awaiting_since_us: Option<u64>,
}

/// One contact's alert calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTask {
    /// Number dialled.
    pub to: String,
    /// Attempts made.
    pub attempts: u32,
    /// Dial (again) at this time (UTC µs), when waiting.
    pub dial_at_us: Option<u64>,
    /// The call in progress.
    pub call_id: Option<u64>,
    /// Ringing since (UTC µs).
    pub ringing_since_us: Option<u64>,
    /// Finished (answered, or out of attempts).
    pub done: bool,
}

/// A finished evidence recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Start (UTC ms).
    pub start_ms: u64,
    /// End (UTC ms).
    pub end_ms: u64,
    /// Where the phone was at the start.
    pub position: Option<Fix>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Content length (bytes).
    pub bytes: u64,
}

/// A recording in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRecording {
    /// Recorder id.
    pub id: u64,
    /// Start (UTC ms).
    pub start_ms: u64,
    /// Position at the start.
    pub position: Option<Fix>,
}

/// A fall countdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countdown {
    /// Ends at (UTC µs).
    pub ends_at_us: u64,
    /// When the fall happened (UTC ms).
    pub event_ms: u64,
    /// The fall event arrived late.
    pub late: bool,
}

/// A loss of the link to the button, kept so that an app restart does not restart the
/// count of the disconnect warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLoss {
    /// The last exchange with the button that got through (UTC µs).
    pub last_exchange_us: u64,
    /// The wearer was warned about it.
    pub warned: bool,
}

/// Everything the app keeps across restarts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Durable {
    /// The bonded button.
    pub bond: Option<Bond>,
    /// Events recorded, by sequence number (the most recent 512).
    pub events: BTreeMap<u32, EventRecord>,
    /// Sequence numbers at or below this were pruned from `events`.
    pub pruned_through: u32,
    /// Alerts, by id.
    pub alerts: BTreeMap<u64, Alert>,
    /// SMS not yet accepted, by id.
    pub outbox: BTreeMap<u64, OutSms>,
    /// Call tasks, by id.
    pub calls: BTreeMap<u64, CallTask>,
    /// Who received an alert, and when the network delivered it (UTC ms), within the
    /// "I am safe" window.
    pub alerted: Vec<(String, u64)>,
    /// Alert SMS (by id) whose delivery report has not come yet, with their recipient.
    pub awaiting_delivery: BTreeMap<u64, String>,
    /// Stored recordings.
    pub recordings: Vec<Recording>,
    /// Recording in progress.
    pub recording: Option<ActiveRecording>,
    /// Siren on.
    pub siren_on: bool,
    /// Fall countdown running.
    pub countdown: Option<Countdown>,
    /// Last fall event (UTC ms).
    pub last_fall_ms: Option<u64>,
    /// Last known position.
    pub last_fix: Option<Fix>,
    /// Events rejected (unbonded, tampered, replayed).
    pub rejected: u32,
    /// Battery warning levels already shown.
    pub battery_warned: Vec<u8>,
    /// The link to the button is down: since when, across app restarts.
    pub link_lost: Option<LinkLoss>,
    /// Next id for SMS, calls, alerts, writes.
    pub next_id: u64,
}

impl Durable {
    /// A store bonded with the button holding `key`.
    pub fn bonded(key: [u8; 16]) -> Self {
        Durable {
            bond: Some(Bond { key }),
            next_id: 1,
            ..Default::default()
        }
    }

    /// Serialise.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Read back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PhoneError> {
        serde_json::from_slice(bytes).map_err(|e| PhoneError::CorruptState(e.to_string()))
    }

    /// A fresh id.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}
