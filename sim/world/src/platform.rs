//! The simulated phone platform: the SMS network, the contacts' phones, the conference
//! service, GPS, the siren, the recorder, notifications and the app's durable storage.
//! It executes the phone app's [`phone::Command`]s and records what a test checks.
//!
//! Defaults (each settable by a step or a profile): an SMS reaches the contact 1 s after
//! it is sent; a contact answers a call after 5 s; `the phone is at` is a current, exact
//! fix (accuracy 5 m) answered at once; storage survives app restarts.

use std::collections::BTreeMap;

use phone::{CallUpdate, Fix, Warning};

use crate::sched::{Micros, MILLI, SECOND};

/// How a contact's phone behaves when called.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answering {
    /// Answers after this many seconds of ringing.
    After(f64),
    /// The line is busy.
    Busy,
    /// Rings until the caller gives up.
    Never,
}

/// An SMS the network accepted or delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// When (virtual µs).
    pub t_us: Micros,
    /// Recipient number.
    pub to: String,
    /// Text.
    pub text: String,
}

/// A call attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// When dialled.
    pub t_us: Micros,
    /// Number dialled.
    pub to: String,
    /// Call id.
    pub id: u64,
    /// Last known state.
    pub state: String,
}

/// A recording made by the recorder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecorderRun {
    /// Id.
    pub id: u64,
    /// Start.
    pub start_us: Micros,
    /// End, once stopped.
    pub end_us: Option<Micros>,
}

/// Things the platform schedules back to the app.
#[derive(Clone, Debug, PartialEq)]
pub enum PlatformEv {
    /// SMS accepted or refused.
    SmsResult {
        /// Id.
        id: u64,
        /// Accepted.
        ok: bool,
    },
    /// SMS delivered to the contact's phone.
    SmsDelivered(Sms),
    /// Call progress.
    Call {
        /// Id.
        id: u64,
        /// Update.
        update: CallUpdate,
    },
    /// A contact joins the conference.
    ContactJoins {
        /// Number.
        who: String,
    },
    /// A fix for the app.
    Location(Fix),
    /// Recorder stopped.
    RecordingStopped {
        /// Id.
        id: u64,
        /// Audio length (µs).
        dur_us: Micros,
    },
}

/// Platform settings.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformParams {
    /// SMS submit → delivered.
    pub sms_delivery_us: Micros,
    /// SMS submit → accepted/refused answer.
    pub sms_ack_us: Micros,
    /// Default answering delay.
    pub default_answer_s: f64,
    /// An answered alert call lasts this long (message spoken), then ends.
    pub call_length_us: Micros,
    /// Encoded audio rate of the recorder (bytes per second).
    pub audio_bytes_per_s: u64,
}

impl Default for PlatformParams {
    fn default() -> Self {
        Self {
            sms_delivery_us: SECOND,
            sms_ack_us: 200 * MILLI,
            default_answer_s: 5.0,
            call_length_us: 20 * SECOND,
            audio_bytes_per_s: 2_000,
        }
    }
}

/// The platform's state and records.
#[derive(Debug, Default)]
pub struct Platform {
    /// Settings.
    pub params: PlatformParams,
    /// Cellular network available.
    pub network: bool,
    /// Current fix (lat, lon), if the GPS has one.
    pub fix: Option<(f64, f64)>,
    /// The app asked for a fix the GPS could not give yet.
    pub location_pending: bool,
    /// Answering behaviour by number (others answer after the default).
    pub answering: BTreeMap<String, Answering>,
    /// SMS accepted by the network.
    pub sms_sent: Vec<Sms>,
    /// SMS delivered to contacts.
    pub sms_delivered: Vec<Sms>,
    /// SMS refused (no network).
    pub sms_refused: u32,
    /// Calls dialled.
    pub calls: Vec<CallRecord>,
    /// Conference participants (number, or "wearer"), with join time.
    pub conference: Vec<(Micros, String)>,
    /// Siren on.
    pub siren_on: bool,
    /// Whether the siren was ever turned on.
    pub siren_ever: bool,
    /// Recorder runs.
    pub recordings: Vec<RecorderRun>,
    /// Warnings shown to the wearer.
    pub warnings: Vec<(Micros, Warning)>,
    /// Fall countdown alarm showing.
    pub countdown_on: bool,
    /// Fall countdowns started.
    pub countdowns_started: u32,
    /// The app's durable storage.
    pub storage: Option<Vec<u8>>,
}

impl Platform {
    /// A platform with the network up and no fix.
    pub fn new(params: PlatformParams) -> Self {
        Platform {
            params,
            network: true,
            ..Default::default()
        }
    }

    /// The current fix as the GPS reports it at `utc_ms`.
    pub fn current_fix(&self, utc_ms: u64) -> Option<Fix> {
        self.fix.map(|(lat, lon)| Fix {
            lat,
            lon,
            accuracy_m: 5.0,
            utc_ms,
        })
    }

    /// How the number answers.
    pub fn answering(&self, to: &str) -> Answering {
        self.answering
            .get(to)
            .copied()
            .unwrap_or(Answering::After(self.params.default_answer_s))
    }

    /// Whether a call with `id` is still ringing (not answered, not ended).
    pub fn call_state(&self, id: u64) -> Option<&str> {
        self.calls
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.state.as_str())
    }

    /// Set a call's state.
    pub fn set_call_state(&mut self, id: u64, state: &str) {
        if let Some(c) = self.calls.iter_mut().find(|c| c.id == id) {
            c.state = state.to_string();
        }
    }
}
