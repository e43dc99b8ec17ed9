//! The phone app's state machine.
//!
//! Contract with the host: call [`PhoneApp::handle`] for each input and
//! [`PhoneApp::handle_timeout`] when [`PhoneApp::poll_timeout`] is due, passing the
//! phone's UTC time in microseconds; then drain [`PhoneApp::poll_command`] and execute the
//! commands **in order**. A [`Command::Persist`] must be durable before the next command
//! is executed (it is the app's fsync): that is how "acknowledge only after recording"
//! holds — the `Ack` write always follows the `Persist` that recorded the event.
//!
//! Exactly once: an event is acted on when first recorded; a copy of a recorded event
//! whose acknowledgement the button never confirmed is a retransmission (acknowledged
//! again, not acted on); a copy whose acknowledgement the button confirmed can only be a
//! replay, and is rejected like a frame with a bad tag or from an unbonded device.
//!
//! Protocol version 2 (the `link` child module): the app connects only to addresses
//! that resolve with its bond's identity resolving key; on every connection it writes a
//! `Hello` with a fresh nonce (from the host's entropy, given at [`PhoneApp::start`]) and
//! accepts only an offer that proves the bond; every command it writes is signed in that
//! session with a strictly increasing counter; it opens sealed frames with the session
//! and rejects (counts) what does not open. Battery warnings come only from sealed
//! reports (heartbeats, low-battery events). Without an authenticated word from the
//! button for [`SILENCE_WARNING_US`] — link up or not — it warns that the button is
//! disconnected (so a device that took over the address cannot hold it quiet), besides
//! the link-loss warning after `disconnect_warning_s`. Pairing ([`Input::PairWith`]):
//! X25519 with the button, the code shown ([`Command::ShowPairingCode`]), the wearer's
//! confirmation ([`Input::ConfirmPairing`]), then the new bond replaces the old one.
//!
//! Write-ahead (the `wal` child module): the app may be killed between any two
//! commands. Every command that acts on the world (an SMS, a call, the siren, the
//! recorder, the countdown alarm, the conference, a warning) is preceded by a
//! [`Command::Persist`] of a state that already records it as possibly done; a restart
//! resumes every alert from that record ([`PhoneApp::start_loaded`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use protocol::{ConfirmCode, Drbg, EventFrame, EventKind, Keys, VibrationPattern};
use sha2::{Digest, Sha256};

use crate::config::AppConfig;
use crate::gatt::{DeviceId, GattCommand, GattEvent};
use crate::note::{hex, AppNote, CancelledBy, RejectReason};
use crate::store::{
    ActiveRecording, Alert, AlertKind, CallTask, Countdown, Durable, EventRecord, Loaded, OutSms,
    Recording,
};
use crate::text::{age, map_link, utc, Fix};

const S: u64 = 1_000_000;
/// A connection attempt without an answer is abandoned after this, and scanning starts
/// again (a stack that never reports the outcome must not wedge the app).
const CONNECT_TIMEOUT_US: u64 = 10 * S;
/// How long a connected app waits for the button's session offer after its `Hello`
/// before it drops the link to ask again on a new connection.
const SESSION_TIMEOUT_US: u64 = 10 * S;
/// An SMS refused while the network is reported up is retried after this.
const SMS_QUICK_RETRY_US: u64 = 2 * S;
/// Alert SMS whose delivery report is awaited, at most (the oldest are forgotten).
const MAX_AWAITING_DELIVERY: usize = 256;
/// Without an authenticated word from the button for this long, the wearer is warned
/// that it is disconnected, even while a link is up.
pub const SILENCE_WARNING_US: u64 = 120 * S;

/// The earlier of two optional instants.
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod crash_tests;
mod link;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
pub(crate) mod testkit;
mod wal;

/// Progress of a call placed through the telephony service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallUpdate {
    /// The callee's phone rings.
    Ringing,
    /// The callee answered (the spoken message plays).
    Answered,
    /// The callee's line is busy (the call ended).
    Busy,
    /// The call ended.
    Ended,
    /// The call could not be placed (no network).
    Failed,
}

/// What the wearer is warned about on the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The button's battery is at or below this percentage.
    BatteryLow(u8),
    /// The button has been disconnected for longer than the warning delay.
    ButtonDisconnected,
    /// The app's storage was damaged (a torn write): it resumed from its last good copy.
    StorageRecovered,
    /// The app's storage could not be read at all: it starts empty, unbonded (pair the
    /// button again).
    StorageLost,
    /// The button's queue was full while it could not reach the phone: it let this many
    /// events go over its life (battery reports first, never the first and the latest
    /// alerts; `firmware::queue`). Alerts may be missing: the wearer should check.
    EventsDropped(u32),
}

/// An input to the app.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// From the GATT client.
    Gatt(GattEvent),
    /// A position fix from the location service.
    Location(Fix),
    /// The SMS service accepted (`ok`) or refused an SMS.
    SmsResult {
        /// SMS id.
        id: u64,
        /// Accepted.
        ok: bool,
    },
    /// The SMS service has no record of SMS `id`: it was never handed to it (the
    /// answer to [`Command::QuerySms`] for an SMS the app died before sending).
    SmsUnknown {
        /// SMS id.
        id: u64,
    },
    /// The network's delivery report: SMS `id` reached its recipient's phone now (an
    /// SMS held back by the network counts from when it was delivered).
    SmsDelivered {
        /// SMS id.
        id: u64,
    },
    /// A call's progress.
    Call {
        /// Call id.
        id: u64,
        /// What happened.
        update: CallUpdate,
    },
    /// Cellular network available or not.
    Network {
        /// Available.
        available: bool,
    },
    /// The recorder stopped and hands over its content.
    RecordingStopped {
        /// Recorder id.
        id: u64,
        /// Recorded bytes.
        content: Vec<u8>,
    },
    /// The wearer pressed "cancel" on the phone.
    UserCancel,
    /// The wearer asks to pair with `device` (picked from a scan), with fresh entropy
    /// from the phone's RNG. The app connects and starts the key agreement.
    PairWith {
        /// The button to pair with (in pairing mode).
        device: crate::gatt::DeviceId,
        /// 32 bytes from the phone's RNG.
        entropy: [u8; 32],
    },
    /// The wearer compared the code on the phone with the button's: same or not.
    ConfirmPairing {
        /// The codes match.
        matches: bool,
    },
}

/// A command to a platform port.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// To the GATT client.
    Gatt(GattCommand),
    /// Send an SMS; the answer comes as [`Input::SmsResult`].
    SendSms {
        /// SMS id.
        id: u64,
        /// Recipient (E.164).
        to: String,
        /// Text.
        text: String,
    },
    /// Ask the SMS service what became of SMS `id` (after a restart, for an SMS whose
    /// result or delivery report the app has not recorded): answered by
    /// [`Input::SmsResult`] (and [`Input::SmsDelivered`] once delivered), by
    /// [`Input::SmsUnknown`] when it was never handed over, or not at all while its
    /// result is still to come.
    QuerySms {
        /// SMS id.
        id: u64,
    },
    /// Place an alert call that speaks `message`.
    Dial {
        /// Call id.
        id: u64,
        /// Number.
        to: String,
        /// Spoken message.
        message: String,
    },
    /// Hang up a call.
    HangUp {
        /// Call id.
        id: u64,
    },
    /// The wearer's phone joins a conference room.
    JoinConference {
        /// Room.
        url: String,
        /// Microphone on.
        mic_on: bool,
        /// Speaker muted.
        speaker_muted: bool,
    },
    /// Ask the location service for a fix; it answers with [`Input::Location`].
    RequestLocation,
    /// Siren.
    Siren {
        /// On or off.
        on: bool,
        /// Volume (percent).
        volume_pct: u8,
        /// Sound even in silent mode.
        override_silent: bool,
    },
    /// Start recording audio.
    StartRecording {
        /// Recorder id.
        id: u64,
        /// Also take the button's microphone stream when the link allows.
        button_mic: bool,
    },
    /// Stop recording; the recorder answers with [`Input::RecordingStopped`].
    StopRecording {
        /// Recorder id.
        id: u64,
    },
    /// Show (or stop) the fall countdown alarm on the phone.
    CountdownAlarm {
        /// On or off.
        on: bool,
        /// Seconds to go.
        seconds: u32,
    },
    /// Warn the wearer (notification on the phone only).
    Warn(Warning),
    /// Show the pairing code for the wearer to compare with the button's; the answer
    /// comes as [`Input::ConfirmPairing`].
    ShowPairingCode(ConfirmCode),
    /// Write the durable state (a storage record, [`crate::store::record`], to the slot
    /// [`crate::store::slot_of_record`] names); durable before the next command runs.
    Persist(Vec<u8>),
    /// A line for the log ([`AppNote`]'s `Display` is the text).
    Note(AppNote),
}

/// The app.
#[derive(Debug)]
pub struct PhoneApp {
    cfg: Arc<AppConfig>,
    d: Durable,
    out: VecDeque<Command>,
    connected: Option<DeviceId>,
    /// A connection attempt in progress, since (UTC µs).
    connecting: Option<u64>,
    /// When the `Hello` of this connection was written (UTC µs), until the offer.
    hello_at: Option<u64>,
    bt_on: bool,
    network: bool,
    disconnected_since: Option<u64>,
    disconnect_warned: bool,
    writes: BTreeMap<u64, Option<u32>>,
    sms_retry_at: Option<u64>,
    dirty: bool,
    /// The bond's keys (derived once).
    keys: Option<Keys>,
    drbg: Drbg,
    /// The session of the current connection, or the nonce of the `Hello` awaiting its
    /// offer.
    session: link::SessionState,
    /// Last authenticated word from the button (UTC µs; app start until the first).
    last_auth: u64,
    pairing: Option<link::PhonePairing>,
    /// The latest time the host gave (UTC µs).
    now: u64,
    /// Write-ahead bookkeeping: what is queued, staged and saved.
    wal: wal::Wal,
}

impl PhoneApp {
    /// Start the app at `now` (UTC µs) with what durable storage holds and 32 bytes of
    /// the phone's entropy (nonces and pairing keys are drawn from it). The
    /// configuration is shared, never copied: a host keeps it to start the app again.
    pub fn start(
        cfg: impl Into<Arc<AppConfig>>,
        durable: Durable,
        now: u64,
        entropy: [u8; 32],
    ) -> Self {
        Self::start_loaded(cfg, Loaded::fresh(durable), now, entropy)
    }

    /// Start the app from what [`crate::store::load`] read of its two storage slots:
    /// warn the wearer loudly if storage was damaged, then resume every alert from its
    /// record (texts, calls, siren, recording, countdown, conference).
    pub fn start_loaded(
        cfg: impl Into<Arc<AppConfig>>,
        loaded: Loaded,
        now: u64,
        entropy: [u8; 32],
    ) -> Self {
        let cfg = cfg.into();
        let Loaded {
            durable,
            generation,
            damage,
        } = loaded;
        let lost = durable.link_lost;
        let durable_bytes = durable.to_payload();
        let mut app = PhoneApp {
            keys: durable
                .bond
                .as_ref()
                .map(|b| protocol::BondKey(b.key).keys()),
            drbg: Drbg::new(&entropy),
            session: link::SessionState::None,
            last_auth: now,
            pairing: None,
            cfg,
            d: durable,
            out: VecDeque::new(),
            connected: None,
            connecting: None,
            hello_at: None,
            bt_on: true,
            network: true,
            // Across a restart during an outage, the count goes on from the last
            // exchange that got through.
            disconnected_since: Some(lost.map_or(now, |l| l.last_exchange_us)),
            disconnect_warned: lost.is_some_and(|l| l.warned),
            // (durable_bytes below: what storage holds now, so an unchanged state is
            // not written again.)
            writes: BTreeMap::new(),
            sms_retry_at: None,
            dirty: false,
            now,
            wal: wal::Wal::new(generation, &durable_bytes),
        };
        if app.d.next_id == 0 {
            app.d.next_id = 1;
        }
        app.note(AppNote::Started);
        app.storage_damage(damage);
        if app.d.bond.is_some() {
            app.out.push_back(Command::Gatt(GattCommand::StartScan));
        }
        app.resume_outputs(now);
        // Work left by the previous run: alerts waiting for a fix, unsent SMS.
        if app
            .d
            .alerts
            .values()
            .any(|a| a.fix_deadline_us.is_some() || a.followup)
        {
            app.out.push_back(Command::RequestLocation);
        }
        app.resume_sms(now);
        if !app.d.outbox.is_empty() {
            app.sms_retry_at = Some(now + u64::from(app.cfg.timings.sms_retry_s) * S);
        }
        app
    }

    /// The configuration.
    pub fn config(&self) -> &AppConfig {
        &self.cfg
    }

    /// The durable state (what a restart keeps).
    pub fn durable(&self) -> &Durable {
        &self.d
    }

    /// Whether the bonded button is connected.
    pub fn is_connected(&self) -> bool {
        self.connected.is_some()
    }

    /// The address of the connected button, if any.
    pub fn connected_device(&self) -> Option<&DeviceId> {
        self.connected.as_ref()
    }

    /// Whether a session with the bonded button is open on this connection.
    pub fn has_session(&self) -> bool {
        matches!(self.session, link::SessionState::Open(_))
    }

    /// The code of the pairing under way, once known.
    pub fn pairing_code(&self) -> Option<ConfirmCode> {
        self.pairing.as_ref().and_then(|p| p.code())
    }

    fn note(&mut self, n: AppNote) {
        self.out.push_back(Command::Note(n));
    }

    /// Ask for a durable write here: the state as it stands when the host reaches this
    /// point of the queue is written then (never an older snapshot).
    fn persist(&mut self) {
        self.out.push_back(Command::Persist(Vec::new()));
        self.dirty = true;
    }

    /// Handle an input at `now` (UTC µs).
    pub fn handle(&mut self, now: u64, input: Input) {
        self.handle_timeout(now);
        match input {
            Input::Gatt(ev) => self.on_gatt(now, ev),
            Input::Location(fix) => self.on_fix(now, fix),
            Input::SmsResult { id, ok } => self.on_sms_result(now, id, ok),
            Input::SmsDelivered { id } => self.on_sms_delivered(now, id),
            Input::SmsUnknown { id } => self.on_sms_unknown(now, id),
            Input::Call { id, update } => self.on_call(now, id, update),
            Input::Network { available } => {
                self.network = available;
                if available {
                    self.note(AppNote::NetworkBack);
                    self.retry_outbox(now, false);
                }
            }
            Input::RecordingStopped { id, content } => self.on_recording(now, id, &content),
            Input::UserCancel => self.cancel_countdown(CancelledBy::PhoneCancel),
            Input::PairWith { device, entropy } => self.pair_with(now, device, entropy),
            Input::ConfirmPairing { matches } => self.confirm_pairing(matches),
        }
    }

    // ---- GATT -------------------------------------------------------------------------

    /// Count a refused frame. The counter rides along with the next write that
    /// happens anyway, and forces one only every [`wal::REJECTED_SAVE_EVERY`]
    /// rejections, so a flood of junk frames costs no write per frame; it saturates.
    fn reject(&mut self, why: RejectReason) {
        self.d.rejected = self.d.rejected.saturating_add(1);
        if self.d.rejected.is_multiple_of(wal::REJECTED_SAVE_EVERY) {
            self.dirty = true;
        }
        self.note(AppNote::Rejected(why));
    }

    /// A sealed event frame that opened in the session: record, act, persist, ack.
    ///
    /// A copy of a recorded event is acknowledged again and never acted on again,
    /// even when its acknowledgement was confirmed: a button can reset between the
    /// ATT write response and keeping the `Ack` in flash, and would then send it for
    /// ever, every later event waiting behind it. The frame opened in this session, so
    /// only the bonded button sent it: replays never reach this point.
    fn on_event_frame(&mut self, now: u64, frame: EventFrame) {
        if let Some(rec) = self.d.events.get(&frame.seq) {
            if rec.ack_confirmed {
                self.note(AppNote::AcknowledgedAgain { seq: frame.seq });
                return self.write(protocol::Command::Ack { seq: frame.seq }, Some(frame.seq));
            }
            self.note(AppNote::Retransmission { seq: frame.seq });
            self.persist();
            return self.write(protocol::Command::Ack { seq: frame.seq }, Some(frame.seq));
        }
        if frame.seq <= self.d.pruned_through {
            return self.reject(RejectReason::ReplayOld { seq: frame.seq });
        }
        let now_ms = now / 1000;
        let event_ms = if frame.clock_synced() {
            frame.time_ms.min(now_ms)
        } else {
            now_ms
        };
        let late =
            now_ms.saturating_sub(event_ms) > u64::from(self.cfg.timings.late_after_s) * 1000;
        self.d.events.insert(
            frame.seq,
            EventRecord {
                kind: frame.kind.name().into(),
                event_ms,
                ack_confirmed: false,
            },
        );
        while self.d.events.len() > 512 {
            if let Some((&s, _)) = self.d.events.iter().next() {
                self.d.events.remove(&s);
                self.d.pruned_through = s;
            }
        }
        self.note(AppNote::EventReceived {
            seq: frame.seq,
            kind: frame.kind,
            event_ms,
            late,
        });
        self.act(now, frame.kind, &frame.payload, event_ms, late);
        // Recorded and acted on in one durable write, then acknowledged.
        self.persist();
        self.write(protocol::Command::Ack { seq: frame.seq }, Some(frame.seq));
    }

    // ---- what each event does --------------------------------------------------------

    fn act(&mut self, now: u64, kind: EventKind, payload: &[u8], event_ms: u64, late: bool) {
        match kind {
            EventKind::Single => {
                if self.d.countdown.is_some() {
                    self.cancel_countdown(CancelledBy::ButtonPress);
                } else {
                    self.new_alert(now, AlertKind::Help, event_ms, late, self.all_contacts());
                }
            }
            EventKind::Double => self.on_double(now, event_ms, late),
            EventKind::Long => self.on_long(now),
            EventKind::Triple => self.on_triple(now, event_ms, late),
            EventKind::Fall => {
                if !self.on_fall(now, event_ms, late) {
                    return;
                }
            }
            EventKind::LowBattery | EventKind::Heartbeat => {
                if let Some(&pct) = payload.first() {
                    self.on_battery(pct);
                }
            }
        }
        self.dirty = true;
    }

    /// Double press: SMS with the conference link, alert calls to every contact, the
    /// wearer's phone joins the conference.
    fn on_double(&mut self, now: u64, event_ms: u64, late: bool) {
        let room = self.d.id();
        let url = format!("{}{room}", self.cfg.conference_base_url);
        self.new_alert(
            now,
            AlertKind::Conference { url: url.clone() },
            event_ms,
            late,
            self.all_contacts(),
        );
        for to in self.all_contacts() {
            let task = self.d.id();
            self.d.calls.insert(
                task,
                CallTask {
                    to,
                    attempts: 0,
                    dial_at_us: Some(now),
                    call_id: None,
                    ringing_since_us: None,
                    done: false,
                },
            );
        }
        self.d.conference = Some(url.clone());
        self.out.push_back(wal::join(url));
        self.dial_due(now);
    }

    /// Long press: siren and recording on, or both off when already on.
    fn on_long(&mut self, now: u64) {
        if self.d.siren_on || self.d.recording.is_some() {
            return self.stop_siren_and_recording();
        }
        self.d.siren_on = true;
        self.d.siren_used = true;
        self.out.push_back(wal::siren(true));
        let id = self.d.id();
        self.d.recording = Some(ActiveRecording {
            id,
            start_ms: now / 1000,
            position: self.d.last_fix,
            stopping: false,
        });
        self.out.push_back(wal::start_recording(id));
        self.vibrate(VibrationPattern::Sent);
    }

    /// Triple press, "I am safe": stops siren, recording and countdown; tells the
    /// contacts who received an alert in the window (counted from its delivery).
    fn on_triple(&mut self, now: u64, event_ms: u64, late: bool) {
        self.stop_siren_and_recording();
        self.cancel_countdown(CancelledBy::IAmSafe);
        let window_ms = u64::from(self.cfg.timings.safe_window_s) * 1000;
        let since = (now / 1000).saturating_sub(window_ms);
        let mut to: Vec<String> = self
            .d
            .alerted
            .iter()
            .filter(|(_, t)| *t >= since)
            .map(|(n, _)| n.clone())
            .collect();
        to.sort();
        to.dedup();
        if to.is_empty() {
            self.note(AppNote::SafeNobodyAlerted);
        } else {
            self.new_alert(now, AlertKind::Safe, event_ms, late, to);
        }
    }

    /// A fall: the countdown starts, unless within the refractory period of the last
    /// (then nothing changes and this returns false).
    fn on_fall(&mut self, now: u64, event_ms: u64, late: bool) -> bool {
        let refractory = u64::from(self.cfg.timings.fall_refractory_s) * 1000;
        if self
            .d
            .last_fall_ms
            .is_some_and(|t| event_ms < t + refractory)
        {
            self.note(AppNote::FallRefractory);
            return false;
        }
        self.d.last_fall_ms = Some(event_ms);
        let secs = self.cfg.timings.fall_countdown_s;
        self.d.countdown = Some(Countdown {
            ends_at_us: now + u64::from(secs) * S,
            event_ms,
            late,
        });
        self.d.countdown_used = true;
        self.out.push_back(Command::CountdownAlarm {
            on: true,
            seconds: secs,
        });
        self.vibrate(VibrationPattern::Countdown);
        self.note(AppNote::FallCountdownStarted { secs });
        true
    }

    fn all_contacts(&self) -> Vec<String> {
        self.cfg.contacts.iter().map(|c| c.phone.clone()).collect()
    }

    /// A sealed battery report: one warning for every report that crosses one or more
    /// thresholds not yet warned about (a button that connects already below both
    /// warns once, not once per threshold or per report).
    fn on_battery(&mut self, pct: u8) {
        // Recharged or replaced: warn again next time.
        if pct > 30 && !self.d.battery_warned.is_empty() {
            self.d.battery_warned.clear();
            self.dirty = true;
        }
        let crossed: Vec<u8> = self
            .cfg
            .battery_warn_levels
            .iter()
            .copied()
            .filter(|l| pct <= *l && !self.d.battery_warned.contains(l))
            .collect();
        if crossed.is_empty() {
            return;
        }
        self.d.battery_warned.extend(crossed);
        self.dirty = true;
        self.out.push_back(Command::Warn(Warning::BatteryLow(pct)));
        self.note(AppNote::BatteryLow { pct });
    }

    /// A heartbeat carries, after the level, the count of events the button's full
    /// queue let go (u32 little-endian, only once it is not zero). A higher count than
    /// the one last seen warns the wearer; a lower one (a new button) is just kept.
    fn on_dropped_count(&mut self, payload: &[u8]) {
        let Some(bytes) = payload.get(1..5).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
            return;
        };
        let total = u32::from_le_bytes(bytes);
        if total == self.d.button_dropped {
            return;
        }
        let more = total > self.d.button_dropped;
        self.d.button_dropped = total;
        self.dirty = true;
        if more {
            self.out
                .push_back(Command::Warn(Warning::EventsDropped(total)));
            self.note(AppNote::ButtonDroppedEvents { total });
        }
    }

    fn stop_siren_and_recording(&mut self) {
        if self.d.siren_on {
            self.d.siren_on = false;
            self.out.push_back(wal::siren(false));
        }
        if let Some(r) = self.d.recording.as_mut() {
            r.stopping = true;
            self.out.push_back(Command::StopRecording { id: r.id });
        }
        self.dirty = true;
    }

    fn on_recording(&mut self, now: u64, id: u64, content: &[u8]) {
        if self.d.recording.as_ref().map(|r| r.id) != Some(id) {
            return;
        }
        let Some(r) = self.d.recording.take() else {
            return;
        };
        let digest: [u8; 32] = Sha256::digest(content).into();
        let bytes = content.len() as u64;
        self.note(AppNote::RecordingStored {
            bytes,
            sha256: digest,
        });
        self.d.recordings.push(Recording {
            start_ms: r.start_ms,
            end_ms: now / 1000,
            position: r.position,
            sha256: hex(&digest),
            bytes,
        });
        self.dirty = true;
    }

    fn cancel_countdown(&mut self, by: CancelledBy) {
        if self.d.countdown.take().is_some() {
            self.out.push_back(Command::CountdownAlarm {
                on: false,
                seconds: 0,
            });
            self.note(AppNote::FallCountdownCancelled(by));
            self.dirty = true;
        }
    }

    // ---- SMS alerts ------------------------------------------------------------------

    fn new_alert(
        &mut self,
        now: u64,
        kind: AlertKind,
        event_ms: u64,
        late: bool,
        recipients: Vec<String>,
    ) {
        let id = self.d.id();
        let deadline = now + u64::from(self.cfg.timings.fix_wait_s) * S;
        self.d.alerts.insert(
            id,
            Alert {
                kind,
                recipients,
                event_ms,
                late,
                fix_deadline_us: Some(deadline),
                followup: false,
                unsent: 0,
                feedback: None,
            },
        );
        self.dirty = true;
        self.out.push_back(Command::RequestLocation);
    }

    fn on_fix(&mut self, now: u64, fix: Fix) {
        self.d.last_fix = Some(fix);
        self.dirty = true;
        let waiting: Vec<u64> = self
            .d
            .alerts
            .iter()
            .filter(|(_, a)| a.fix_deadline_us.is_some())
            .map(|(&id, _)| id)
            .collect();
        for id in waiting {
            self.compose(now, id, Some(fix), true);
        }
        let followups: Vec<u64> = self
            .d
            .alerts
            .iter()
            .filter(|(_, a)| a.followup)
            .map(|(&id, _)| id)
            .collect();
        for id in followups {
            let Some(a) = self.d.alerts.get_mut(&id) else {
                continue;
            };
            a.followup = false;
            let to = a.recipients.clone();
            let text = format!(
                "{} {} (±{:.0} m, {})",
                self.cfg.texts.position_update,
                map_link(fix.lat, fix.lon),
                fix.accuracy_m,
                utc(fix.utc_ms)
            );
            for r in to {
                self.queue_sms(now, id, r, text.clone());
            }
        }
    }

    fn position_text(&self, now: u64, fix: Option<Fix>, current: bool) -> String {
        let t = &self.cfg.texts;
        match fix {
            Some(f) if current => format!(
                "{} {} (±{:.0} m, {})",
                t.position,
                map_link(f.lat, f.lon),
                f.accuracy_m,
                utc(f.utc_ms)
            ),
            Some(f) => format!(
                "{} {} (±{:.0} m, {} old)",
                t.last_known_position,
                map_link(f.lat, f.lon),
                f.accuracy_m,
                age((now / 1000).saturating_sub(f.utc_ms))
            ),
            None => t.position_unknown.clone(),
        }
    }

    fn compose(&mut self, now: u64, id: u64, fix: Option<Fix>, current: bool) {
        let position = self.position_text(now, fix, current);
        let Some(a) = self.d.alerts.get_mut(&id) else {
            return;
        };
        a.fix_deadline_us = None;
        a.followup = !current;
        let t = &self.cfg.texts;
        let opening = match &a.kind {
            AlertKind::Help => t.alert_message.clone(),
            AlertKind::Fall => t.fall.clone(),
            AlertKind::Conference { url } => format!("{} {url}", t.join_conference),
            AlertKind::Safe => t.safe.clone(),
        };
        let late = if a.late {
            format!(" ({} {})", t.sent_late, utc(a.event_ms))
        } else {
            String::new()
        };
        let text = format!("{opening}{late} {position}");
        let recipients = a.recipients.clone();
        for to in recipients {
            self.queue_sms(now, id, to, text.clone());
        }
    }

    fn queue_sms(&mut self, now: u64, alert: u64, to: String, text: String) {
        let id = self.d.id();
        let recipient = to.clone();
        self.d.outbox.insert(
            id,
            OutSms {
                to,
                text,
                alert,
                attempts: 0,
                awaiting_since_us: None,
            },
        );
        if let Some(a) = self.d.alerts.get_mut(&alert) {
            a.unsent += 1;
            // Its recipient counts as alerted once the network reports it delivered.
            if a.kind != AlertKind::Safe {
                self.d.awaiting_delivery.insert(id, recipient);
                while self.d.awaiting_delivery.len() > MAX_AWAITING_DELIVERY {
                    self.d.awaiting_delivery.pop_first();
                }
            }
        }
        self.dirty = true;
        self.send_sms(now, id);
    }

    /// The SMS service never got SMS `id` (the app died before handing it over):
    /// send it now.
    fn on_sms_unknown(&mut self, now: u64, id: u64) {
        let Some(sms) = self.d.outbox.get_mut(&id) else {
            return;
        };
        if sms.awaiting_since_us.take().is_some() {
            self.dirty = true;
            self.send_sms(now, id);
        }
    }

    /// A delivery report: the recipient of an alert SMS has received an alert now.
    fn on_sms_delivered(&mut self, now: u64, id: u64) {
        let Some(to) = self.d.awaiting_delivery.remove(&id) else {
            return;
        };
        let now_ms = now / 1000;
        self.d.alerted.push((to, now_ms));
        // Keep the "alerted" list to the safe window.
        let keep_from = now_ms.saturating_sub(u64::from(self.cfg.timings.safe_window_s) * 1000);
        self.d.alerted.retain(|(_, t)| *t >= keep_from);
        self.dirty = true;
    }

    /// Queue SMS `id`. It is marked as handed to the SMS service (its attempt counted,
    /// its result awaited) only when the host takes the command, in the write just
    /// before it ([`PhoneApp::poll_command`]): a crash before that leaves it unsent in
    /// the record, and the next start sends it.
    fn send_sms(&mut self, _now: u64, id: u64) {
        let Some(sms) = self.d.outbox.get(&id) else {
            return;
        };
        if !self.wal.queue_sms(id) {
            return;
        }
        let cmd = Command::SendSms {
            id,
            to: sms.to.clone(),
            text: sms.text.clone(),
        };
        self.out.push_back(cmd);
    }

    /// Send again the SMS known to have failed; with `stale`, also those whose result
    /// has not come within the retry period (lost across an app restart, say). An SMS
    /// whose result may still come is never sent twice at once.
    fn retry_outbox(&mut self, now: u64, stale: bool) {
        self.sms_retry_at = None;
        let period = u64::from(self.cfg.timings.sms_retry_s) * S;
        let ids: Vec<u64> = self
            .d
            .outbox
            .iter()
            .filter(|(id, _)| !self.wal.sms_queued(**id))
            .filter(|(_, m)| match m.awaiting_since_us {
                None => true,
                Some(t) => stale && t + period <= now,
            })
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.send_sms(now, id);
        }
        if !self.d.outbox.is_empty() {
            self.sms_retry_at = Some(now + period);
        }
    }

    fn on_sms_result(&mut self, now: u64, id: u64, ok: bool) {
        let Some(sms) = self.d.outbox.get_mut(&id) else {
            return;
        };
        sms.awaiting_since_us = None;
        self.dirty = true;
        let alert = sms.alert;
        if ok {
            self.d.outbox.remove(&id);
            self.dirty = true;
            let done = match self.d.alerts.get_mut(&alert) {
                Some(a) => {
                    a.unsent = a.unsent.saturating_sub(1);
                    a.unsent == 0 && a.fix_deadline_us.is_none()
                }
                None => false,
            };
            if done {
                self.feedback(alert, VibrationPattern::Sent);
                if let Some(a) = self.d.alerts.get(&alert) {
                    if !a.followup {
                        self.d.alerts.remove(&alert);
                    }
                }
            }
        } else {
            self.note(AppNote::SmsNotSent { id });
            self.feedback(alert, VibrationPattern::Failed);
            // With the network up (it may just have come back), try again shortly;
            // without it, at the retry period and as soon as it returns.
            let wait = if self.network {
                SMS_QUICK_RETRY_US
            } else {
                u64::from(self.cfg.timings.sms_retry_s) * S
            };
            let retry = now + wait;
            self.sms_retry_at = Some(self.sms_retry_at.map_or(retry, |r| r.min(retry)));
        }
    }

    fn feedback(&mut self, alert: u64, p: VibrationPattern) {
        let Some(a) = self.d.alerts.get_mut(&alert) else {
            return;
        };
        if a.feedback.as_deref() == Some(p.name()) {
            return;
        }
        // A failure is reported once; success is reported once it is all out.
        a.feedback = Some(p.name().to_string());
        self.dirty = true;
        self.vibrate(p);
    }

    // ---- calls -----------------------------------------------------------------------

    fn dial_due(&mut self, now: u64) {
        let due: Vec<u64> = self
            .d
            .calls
            .iter()
            .filter(|(&task, c)| {
                !c.done
                    && c.call_id.is_none()
                    && c.dial_at_us.is_some_and(|t| t <= now)
                    && !self.wal.dial_queued(task)
            })
            .map(|(&id, _)| id)
            .collect();
        // The attempt is counted and the call id recorded when the host takes the
        // command, in the write just before it (see `wal`).
        for task in due {
            let call_id = self.d.id();
            let message = self.cfg.texts.call_message.clone();
            let Some(c) = self.d.calls.get(&task) else {
                continue;
            };
            let to = c.to.clone();
            self.wal.queue_dial(call_id, task);
            self.out.push_back(Command::Dial {
                id: call_id,
                to,
                message,
            });
            self.dirty = true;
        }
    }

    fn on_call(&mut self, now: u64, id: u64, update: CallUpdate) {
        let max_attempts = 1 + self.cfg.timings.max_redials;
        let redial = u64::from(self.cfg.timings.redial_after_s) * S;
        let Some((&task, c)) = self.d.calls.iter_mut().find(|(_, c)| c.call_id == Some(id)) else {
            return;
        };
        match update {
            CallUpdate::Ringing => c.ringing_since_us = Some(now),
            CallUpdate::Answered => {
                c.done = true;
                c.ringing_since_us = None;
            }
            CallUpdate::Busy | CallUpdate::Failed | CallUpdate::Ended => {
                c.call_id = None;
                c.ringing_since_us = None;
                if !c.done {
                    if c.attempts < max_attempts {
                        c.dial_at_us = Some(now + redial);
                    } else {
                        c.done = true;
                    }
                }
            }
        }
        let to = c.to.clone();
        // A task done with no call under way will hear nothing more: it goes, so the
        // store does not grow with every alert ever called.
        if c.done && c.call_id.is_none() {
            self.d.calls.remove(&task);
        }
        self.dirty = true;
        self.note(AppNote::Call { to, update });
    }

    // ---- time ------------------------------------------------------------------------

    /// Next instant at which [`PhoneApp::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadline(true)
    }

    /// The next deadline other than the link watch (the disconnect and silence
    /// warnings): what bounds a run of heartbeats taken in bulk (feature
    /// `fast-forward`), which keeps that watch quiet itself.
    #[cfg(feature = "fast-forward")]
    pub fn deadline_besides_link_watch(&self) -> Option<u64> {
        self.deadline(false)
    }

    fn deadline(&self, link_watch: bool) -> Option<u64> {
        // Plain comparisons, not a chain of iterators through `min()`: this runs at
        // every step of a simulated world (it was ~6 % of an idle month's time).
        let ring = u64::from(self.cfg.timings.ring_timeout_s) * S;
        let mut due = None;
        for a in self.d.alerts.values() {
            due = earliest(due, a.fix_deadline_us);
        }
        for c in self.d.calls.values().filter(|c| !c.done) {
            due = earliest(due, c.dial_at_us.or(c.ringing_since_us.map(|t| t + ring)));
        }
        due = earliest(due, self.d.countdown.as_ref().map(|c| c.ends_at_us));
        if link_watch && !self.disconnect_warned && self.d.bond.is_some() {
            let warn = u64::from(self.cfg.timings.disconnect_warning_s) * S;
            let silence = self.last_auth.saturating_add(SILENCE_WARNING_US);
            let disconnect = self.disconnected_since.map(|t| t + warn);
            due = earliest(due, Some(disconnect.map_or(silence, |d| d.min(silence))));
        }
        if !self.d.outbox.is_empty() {
            due = earliest(due, self.sms_retry_at);
        }
        due = earliest(due, self.connecting.map(|t| t + CONNECT_TIMEOUT_US));
        earliest(due, self.offer_deadline())
    }

    /// Process what is due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        self.now = self.now.max(now);
        if self
            .connecting
            .is_some_and(|t| t + CONNECT_TIMEOUT_US <= now)
        {
            self.connecting = None;
            self.note(AppNote::ConnectTimedOut);
            self.out.push_back(Command::Gatt(GattCommand::StartScan));
        }
        if self.offer_deadline().is_some_and(|t| t <= now) {
            self.session_timed_out();
        }
        // Fixes not come in time.
        let expired: Vec<u64> = self
            .d
            .alerts
            .iter()
            .filter(|(_, a)| a.fix_deadline_us.is_some_and(|t| t <= now))
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            let last = self.d.last_fix;
            self.compose(now, id, last, false);
        }
        // Calls ringing too long.
        let ring = u64::from(self.cfg.timings.ring_timeout_s) * S;
        let hangups: Vec<u64> = self
            .d
            .calls
            .values()
            .filter(|c| !c.done && c.ringing_since_us.is_some_and(|t| t + ring <= now))
            .filter_map(|c| c.call_id)
            .collect();
        for id in hangups {
            self.out.push_back(Command::HangUp { id });
            if let Some(c) = self.d.calls.values_mut().find(|c| c.call_id == Some(id)) {
                c.ringing_since_us = None;
            }
            self.note(AppNote::CallUnanswered { id });
            self.on_call(now, id, CallUpdate::Ended);
        }
        self.dial_due(now);
        // Fall countdown over.
        if self
            .d
            .countdown
            .as_ref()
            .is_some_and(|c| c.ends_at_us <= now)
        {
            if let Some(c) = self.d.countdown.take() {
                self.out.push_back(Command::CountdownAlarm {
                    on: false,
                    seconds: 0,
                });
                self.note(AppNote::FallCountdownOver);
                self.new_alert(
                    now,
                    AlertKind::Fall,
                    c.event_ms,
                    c.late,
                    self.all_contacts(),
                );
            }
        }
        // Disconnected too long.
        let warn = u64::from(self.cfg.timings.disconnect_warning_s) * S;
        let silent = self.last_auth.saturating_add(SILENCE_WARNING_US) <= now;
        if !self.disconnect_warned
            && self.d.bond.is_some()
            && (silent || self.disconnected_since.is_some_and(|t| t + warn <= now))
        {
            self.disconnect_warned = true;
            if let Some(l) = self.d.link_lost.as_mut() {
                l.warned = true;
                self.dirty = true;
            }
            self.out
                .push_back(Command::Warn(Warning::ButtonDisconnected));
        }
        if self.sms_retry_at.is_some_and(|t| t <= now) {
            self.retry_outbox(now, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::{
        connected_app, drain, is_ack, started_app, to_button, FakeButton, KEY, T0,
    };
    use super::*;
    use crate::gatt::GattCommand;
    use protocol::wire::{ToButton, ToPhone};
    use protocol::{Address, Command as DeviceCommand, PairingKeyPair};

    fn ack_write(cmds: &[Command]) -> Option<(usize, u64)> {
        cmds.iter().enumerate().find_map(|(i, c)| match c {
            Command::Gatt(GattCommand::Write { id, .. }) if is_ack(c) => Some((i, *id)),
            _ => None,
        })
    }

    #[test]
    fn a_session_is_opened_and_every_command_is_signed() {
        let mut app = started_app();
        drain(&mut app);
        let mut b = FakeButton::new(KEY);
        let cmds = b.connect(&mut app, T0);
        assert!(app.has_session());
        assert_eq!(
            b.commands(&cmds),
            vec![DeviceCommand::SetTime { utc_ms: T0 / 1000 }]
        );
        // Every write is either the Hello or a signed command of the session.
        for c in &cmds {
            if let Some(m) = to_button(c) {
                assert!(matches!(
                    m,
                    ToButton::Hello { .. } | ToButton::Signed { .. }
                ));
            }
        }
    }

    #[test]
    fn an_event_is_recorded_durably_before_it_is_acknowledged() {
        let (mut app, mut b) = connected_app();
        app.handle(T0 + 1, b.press(1));
        let cmds = drain(&mut app);
        let (ack_at, _) = ack_write(&cmds).unwrap_or_else(|| panic!("no ack in {cmds:?}"));
        assert_eq!(b.commands(&cmds), vec![DeviceCommand::Ack { seq: 1 }]);
        let persisted = cmds[..ack_at].iter().rev().find_map(|c| match c {
            Command::Persist(b) => crate::store::record::decode(b).ok().map(|(_, d)| d),
            _ => None,
        });
        let d = persisted.unwrap_or_else(|| panic!("no Persist before the ack in {cmds:?}"));
        assert!(d.events.contains_key(&1));
        assert!(cmds.iter().any(|c| matches!(c, Command::RequestLocation)));
    }

    #[test]
    fn a_retransmission_is_acked_again_but_a_replay_is_rejected() {
        let (mut app, mut b) = connected_app();
        app.handle(T0 + 1, b.press(1));
        drain(&mut app);
        // The ack was lost: the button sends the event again (a new frame index).
        app.handle(T0 + 2, b.press(1));
        let again = drain(&mut app);
        assert!(ack_write(&again).is_some());
        assert!(!again.iter().any(|c| matches!(c, Command::RequestLocation)));
        assert_eq!(app.durable().rejected, 0);
        let (_, id2) = ack_write(&again).unwrap_or_else(|| panic!("no ack"));
        app.handle(
            T0 + 3,
            Input::Gatt(GattEvent::WriteDone { id: id2, ok: true }),
        );
        // The button sends it again (it reset before keeping the ack): acknowledged
        // again, not acted on, not counted as rejected.
        let copy = b.press(1);
        app.handle(T0 + 4, copy.clone());
        assert_eq!(app.durable().rejected, 0);
        let third = drain(&mut app);
        assert!(third.contains(&Command::Note(AppNote::AcknowledgedAgain { seq: 1 })));
        assert!(ack_write(&third).is_some());
        assert!(!third.iter().any(|c| matches!(c, Command::RequestLocation)));
        // The very same sealed frame again: its index was seen in this session.
        app.handle(T0 + 5, copy);
        assert_eq!(app.durable().rejected, 1);
        // A frame from another device.
        let stranger = DeviceId("C0:FF:EE:00:00:99".into());
        let Input::Gatt(GattEvent::Value { value, .. }) = b.press(2) else {
            panic!("value")
        };
        app.handle(
            T0 + 6,
            Input::Gatt(GattEvent::Value {
                device: stranger.clone(),
                char: protocol::gatt::EVENT_CHAR,
                value,
            }),
        );
        assert_eq!(app.durable().rejected, 2);
        assert!(drain(&mut app).contains(&Command::Note(AppNote::Rejected(
            RejectReason::UnbondedDevice(stranger)
        ))));
    }

    #[test]
    fn frames_of_another_session_key_or_tampered_are_rejected() {
        let (mut app, mut b) = connected_app();
        let old = b.press(1);
        // Reconnect: a new session; the old session's frame does not open.
        app.handle(T0 + 1, Input::Gatt(GattEvent::Disconnected(b.dev.clone())));
        b.connect(&mut app, T0 + 2);
        app.handle(T0 + 3, old);
        let mut other = FakeButton::new([9; 16]);
        other.dev = b.dev.clone();
        other.session = b.session;
        app.handle(T0 + 4, other.press(2));
        let Input::Gatt(GattEvent::Value { mut value, .. }) = b.press(3) else {
            panic!("value")
        };
        let last = value.len() - 1;
        value[last] ^= 1;
        app.handle(T0 + 5, b.value(value));
        assert_eq!(app.durable().rejected, 3);
        assert!(app.durable().events.is_empty());
    }

    #[test]
    fn an_impostor_offer_is_refused_and_only_resolvable_addresses_are_connected() {
        let mut app = started_app();
        drain(&mut app);
        let irk = protocol::BondKey(KEY).keys().irk;
        let other = Address::resolvable(&protocol::BondKey([1; 16]).keys().irk, [4, 5, 6]);
        for (addr, connects) in [(Address::resolvable(&irk, [9, 9, 9]), true), (other, false)] {
            let device = DeviceId(addr.to_string());
            app.handle(T0, Input::Gatt(GattEvent::Discovered { device, rssi: -50 }));
            let c = drain(&mut app);
            assert_eq!(
                c.iter()
                    .any(|c| matches!(c, Command::Gatt(GattCommand::Connect(_)))),
                connects
            );
        }
        let mut impostor = FakeButton::new([3; 16]);
        impostor.dev = FakeButton::new(KEY).dev;
        impostor.connect(&mut app, T0 + 1);
        assert!(!app.has_session());
        assert_eq!(app.durable().rejected, 1);
    }

    #[test]
    fn silence_warns_within_two_minutes_even_with_the_link_up() {
        let (mut app, mut b) = connected_app();
        app.handle(T0 + 60 * S, b.event(0, EventKind::Heartbeat, vec![80]));
        assert!(!drain(&mut app).contains(&Command::Warn(Warning::ButtonDisconnected)));
        let at = app.poll_timeout().unwrap_or(u64::MAX);
        assert_eq!(at, T0 + 180 * S);
        app.handle_timeout(at);
        assert!(drain(&mut app).contains(&Command::Warn(Warning::ButtonDisconnected)));
        assert!(app.is_connected(), "the link is up: only silence");
    }

    /// Found by the BlueZ rehearsal under load: the offer for a `Hello` never came and
    /// the app waited on a connection without a session (no event could arrive).
    #[test]
    fn no_offer_for_the_hello_drops_the_link_to_ask_again() {
        let mut app = started_app();
        drain(&mut app);
        let b = FakeButton::new(KEY);
        app.handle(T0, Input::Gatt(GattEvent::Connected(b.dev.clone())));
        drain(&mut app);
        assert_eq!(app.poll_timeout(), Some(T0 + SESSION_TIMEOUT_US));
        app.handle_timeout(T0 + SESSION_TIMEOUT_US - 1);
        assert!(!drain(&mut app)
            .iter()
            .any(|c| matches!(c, Command::Gatt(GattCommand::Disconnect(_)))));
        app.handle_timeout(T0 + SESSION_TIMEOUT_US);
        let cmds = drain(&mut app);
        assert!(cmds.contains(&Command::Gatt(GattCommand::Disconnect(b.dev.clone()))));
        assert!(cmds.contains(&Command::Note(AppNote::SessionTimedOut)));
        // An offer that does come in time opens the session and ends the wait.
        let (app, _) = connected_app();
        assert!(app.has_session());
        assert_ne!(app.poll_timeout(), Some(T0 + SESSION_TIMEOUT_US));
    }

    #[test]
    fn battery_warnings_come_from_sealed_reports_only() {
        let (mut app, mut b) = connected_app();
        app.handle(
            T0 + 1,
            Input::Gatt(GattEvent::Value {
                device: b.dev.clone(),
                char: protocol::gatt::BATTERY_LEVEL_CHAR,
                value: vec![5],
            }),
        );
        assert!(!drain(&mut app).contains(&Command::Warn(Warning::BatteryLow(5))));
        app.handle(T0 + 2, b.event(0, EventKind::Heartbeat, vec![18]));
        assert!(drain(&mut app).contains(&Command::Warn(Warning::BatteryLow(18))));
    }

    #[test]
    fn a_new_drop_count_in_a_heartbeat_warns_the_wearer_once() {
        let (mut app, mut b) = connected_app();
        let beat = |n: u32| {
            let mut p = vec![80];
            p.extend_from_slice(&n.to_le_bytes());
            p
        };
        app.handle(T0 + 1, b.event(0, EventKind::Heartbeat, vec![80]));
        assert!(!drain(&mut app)
            .iter()
            .any(|c| matches!(c, Command::Warn(_))));
        app.handle(T0 + 2, b.event(0, EventKind::Heartbeat, beat(6)));
        assert!(drain(&mut app).contains(&Command::Warn(Warning::EventsDropped(6))));
        assert_eq!(app.durable().button_dropped, 6);
        // The same count again: nothing new to tell.
        app.handle(T0 + 3, b.event(0, EventKind::Heartbeat, beat(6)));
        assert!(!drain(&mut app)
            .iter()
            .any(|c| matches!(c, Command::Warn(_))));
        app.handle(T0 + 4, b.event(0, EventKind::Heartbeat, beat(7)));
        assert!(drain(&mut app).contains(&Command::Warn(Warning::EventsDropped(7))));
    }

    /// The phone side of pairing against a button half written here.
    #[test]
    fn pairing_shows_the_code_and_completes_only_after_the_wearer_confirms() {
        let mut app = started_app();
        drain(&mut app);
        let dev = DeviceId("11:22:33:44:55:66".into());
        app.handle(
            T0,
            Input::PairWith {
                device: dev.clone(),
                entropy: [8; 32],
            },
        );
        app.handle(T0, Input::Gatt(GattEvent::Connected(dev.clone())));
        let phone_public = drain(&mut app)
            .iter()
            .find_map(|c| match to_button(c) {
                Some(ToButton::PairRequest { phone_public }) => Some(phone_public),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no pair request"));
        let button = PairingKeyPair::from_entropy([4; 32]);
        let p = button
            .agree(&phone_public, &button.public())
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = ToPhone::PairResponse {
            button_public: button.public(),
        };
        let value = |v: Vec<u8>| {
            Input::Gatt(GattEvent::Value {
                device: dev.clone(),
                char: protocol::gatt::EVENT_CHAR,
                value: v,
            })
        };
        app.handle(T0 + 1, value(resp.encode()));
        assert!(drain(&mut app).contains(&Command::ShowPairingCode(p.code)));
        assert_eq!(app.pairing_code(), Some(p.code));
        app.handle(T0 + 2, Input::ConfirmPairing { matches: true });
        let confirm = drain(&mut app).iter().find_map(to_button);
        assert_eq!(
            confirm,
            Some(ToButton::PairConfirm {
                tag: p.phone_confirm()
            })
        );
        let done = ToPhone::PairDone {
            tag: p.button_confirm(),
        };
        app.handle(T0 + 3, value(done.encode()));
        assert_eq!(app.durable().bond.as_ref().map(|b| b.key), Some(p.key.0));
        // The old bond's button no longer opens a session.
        let mut old = FakeButton::new(KEY);
        app.handle(T0 + 4, Input::Gatt(GattEvent::Disconnected(dev)));
        old.connect(&mut app, T0 + 5);
        assert!(!app.has_session());
    }
}
