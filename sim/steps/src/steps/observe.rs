//! What a bench lets the Then checks see: the observation view both benches provide.
//!
//! The simulator fills it from its simulated platform (the SMS network, telephony,
//! siren, recorder) and the button model; the rig from its dry-run platform, which
//! records what the phone *asked for*, and from the phone app itself. Counts are totals
//! since the scenario started (on the rig: since its settling period ended).

use phone::{Contact, Durable, Warning};
use protocol::VibrationPattern;
use sim_world::impostor::Learned;

/// One SMS: when (µs since the scenario started), to which number, what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// When (µs of scenario time).
    pub at_us: u64,
    /// Number.
    pub to: String,
    /// Text.
    pub text: String,
}

/// One dialled attempt and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Number.
    pub to: String,
    /// Where it stands (a rig's dry run only ever dials).
    pub state: sim_world::platform::CallState,
}

/// A recording the phone has stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredRecording {
    /// Its length (ms).
    pub length_ms: u64,
    /// Whether its content hash (SHA-256, 64 hex digits) is stored with it.
    pub hashed: bool,
}

/// The state the Then steps check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The app's emergency contacts.
    pub contacts: Vec<Contact>,
    /// SMS the network accepted.
    pub sms_sent: Vec<Sms>,
    /// SMS delivered to their recipient (on the rig's dry run: accepted ones).
    pub sms_received: Vec<Sms>,
    /// SMS attempts the network refused.
    pub sms_refused: u32,
    /// Dialled attempts.
    pub calls: Vec<Call>,
    /// The siren sounds now.
    pub siren_on: bool,
    /// The siren has sounded.
    pub siren_ever: bool,
    /// Recordings started.
    pub recordings_started: usize,
    /// A recording is in progress now.
    pub recording_now: bool,
    /// Recordings the phone has stored.
    pub stored_recordings: Vec<StoredRecording>,
    /// Fall countdowns started.
    pub countdowns_started: u32,
    /// Warnings shown to the wearer.
    pub warnings: Vec<Warning>,
    /// Vibration patterns the button played.
    pub vibrations: Vec<VibrationPattern>,
    /// Events the phone rejected (unbonded, tampered, replayed).
    pub rejected_events: u32,
    /// Fall events the phone recorded.
    pub falls_reported: usize,
    /// Commands the button rejected (unauthenticated, stale or out of bounds).
    pub rejected_commands: u32,
    /// What a listener learned from the air (`None`: nobody listened, or the bench has
    /// no sniffer).
    pub learned: Option<Learned>,
}

impl Observation {
    /// Fill what the phone's durable state tells: rejected events, recorded falls and
    /// stored recordings.
    pub fn with_durable(mut self, d: &Durable) -> Self {
        self.rejected_events = d.rejected;
        self.falls_reported = d.events.values().filter(|e| e.kind == "fall").count();
        self.stored_recordings = d
            .recordings
            .iter()
            .map(|r| StoredRecording {
                length_ms: r.end_ms.saturating_sub(r.start_ms),
                hashed: r.sha256.len() == 64,
            })
            .collect();
        self
    }
}
