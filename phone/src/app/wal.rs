//! Write-ahead: the app records its intent durably before each action, and resumes from
//! that record after a restart.
//!
//! [`PhoneApp::poll_command`] hands the host one command at a time. When the host
//! takes a command it is first marked in the state as *possibly done* — an SMS's
//! attempt counted and its result awaited, a call's attempt counted and its id
//! recorded — and whenever the state changed since the last write (an input consumed,
//! an intent recorded, a mark) a [`Command::Persist`] of it comes before that command.
//! So whatever command the app dies after, storage holds every action already taken
//! and every input already consumed, and nothing not taken is marked as taken. Writes
//! the app asks for itself (before an `Ack`) are taken of the state as it stands when
//! the host reaches them, never of an older snapshot. A refused frame changes only a
//! counter that rides along with the next write (one write per
//! [`REJECTED_SAVE_EVERY`] refusals at most).
//!
//! After a restart ([`PhoneApp::start_loaded`]) an action marked possibly done is
//! resolved as the platform answers it: SMS results and delivery reports, call updates
//! and the recorder's hand-over survive the app (the platform holds them and gives
//! them to the next start, as a phone's OS delivers its pending intents); for every SMS
//! whose result or delivery report the record lacks (consumed by a run whose write was
//! then torn, say) the app asks the SMS service ([`Command::QuerySms`], the OS's sent
//! box), which answers the result, the delivery, or that it never got the SMS (sent
//! then); an SMS whose result still never comes is sent again at the periodic retry; a call with no update is
//! treated as unanswered after the ring timeout (then redialled within the redial
//! rule). The siren, the recorder, the countdown alarm and the conference are states:
//! the app asserts them again from its record and the platform treats an assertion of
//! the state it is already in as nothing (idempotent, by recorder id and room).
//!
//! Every record alternates between two storage slots ([`crate::store`]); a write that
//! fails is retried to the same slot, so the other one keeps the last good copy.

use std::collections::{BTreeMap, BTreeSet};

use super::{Command, PhoneApp, Warning, S};
use crate::note::AppNote;
use crate::store::{record, StorageDamage};

/// A rejected frame forces a write only every this many rejections (the counter
/// otherwise rides along with the next write).
pub(super) const REJECTED_SAVE_EVERY: u32 = 64;

/// The bookkeeping between the app's queue and its storage.
#[derive(Debug)]
pub(super) struct Wal {
    /// Save number of the last record written (or read at start).
    generation: u64,
    /// The payload storage holds, when known: a save of the very same bytes is
    /// skipped (compared whole, so a change is never mistaken for none).
    saved: Option<Vec<u8>>,
    /// An action whose write was just handed out: it comes next.
    staged: Option<Command>,
    /// SMS queued, not yet taken by the host.
    sms: BTreeSet<u64>,
    /// Dials queued (call id → call task), not yet taken by the host.
    dials: BTreeMap<u64, u64>,
}

impl Wal {
    pub(super) fn new(generation: u64, stored_payload: &[u8]) -> Self {
        Wal {
            generation,
            saved: Some(stored_payload.to_vec()),
            staged: None,
            sms: BTreeSet::new(),
            dials: BTreeMap::new(),
        }
    }

    /// Queue SMS `id`; false when it is already queued.
    pub(super) fn queue_sms(&mut self, id: u64) -> bool {
        self.sms.insert(id)
    }

    pub(super) fn sms_queued(&self, id: u64) -> bool {
        self.sms.contains(&id)
    }

    pub(super) fn queue_dial(&mut self, call_id: u64, task: u64) {
        self.dials.insert(call_id, task);
    }

    pub(super) fn dial_queued(&self, task: u64) -> bool {
        self.dials.values().any(|&t| t == task)
    }
}

/// The wearer's phone joins conference room `url` (microphone on, speaker muted).
pub(super) fn join(url: String) -> Command {
    Command::JoinConference {
        url,
        mic_on: true,
        speaker_muted: true,
    }
}

/// The siren on (full volume, even in silent mode) or off.
pub(super) fn siren(on: bool) -> Command {
    Command::Siren {
        on,
        volume_pct: if on { 100 } else { 0 },
        override_silent: on,
    }
}

/// Recorder `id`, with the button's microphone.
pub(super) fn start_recording(id: u64) -> Command {
    Command::StartRecording {
        id,
        button_mic: true,
    }
}

impl PhoneApp {
    /// Next command to execute (see the module documentation of `wal`: a
    /// [`Command::Persist`] comes before every action whose intent is not yet durable).
    pub fn poll_command(&mut self) -> Option<Command> {
        if let Some(c) = self.wal.staged.take() {
            return Some(c);
        }
        loop {
            let Some(cmd) = self.out.pop_front() else {
                return if self.dirty { self.save() } else { None };
            };
            match cmd {
                Command::Persist(_) => {
                    if self.dirty {
                        if let Some(w) = self.save() {
                            return Some(w);
                        }
                    }
                }
                c => {
                    self.mark_taken(&c);
                    if self.dirty {
                        if let Some(w) = self.save() {
                            self.wal.staged = Some(c);
                            return Some(w);
                        }
                    }
                    return Some(c);
                }
            }
        }
    }

    /// Put back, at the head of the queue, a command the host could not execute: it
    /// is the next one [`PhoneApp::poll_command`] returns, so nothing queued after it
    /// runs before it (see [`crate::host::drain`]). A failed write is made again, of
    /// the state as it then stands, to the same slot.
    pub(crate) fn unpoll(&mut self, cmd: Command) {
        if let Some(s) = self.wal.staged.take() {
            self.out.push_front(s);
        }
        if matches!(cmd, Command::Persist(_)) {
            self.wal.generation = self.wal.generation.saturating_sub(1);
            self.wal.saved = None;
            self.dirty = true;
        }
        self.out.push_front(cmd);
    }

    /// The record of the state now, unless storage already holds it.
    fn save(&mut self) -> Option<Command> {
        self.dirty = false;
        let generation = self.wal.generation.saturating_add(1);
        let hint = self.wal.saved.as_ref().map_or(0, Vec::len);
        let rec = self.d.to_record_sized(generation, hint);
        let payload = rec.get(record::HEADER..).unwrap_or_default();
        if self.wal.saved.as_deref() == Some(payload) {
            return None;
        }
        self.wal.generation = generation;
        match &mut self.wal.saved {
            Some(saved) => {
                saved.clear();
                saved.extend_from_slice(payload);
            }
            None => self.wal.saved = Some(payload.to_vec()),
        }
        Some(Command::Persist(rec))
    }

    /// The host takes `cmd`: mark it as possibly done in the state.
    fn mark_taken(&mut self, cmd: &Command) {
        let now = self.now;
        match cmd {
            Command::SendSms { id, .. } => {
                self.wal.sms.remove(id);
                if let Some(m) = self.d.outbox.get_mut(id) {
                    m.attempts = m.attempts.saturating_add(1);
                    m.awaiting_since_us = Some(now);
                    self.dirty = true;
                }
            }
            Command::Dial { id, .. } => {
                let Some(task) = self.wal.dials.remove(id) else {
                    return;
                };
                if let Some(c) = self.d.calls.get_mut(&task) {
                    c.attempts = c.attempts.saturating_add(1);
                    c.call_id = Some(*id);
                    c.dial_at_us = None;
                    c.ringing_since_us = None;
                    self.dirty = true;
                }
            }
            _ => {}
        }
    }

    /// Tell the wearer, loudly, that storage was damaged.
    pub(super) fn storage_damage(&mut self, damage: Option<StorageDamage>) {
        match damage {
            None => {}
            Some(StorageDamage::RecoveredOlderCopy { slot, why }) => {
                self.note(AppNote::StorageRecovered { slot, why });
                self.out.push_back(Command::Warn(Warning::StorageRecovered));
                // Write a good copy over the damaged slot at once.
                self.wal.saved = None;
                self.dirty = true;
            }
            Some(StorageDamage::NothingReadable { why }) => {
                self.note(AppNote::StorageLost { why });
                self.out.push_back(Command::Warn(Warning::StorageLost));
                self.wal.saved = None;
                self.dirty = true;
            }
        }
    }

    /// After a restart: assert again the siren, the recorder, the countdown alarm and
    /// the conference as the record has them, and give calls placed without news a
    /// ring timeout.
    pub(super) fn resume_outputs(&mut self, now: u64) {
        if self.d.siren_used {
            self.out.push_back(siren(self.d.siren_on));
        }
        if let Some(r) = &self.d.recording {
            self.out.push_back(if r.stopping {
                Command::StopRecording { id: r.id }
            } else {
                start_recording(r.id)
            });
        }
        if self.d.countdown_used {
            let left = self
                .d
                .countdown
                .as_ref()
                .map(|c| c.ends_at_us.saturating_sub(now).div_ceil(S));
            self.out.push_back(Command::CountdownAlarm {
                on: left.is_some(),
                seconds: left.map_or(0, |l| u32::try_from(l).unwrap_or(u32::MAX)),
            });
        }
        let calls_going = self.d.calls.values().any(|c| !c.done);
        if let Some(url) = self.d.conference.clone().filter(|_| calls_going) {
            self.out.push_back(join(url));
        }
        for c in self.d.calls.values_mut() {
            if !c.done && c.call_id.is_some() && c.ringing_since_us.is_none() {
                c.ringing_since_us = Some(now);
                self.dirty = true;
            }
        }
    }

    /// After a restart: send the SMS never handed over; ask about those whose result
    /// or delivery report the record lacks.
    pub(super) fn resume_sms(&mut self, now: u64) {
        // SMS already handed to the SMS service may have gone out: their results, held
        // by the platform while the app was down, come right after start; only what is
        // still unconfirmed at the next retry is sent again. Never-submitted SMS go now.
        let fresh: Vec<u64> = self
            .d
            .outbox
            .iter()
            .filter(|(_, m)| m.attempts == 0)
            .map(|(&id, _)| id)
            .collect();
        for id in fresh {
            self.send_sms(now, id);
        }
        // Results and delivery reports the previous run may have received without
        // recording them (it died, or its write was torn): ask.
        let unsure: BTreeSet<u64> = self
            .d
            .outbox
            .iter()
            .filter(|(_, m)| m.awaiting_since_us.is_some())
            .map(|(&id, _)| id)
            .chain(self.d.awaiting_delivery.keys().copied())
            .collect();
        for id in unsure {
            self.out.push_back(Command::QuerySms { id });
        }
    }
}
