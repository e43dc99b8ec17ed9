//! The app's side of the link, protocol version 2: which device it connects to (an
//! address that resolves with the bond's key, or the one the wearer picked to pair
//! with), the session opened on every connection, signed commands, sealed frames,
//! and pairing.

use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR};
use protocol::session::NONCE_LEN;
use protocol::wire::{ToButton, ToPhone};
use protocol::{Address, BondKey, Command as DeviceCommand, ConfirmCode, EventKind};
use protocol::{Pairing, PairingKeyPair, Session, VibrationPattern};

use super::{Command, PhoneApp, SESSION_TIMEOUT_US};
use crate::gatt::{DeviceId, GattCommand, GattEvent};
use crate::note::{AppNote, RejectReason};
use crate::store::{Bond, LinkLoss};

/// The session of the current connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SessionState {
    /// None asked for.
    None,
    /// `Hello` written with this nonce; waiting for the offer.
    Hello([u8; NONCE_LEN]),
    /// Open.
    Open(Open),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Open {
    s: Session,
    counter: u32,
    /// The index of the last frame accepted in this session. The button seals frames
    /// in index order on one ordered link, so an index must be above it: a replayed
    /// frame of this session, however old, is refused (a window of remembered indices
    /// would accept one older than the window).
    last_index: Option<u32>,
}

/// A pairing under way.
#[derive(Debug)]
pub(crate) struct PhonePairing {
    device: DeviceId,
    pair: PairingKeyPair,
    result: Option<Pairing>,
}

impl PhonePairing {
    pub(crate) fn code(&self) -> Option<ConfirmCode> {
        self.result.as_ref().map(|p| p.code)
    }
}

impl PhoneApp {
    /// Whether `device` is an address of the bonded button.
    fn is_ours(&self, device: &DeviceId) -> bool {
        let Some(keys) = &self.keys else { return false };
        Address::parse(&device.0).is_ok_and(|a| a.resolves_with(&keys.irk))
    }

    fn pairing_with(&self, device: &DeviceId) -> bool {
        self.pairing.as_ref().is_some_and(|p| &p.device == device)
    }

    pub(super) fn on_gatt(&mut self, now: u64, ev: GattEvent) {
        match ev {
            GattEvent::Power(on) => {
                self.bt_on = on;
                if on {
                    self.out.push_back(Command::Gatt(GattCommand::StartScan));
                } else {
                    self.connecting = None;
                    if let Some(d) = self.connected.take() {
                        self.on_disconnected(now, d);
                    }
                }
            }
            GattEvent::Discovered { device, .. } => {
                if self.bt_on
                    && self.connected.is_none()
                    && self.connecting.is_none()
                    && (self.is_ours(&device) || self.pairing_with(&device))
                {
                    self.connecting = Some(now);
                    self.out
                        .push_back(Command::Gatt(GattCommand::Connect(device)));
                }
            }
            GattEvent::Connected(device) => self.on_connected(device),
            GattEvent::Disconnected(device) => self.on_link_down(now, device),
            GattEvent::LinkLost { device, silent_us } => {
                self.on_link_down(now.saturating_sub(silent_us), device);
            }
            GattEvent::WriteDone { id, ok } => {
                if let Some(Some(seq)) = self.writes.remove(&id) {
                    if let (true, Some(r)) = (ok, self.d.events.get_mut(&seq)) {
                        r.ack_confirmed = true;
                        self.dirty = true;
                    }
                }
            }
            GattEvent::Value {
                device,
                char,
                value,
            } => {
                // A plain battery level is unauthenticated: only sealed reports count.
                if char == EVENT_CHAR {
                    if self.connected.as_ref() != Some(&device) {
                        return self.reject(RejectReason::UnbondedDevice(device));
                    }
                    self.on_message(now, &value);
                }
            }
        }
    }

    fn on_connected(&mut self, device: DeviceId) {
        self.connecting = None;
        let pairing = self.pairing_with(&device);
        if !pairing && !self.is_ours(&device) {
            self.out
                .push_back(Command::Gatt(GattCommand::Disconnect(device)));
            return;
        }
        self.connected = Some(device.clone());
        self.disconnected_since = None;
        if self.d.link_lost.take().is_some() {
            self.dirty = true;
        }
        self.session = SessionState::None;
        self.note(AppNote::Connected(device.clone()));
        self.out.push_back(Command::Gatt(GattCommand::Subscribe {
            device,
            char: EVENT_CHAR,
        }));
        if let Some(p) = &self.pairing {
            let phone_public = p.pair.public();
            return self.write_plain(ToButton::PairRequest { phone_public });
        }
        let phone_nonce: [u8; NONCE_LEN] = self.drbg.bytes();
        self.session = SessionState::Hello(phone_nonce);
        self.hello_at = Some(self.now);
        self.write_plain(ToButton::Hello { phone_nonce });
    }

    /// When the wait for the session offer ends, while the app waits for one.
    pub(super) fn offer_deadline(&self) -> Option<u64> {
        match self.session {
            SessionState::Hello(_) if self.connected.is_some() => {
                self.hello_at.map(|t| t.saturating_add(SESSION_TIMEOUT_US))
            }
            _ => None,
        }
    }

    /// No offer came for the `Hello` (lost on the way, or a button that cannot answer):
    /// drop the link; the next connection says `Hello` again.
    pub(super) fn session_timed_out(&mut self) {
        self.hello_at = None;
        self.session = SessionState::None;
        self.note(AppNote::SessionTimedOut);
        if let Some(d) = self.connected.clone() {
            self.out
                .push_back(Command::Gatt(GattCommand::Disconnect(d)));
        }
    }

    /// The central reports the connection gone; the last exchange that got through was
    /// at `last_exchange` (UTC µs).
    fn on_link_down(&mut self, last_exchange: u64, device: DeviceId) {
        self.connecting = None;
        if self.connected.as_ref() == Some(&device) {
            self.connected = None;
            self.on_disconnected(last_exchange, device);
        }
    }

    /// The link is down since `since` (UTC µs, the last exchange that got through):
    /// the disconnect warning counts from there, across app restarts.
    pub(super) fn on_disconnected(&mut self, since: u64, device: DeviceId) {
        self.disconnected_since = Some(since);
        self.d.link_lost = Some(LinkLoss {
            last_exchange_us: since,
            warned: self.disconnect_warned,
        });
        self.dirty = true;
        self.session = SessionState::None;
        self.writes.clear();
        self.note(AppNote::Disconnected(device));
    }

    /// A message on the event characteristic of the connected device.
    fn on_message(&mut self, now: u64, value: &[u8]) {
        match ToPhone::decode(value) {
            Err(e) => self.reject(RejectReason::Malformed(e)),
            Ok(ToPhone::Offer {
                session_id,
                button_nonce,
                tag,
            }) => self.on_offer(now, session_id, button_nonce, &tag),
            Ok(ToPhone::Sealed { index, body }) => self.on_sealed(now, index, &body),
            Ok(ToPhone::PairResponse { button_public }) => self.on_pair_response(button_public),
            Ok(ToPhone::PairDone { tag }) => self.on_pair_done(&tag),
        }
    }

    fn on_offer(&mut self, now: u64, id: u32, button_nonce: [u8; NONCE_LEN], tag: &[u8]) {
        let (SessionState::Hello(phone_nonce), Some(keys)) = (&self.session, &self.keys) else {
            return self.reject(RejectReason::BadOffer);
        };
        let Some(s) = Session::accept_offer(keys, *phone_nonce, id, button_nonce, tag) else {
            // Not the bonded button: an impostor at its address.
            self.reject(RejectReason::BadOffer);
            if let Some(d) = self.connected.clone() {
                self.out
                    .push_back(Command::Gatt(GattCommand::Disconnect(d)));
            }
            return;
        };
        self.session = SessionState::Open(Open {
            s,
            counter: 0,
            last_index: None,
        });
        self.heard(now);
        self.write(DeviceCommand::SetTime { utc_ms: now / 1000 }, None);
    }

    /// An authenticated word from the button.
    fn heard(&mut self, now: u64) {
        self.last_auth = now;
        self.disconnect_warned = false;
    }

    fn on_sealed(&mut self, now: u64, index: u32, body: &[u8]) {
        let (SessionState::Open(open), Some(keys)) = (&mut self.session, &self.keys) else {
            return self.reject(RejectReason::NoSession);
        };
        let frame = match open.s.open(keys, index, body) {
            Err(e) => return self.reject(RejectReason::Malformed(e)),
            Ok(None) => return self.reject(RejectReason::BadTag),
            Ok(Some(f)) => f,
        };
        if open.last_index.is_some_and(|last| index <= last) {
            return self.reject(RejectReason::ReplayedFrame { index });
        }
        open.last_index = Some(index);
        self.heard(now);
        if frame.kind == EventKind::Heartbeat {
            if let Some(&pct) = frame.payload.first() {
                self.on_battery(pct);
            }
            self.on_dropped_count(&frame.payload);
            return;
        }
        self.on_event_frame(now, frame);
    }

    /// Write a message that is not a command (Hello, pairing).
    fn write_plain(&mut self, msg: ToButton) {
        let Some(device) = self.connected.clone() else {
            return;
        };
        let id = self.d.id();
        self.writes.insert(id, None);
        self.out.push_back(Command::Gatt(GattCommand::Write {
            device,
            char: CONTROL_CHAR,
            value: msg.encode(),
            id,
        }));
    }

    /// Write `cmd` signed in the session (nothing without one).
    pub(super) fn write(&mut self, cmd: DeviceCommand, acking: Option<u32>) {
        let (SessionState::Open(open), Some(keys), Some(device)) =
            (&mut self.session, &self.keys, self.connected.clone())
        else {
            return;
        };
        open.counter = open.counter.saturating_add(1);
        let msg = open.s.sign(keys, open.counter, cmd);
        let id = self.d.id();
        self.writes.insert(id, acking);
        self.out.push_back(Command::Gatt(GattCommand::Write {
            device,
            char: CONTROL_CHAR,
            value: msg.encode(),
            id,
        }));
    }

    pub(super) fn vibrate(&mut self, p: VibrationPattern) {
        if self.has_session() {
            self.write(DeviceCommand::Vibrate(p), None);
        } else {
            self.note(AppNote::CannotVibrate(p));
        }
    }

    // ---- pairing ---------------------------------------------------------------------

    pub(super) fn pair_with(&mut self, now: u64, device: DeviceId, entropy: [u8; 32]) {
        self.drbg.reseed(&entropy);
        self.pairing = Some(PhonePairing {
            device: device.clone(),
            pair: PairingKeyPair::from_entropy(self.drbg.bytes()),
            result: None,
        });
        if let Some(d) = self.connected.take() {
            self.out
                .push_back(Command::Gatt(GattCommand::Disconnect(d.clone())));
            self.on_disconnected(now, d);
        }
        self.connecting = Some(now);
        self.out
            .push_back(Command::Gatt(GattCommand::Connect(device)));
    }

    fn on_pair_response(&mut self, button_public: [u8; 32]) {
        let Some(p) = self.pairing.as_mut() else {
            return self.reject(RejectReason::BadOffer);
        };
        match p.pair.agree(&p.pair.public(), &button_public) {
            Ok(r) => {
                let code = r.code;
                p.result = Some(r);
                self.note(AppNote::PairingCode(code));
                self.out.push_back(Command::ShowPairingCode(code));
            }
            Err(_) => self.abandon_pairing("weak key"),
        }
    }

    pub(super) fn confirm_pairing(&mut self, matches: bool) {
        let tag = self
            .pairing
            .as_ref()
            .and_then(|p| p.result.as_ref())
            .map(Pairing::phone_confirm);
        match (matches, tag) {
            (true, Some(tag)) => self.write_plain(ToButton::PairConfirm { tag }),
            (false, _) => self.abandon_pairing("the codes differ"),
            (true, None) => {}
        }
    }

    fn abandon_pairing(&mut self, why: &'static str) {
        self.pairing = None;
        self.note(AppNote::PairingFailed(why));
        if let Some(d) = self.connected.clone() {
            self.out
                .push_back(Command::Gatt(GattCommand::Disconnect(d)));
        }
    }

    fn on_pair_done(&mut self, tag: &[u8]) {
        let done = self
            .pairing
            .as_ref()
            .and_then(|p| p.result.as_ref())
            .filter(|r| r.check_button_confirm(tag))
            .map(|r| r.key);
        let Some(key) = done else {
            return self.abandon_pairing("the button's confirmation does not match");
        };
        // The new bond replaces the old keys: frames of the old bond no longer open.
        self.pairing = None;
        self.d.bond = Some(Bond { key: key.0 });
        self.keys = Some(BondKey(key.0).keys());
        self.note(AppNote::Paired);
        self.persist();
        // Reconnect to the button's new private address (it resolves with the new key).
        if let Some(d) = self.connected.clone() {
            self.out
                .push_back(Command::Gatt(GattCommand::Disconnect(d)));
        }
        self.out.push_back(Command::Gatt(GattCommand::StartScan));
    }
}

// ---- fast-forward (feature `fast-forward`, for simulators) ------------------------------

#[cfg(feature = "fast-forward")]
impl PhoneApp {
    /// Whether heartbeats carrying `level` would do nothing here but keep the link watch
    /// quiet: a session is open on a connection and the level raises or clears no
    /// battery warning. The precondition of [`PhoneApp::heartbeat_run`].
    pub fn quiet_for_heartbeats(&self, level: u8) -> bool {
        let rearm = level > 30 && !self.d.battery_warned.is_empty();
        let warn = self
            .cfg
            .battery_warn_levels
            .iter()
            .any(|l| level <= *l && !self.d.battery_warned.contains(l));
        matches!(self.session, SessionState::Open(_))
            && self.connected.is_some()
            && self.keys.is_some()
            && !rearm
            && !warn
    }

    /// `count` heartbeats of the open session with frame indices from `first_index`,
    /// the last arriving at `now`, that the host saw sealed by the bonded button (it
    /// took them off the air in bulk, see `device_model::button::HeartbeatRun`): the
    /// same effect as opening each of them in turn (their indices are remembered, the
    /// button was heard at `now`). Call it only when
    /// [`PhoneApp::quiet_for_heartbeats`] holds; returns false, changing nothing, if it
    /// does not or an index is not above the last one accepted.
    pub fn heartbeat_run(&mut self, now: u64, first_index: u32, count: u32, level: u8) -> bool {
        if count == 0 || !self.quiet_for_heartbeats(level) {
            return false;
        }
        let SessionState::Open(open) = &mut self.session else {
            return false;
        };
        let Some(last) = first_index.checked_add(count - 1) else {
            return false;
        };
        if open.last_index.is_some_and(|l| first_index <= l) {
            return false;
        }
        open.last_index = Some(last);
        self.heard(now);
        true
    }
}
