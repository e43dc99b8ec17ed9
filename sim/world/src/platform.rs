//! The simulated phone platform: the SMS network, the contacts' phones, the conference
//! service, GPS, the siren, the recorder, notifications and the app's durable storage.
//! It implements the app's [`phone::Platform`] port (the host loop
//! [`phone::host::drain`] calls it) and records what a test checks. Answers to the app
//! are scheduled as [`PlatformEv`]s on the world's queue; [`Platform::on_event`] turns
//! a due one into the app's [`phone::Input`].
//!
//! Defaults (each settable by a step or a profile): an SMS reaches the contact 1 s after
//! it is sent (and the app gets its delivery report then); a contact answers a call after 5 s; `the phone is at` is a current, exact
//! fix (accuracy 5 m) answered at once; storage survives app restarts.
//!
//! Storage has two slots; each record goes to the slot its header names
//! ([`phone::store::slot_of_record`]). The siren, the recorder (by id), the countdown
//! alarm and the conference (by room) are states: asserting the state they are already
//! in does nothing, so an app that resumes after a crash asserts them again safely.
//!
//! Crashes: the harness arms a [`CrashPlan`]; the platform (or, for a count of every
//! command, the host loop in [`crate::simulation`]) reports when it is due and the app
//! is killed right after that command (or during that write, which is then torn: only a
//! prefix of the new record reaches the slot, over its old bytes).

use std::collections::BTreeMap;
use std::convert::Infallible;

use phone::{AppNote, CallUpdate, Fix, Warning};

use crate::observed::{Observed, PlatformNote};
use crate::rng::Stream;
use crate::sched::{Micros, MILLI, SECOND};
use crate::series::MarkerKind;
use crate::shared::{Core, Ev};
use crate::simulation::EPOCH_UTC_MS;
use crate::timeline::Layer;

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
    pub state: CallState,
}

/// The state of a call, as the platform last knew it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Dialled, no answer from the network yet.
    Dialling,
    /// Ringing at the contact's phone.
    Ringing,
    /// The contact answered.
    Answered,
    /// The line was busy.
    Busy,
    /// The call ended after being answered.
    Ended,
    /// The call could not be placed.
    Failed,
    /// The app hung up.
    HungUp,
}

impl CallState {
    /// As the timeline prints it.
    pub fn name(self) -> &'static str {
        match self {
            CallState::Dialling => "dialling",
            CallState::Ringing => "ringing",
            CallState::Answered => "answered",
            CallState::Busy => "busy",
            CallState::Ended => "ended",
            CallState::Failed => "failed",
            CallState::HungUp => "hung up",
        }
    }

    /// Whether the call is over (no update changes it any more).
    pub fn is_over(self) -> bool {
        matches!(self, CallState::HungUp | CallState::Ended)
    }
}

impl From<CallUpdate> for CallState {
    fn from(u: CallUpdate) -> Self {
        match u {
            CallUpdate::Ringing => CallState::Ringing,
            CallUpdate::Answered => CallState::Answered,
            CallUpdate::Busy => CallState::Busy,
            CallUpdate::Ended => CallState::Ended,
            CallUpdate::Failed => CallState::Failed,
        }
    }
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
    /// SMS delivered to the contact's phone (the app hears it as a delivery report).
    SmsDelivered {
        /// Id.
        id: u64,
        /// The SMS.
        sms: Sms,
    },
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
    /// An answer to the app that records nothing (a query's).
    Answer(phone::Input),
    /// Recorder stopped.
    RecordingStopped {
        /// Id.
        id: u64,
        /// Audio length (µs).
        dur_us: Micros,
    },
}

/// A crash of the app the harness armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPlan {
    /// Right after the app's n-th command from now (1-based), whatever it is.
    AfterCommands(u64),
    /// Right after the n-th SMS the app hands to the SMS service from now.
    AfterSms(u32),
    /// During the app's n-th durable write from now: only `keep` of it reaches storage.
    TornWrite {
        /// Which write (1-based).
        nth: u32,
        /// How much of it is written.
        keep: Keep,
    },
}

/// How much of a torn write reaches storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// This many bytes (at most the record's length).
    Bytes(usize),
    /// Half the record.
    Half,
    /// All of the record but its last this many bytes.
    AllBut(usize),
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
#[derive(Debug)]
pub struct Platform {
    core: Core,
    rng: Stream,
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
    /// The app's durable storage: two slots (`None`: never written).
    pub storage: [Option<Vec<u8>>; 2],
    /// What the SMS service has told the app of each SMS it was handed: its result
    /// (`None` until reported) and whether it was delivered (the sent box).
    pub sms_box: BTreeMap<u64, (Option<bool>, bool)>,
    /// Times the siren went from off to on.
    pub siren_starts: u32,
    /// The conference room the wearer's phone is in.
    pub wearer_room: Option<String>,
    /// Durable writes made (torn ones included).
    pub writes: u64,
    /// A crash armed by the harness, and what it has counted so far.
    pub crash: Option<(CrashPlan, u64)>,
    /// The armed crash is due: the host kills the app after the current command.
    pub crash_due: bool,
}

impl Platform {
    /// A platform with the network up and no fix, on the world's queue, drawing from the
    /// platform stream `rng`.
    pub(crate) fn new(params: PlatformParams, core: Core, rng: Stream) -> Self {
        Platform {
            core,
            rng,
            params,
            network: true,
            fix: None,
            location_pending: false,
            answering: BTreeMap::new(),
            sms_sent: Vec::new(),
            sms_delivered: Vec::new(),
            sms_refused: 0,
            calls: Vec::new(),
            conference: Vec::new(),
            siren_on: false,
            siren_ever: false,
            recordings: Vec::new(),
            warnings: Vec::new(),
            countdown_on: false,
            countdowns_started: 0,
            storage: [None, None],
            sms_box: BTreeMap::new(),
            siren_starts: 0,
            wearer_room: None,
            writes: 0,
            crash: None,
            crash_due: false,
        }
    }

    /// The two storage slots, as the app reads them at start.
    pub fn slots(&self) -> [Option<&[u8]>; 2] {
        [self.storage[0].as_deref(), self.storage[1].as_deref()]
    }

    /// Count one happening of `kind` toward the armed crash; true when it is due now.
    fn crash_tick(&mut self, kind: fn(&CrashPlan) -> Option<u64>) -> bool {
        let Some((plan, seen)) = self.crash.as_mut() else {
            return false;
        };
        let Some(n) = kind(plan) else { return false };
        *seen += 1;
        if *seen < n {
            return false;
        }
        self.crash = None;
        self.crash_due = true;
        true
    }

    /// The host executed one command of the app (any kind): counts toward
    /// [`CrashPlan::AfterCommands`]. True when the app must die now.
    pub(crate) fn after_command(&mut self) -> bool {
        self.crash_tick(|p| match p {
            CrashPlan::AfterCommands(n) => Some(*n),
            _ => None,
        });
        std::mem::take(&mut self.crash_due)
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

    /// The state of call `id`, if it was dialled.
    pub fn call_state(&self, id: u64) -> Option<CallState> {
        self.calls.iter().find(|c| c.id == id).map(|c| c.state)
    }

    /// Set a call's state.
    pub fn set_call_state(&mut self, id: u64, state: CallState) {
        if let Some(c) = self.calls.iter_mut().find(|c| c.id == id) {
            c.state = state;
        }
    }

    /// Whether the latest call to `number` is answered (so its callee can join).
    pub fn call_state_by_number(&self, number: &str) -> bool {
        self.calls
            .iter()
            .rev()
            .find(|c| c.to == number)
            .is_some_and(|c| c.state == CallState::Answered)
    }

    /// Sixteen random bytes from the platform stream.
    pub(crate) fn random_key(&mut self) -> [u8; 16] {
        self.rng.bytes()
    }

    fn now(&self) -> Micros {
        self.core.borrow().now
    }

    fn say(&self, note: PlatformNote) {
        self.core
            .borrow_mut()
            .observe(Layer::Platform, Observed::Platform(note));
    }

    fn mark(&self, kind: MarkerKind, detail: String) {
        self.core.borrow_mut().mark(kind, detail);
    }

    fn at(&self, at: Micros, ev: PlatformEv) {
        self.core.borrow_mut().at(at, Ev::Platform(ev));
    }

    fn utc_ms(&self) -> u64 {
        (EPOCH_UTC_MS * 1000 + self.now()) / 1000
    }

    // ---- the harness's levers ----------------------------------------------------------

    /// The cellular network comes back (or goes).
    pub(crate) fn set_network(&mut self, on: bool) {
        self.network = on;
        self.say(PlatformNote::Network { available: on });
    }

    /// The GPS gets a fix; returns the fix for the app when it was waiting for one.
    pub(crate) fn gps_fix(&mut self, lat: f64, lon: f64) -> Option<Fix> {
        self.fix = Some((lat, lon));
        self.say(PlatformNote::GpsFix { lat, lon });
        if !self.location_pending {
            return None;
        }
        self.location_pending = false;
        self.current_fix(self.utc_ms())
    }

    // ---- answers -----------------------------------------------------------------------

    /// A scheduled platform happening is due: record it, and return what the app hears
    /// of it, if anything.
    pub(crate) fn on_event(&mut self, pe: PlatformEv) -> Option<phone::Input> {
        match pe {
            PlatformEv::SmsResult { id, ok } => {
                self.sms_box.entry(id).or_default().0 = Some(ok);
                Some(phone::Input::SmsResult { id, ok })
            }
            PlatformEv::Answer(input) => Some(input),
            PlatformEv::SmsDelivered { id, sms } => {
                self.sms_box.entry(id).or_default().1 = true;
                let to = sms.to.clone();
                self.say(PlatformNote::SmsDelivered { to });
                let t_us = self.now();
                self.sms_delivered.push(Sms { t_us, ..sms });
                Some(phone::Input::SmsDelivered { id })
            }
            PlatformEv::Call { id, update } => {
                if self.call_state(id).is_some_and(CallState::is_over) {
                    return None;
                }
                let state = CallState::from(update);
                self.set_call_state(id, state);
                self.say(PlatformNote::CallState { id, state });
                Some(phone::Input::Call { id, update })
            }
            PlatformEv::ContactJoins { who } => {
                if self.call_state_by_number(&who) {
                    self.conference.push((self.now(), who.clone()));
                    self.say(PlatformNote::ContactJoins { who });
                }
                None
            }
            PlatformEv::Location(f) => Some(phone::Input::Location(f)),
            PlatformEv::RecordingStopped { id, dur_us } => {
                let n = (self.params.audio_bytes_per_s * dur_us / SECOND) as usize;
                let mut content = vec![0u8; n];
                self.rng.fill(&mut content);
                Some(phone::Input::RecordingStopped { id, content })
            }
        }
    }

    /// The telephony network's answers to a call placed now to `to`.
    fn schedule_call(&mut self, id: u64, to: &str) {
        let now = self.now();
        let call = |update| PlatformEv::Call { id, update };
        if !self.network {
            return self.at(now + SECOND, call(CallUpdate::Failed));
        }
        match self.answering(to) {
            Answering::Busy => self.at(now + SECOND, call(CallUpdate::Busy)),
            Answering::Never => self.at(now + SECOND, call(CallUpdate::Ringing)),
            Answering::After(s) => {
                let ans = now + SECOND + (s * 1e6) as Micros;
                self.at(now + SECOND, call(CallUpdate::Ringing));
                self.at(ans, call(CallUpdate::Answered));
                let who = to.to_string();
                self.at(ans + 2 * SECOND, PlatformEv::ContactJoins { who });
                self.at(ans + self.params.call_length_us, call(CallUpdate::Ended));
            }
        }
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

impl phone::Platform for Platform {
    type Error = Infallible;

    fn send_sms(&mut self, id: u64, to: &str, text: &str) -> Result<(), Infallible> {
        self.mark(MarkerKind::Sms, to.to_string());
        self.sms_box.entry(id).or_default();
        let now = self.now();
        let ok = self.network;
        if ok {
            let sms = Sms {
                t_us: now,
                to: to.to_string(),
                text: text.to_string(),
            };
            self.sms_sent.push(sms.clone());
            self.say(PlatformNote::SmsSent {
                to: to.to_string(),
                text: text.to_string(),
            });
            self.at(
                now + self.params.sms_delivery_us,
                PlatformEv::SmsDelivered { id, sms },
            );
        } else {
            self.sms_refused += 1;
            let to = to.to_string();
            self.say(PlatformNote::SmsRefused { to });
        }
        self.at(
            now + self.params.sms_ack_us,
            PlatformEv::SmsResult { id, ok },
        );
        self.crash_tick(|p| match p {
            CrashPlan::AfterSms(n) => Some(u64::from(*n)),
            _ => None,
        });
        Ok(())
    }

    fn query_sms(&mut self, id: u64) -> Result<(), Infallible> {
        let now = self.now();
        match self.sms_box.get(&id).copied() {
            None => self.at(now, PlatformEv::Answer(phone::Input::SmsUnknown { id })),
            Some((None, _)) => {} // its result is on its way
            Some((Some(ok), delivered)) => {
                self.at(now, PlatformEv::Answer(phone::Input::SmsResult { id, ok }));
                if delivered {
                    self.at(now, PlatformEv::Answer(phone::Input::SmsDelivered { id }));
                }
            }
        }
        Ok(())
    }

    fn dial(&mut self, id: u64, to: &str, _message: &str) -> Result<(), Infallible> {
        self.mark(MarkerKind::Call, to.to_string());
        let note_to = to.to_string();
        self.say(PlatformNote::Dialling { to: note_to, id });
        self.calls.push(CallRecord {
            t_us: self.now(),
            to: to.to_string(),
            id,
            state: CallState::Dialling,
        });
        self.schedule_call(id, to);
        Ok(())
    }

    fn hang_up(&mut self, id: u64) -> Result<(), Infallible> {
        self.set_call_state(id, CallState::HungUp);
        self.say(PlatformNote::HungUp { id });
        Ok(())
    }

    fn join_conference(
        &mut self,
        url: &str,
        mic_on: bool,
        speaker_muted: bool,
    ) -> Result<(), Infallible> {
        if self.wearer_room.as_deref() == Some(url) {
            return Ok(());
        }
        self.wearer_room = Some(url.to_string());
        self.conference.push((self.now(), "wearer".into()));
        self.say(PlatformNote::WearerJoins {
            url: url.to_string(),
            mic_on,
            speaker_muted,
        });
        Ok(())
    }

    fn request_location(&mut self) -> Result<(), Infallible> {
        match self.current_fix(self.utc_ms()) {
            Some(f) => self.at(self.now(), PlatformEv::Location(f)),
            None => self.location_pending = true,
        }
        Ok(())
    }

    fn siren(&mut self, on: bool, volume_pct: u8, override_silent: bool) -> Result<(), Infallible> {
        if on == self.siren_on {
            return Ok(());
        }
        self.siren_starts += u32::from(on);
        self.mark(MarkerKind::Siren, on_off(on).into());
        self.siren_on = on;
        self.siren_ever |= on;
        self.say(PlatformNote::Siren {
            on,
            volume_pct,
            override_silent,
        });
        Ok(())
    }

    fn start_recording(&mut self, id: u64, button_mic: bool) -> Result<(), Infallible> {
        if self.recordings.iter().any(|r| r.id == id) {
            return Ok(());
        }
        self.mark(MarkerKind::Recording, "start".into());
        self.recordings.push(RecorderRun {
            id,
            start_us: self.now(),
            end_us: None,
        });
        self.say(PlatformNote::RecordingStarted { id, button_mic });
        Ok(())
    }

    fn stop_recording(&mut self, id: u64) -> Result<(), Infallible> {
        let now = self.now();
        // Stopped already: its content is handed over again (the file is on disk).
        if let Some(dur_us) = self
            .recordings
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.end_us.map(|e| e - r.start_us))
        {
            self.at(now, PlatformEv::RecordingStopped { id, dur_us });
            return Ok(());
        }
        let Some(r) = self
            .recordings
            .iter_mut()
            .find(|r| r.id == id && r.end_us.is_none())
        else {
            return Ok(());
        };
        self.core
            .borrow_mut()
            .mark(MarkerKind::Recording, "stop".into());
        r.end_us = Some(now);
        let dur_us = now - r.start_us;
        self.say(PlatformNote::RecordingStopped { id, dur_us });
        self.at(now, PlatformEv::RecordingStopped { id, dur_us });
        Ok(())
    }

    fn countdown_alarm(&mut self, on: bool, seconds: u32) -> Result<(), Infallible> {
        if on == self.countdown_on {
            return Ok(());
        }
        if on {
            self.mark(MarkerKind::Countdown, "start".into());
        }
        if on && !self.countdown_on {
            self.countdowns_started += 1;
        }
        self.countdown_on = on;
        self.say(PlatformNote::CountdownAlarm { on, seconds });
        Ok(())
    }

    fn warn(&mut self, w: Warning) -> Result<(), Infallible> {
        self.mark(MarkerKind::Warning, format!("{w:?}"));
        self.warnings.push((self.now(), w));
        self.say(PlatformNote::Warning(w));
        Ok(())
    }

    fn persist(&mut self, bytes: &[u8]) -> Result<(), Infallible> {
        self.writes += 1;
        let slot = phone::store::slot_of_record(bytes);
        let keep = match self.crash {
            Some((CrashPlan::TornWrite { nth, keep }, seen)) if seen + 1 >= u64::from(nth) => {
                Some(keep)
            }
            _ => None,
        };
        self.crash_tick(|p| match p {
            CrashPlan::TornWrite { nth, .. } => Some(u64::from(*nth)),
            _ => None,
        });
        let Some(keep) = keep else {
            self.storage[slot] = Some(bytes.to_vec());
            return Ok(());
        };
        // Torn: the first bytes of the new record over the slot's old content.
        let n = match keep {
            Keep::Bytes(n) => n.min(bytes.len()),
            Keep::Half => bytes.len() / 2,
            Keep::AllBut(k) => bytes.len().saturating_sub(k),
        };
        let mut torn = self.storage[slot].take().unwrap_or_default();
        if torn.len() < n {
            torn.resize(n, 0);
        }
        torn[..n].copy_from_slice(&bytes[..n]);
        self.say(PlatformNote::StorageTorn {
            written: n,
            len: bytes.len(),
            slot,
        });
        self.storage[slot] = Some(torn);
        Ok(())
    }

    fn note(&mut self, note: &AppNote) -> Result<(), Infallible> {
        let mut core = self.core.borrow_mut();
        if let AppNote::EventReceived { seq, .. } = note {
            let t = core.now;
            core.series.received.push((t, *seq));
        }
        if let AppNote::Rejected(_) = note {
            core.mark(MarkerKind::Rejected, note.to_string());
        }
        core.observe(Layer::Phone, Observed::App(note.clone()));
        Ok(())
    }
}
