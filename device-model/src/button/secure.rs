//! Protocol version 2 on the button: what a write may do, pairing, sessions, signed
//! commands, the clock's bounds, sealed frames and heartbeats. Every write that is not
//! accepted is refused and counted in flash ([`Button::rejected_commands`]).

use protocol::command::TestInjection;
use protocol::event::FLAG_CLOCK_SYNCED;
use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR, TEST_INJECT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::{
    Command, EventFrame, EventKind, PairingKeyPair, ProtocolError, Session, Uuid, VibrationPattern,
};

use super::{Action, Button, DeviceEvent, Link, Sess, MS};

/// 2020-01-01T00:00:00Z: the earliest time a phone may set.
pub const MIN_UTC_MS: u64 = 1_577_836_800_000;
/// 2100-01-01T00:00:00Z: the clock is never set at or past this.
pub const MAX_UTC_MS: u64 = 4_102_444_800_000;
/// The largest forward step one `SetTime` may make from the current reading (10 years).
pub const MAX_CLOCK_JUMP_MS: u64 = 10 * 365 * 86_400_000;
/// A `SetTime` at most this far behind the current reading is accepted but leaves the
/// clock where it is (the clock never goes backwards); further behind, it is refused.
pub const CLOCK_BACK_TOLERANCE_MS: u64 = 2_000;
/// Pairing mode lasts this long after the physical pairing action (µs).
pub const PAIRING_WINDOW_US: u64 = 60 * 1_000_000;
/// The advertised private address changes this often (µs), and at every boot.
pub const ADDRESS_ROTATION_US: u64 = 15 * 60 * 1_000_000;
/// A sealed heartbeat goes this often while a session is up (µs).
pub const HEARTBEAT_US: u64 = 60 * 1_000_000;

/// `local_ms` on the RTC moved by `off` ms, saturated to `0..=u64::MAX`.
pub(super) fn offset(off: i64, local_ms: u64) -> u64 {
    let v = i128::from(off) + i128::from(local_ms);
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

impl Button {
    /// Refuse a write and count it.
    fn refuse(&mut self, reason: String) {
        self.flash.rejected_commands = self.flash.rejected_commands.saturating_add(1);
        self.log(DeviceEvent::Refused { reason });
    }

    /// The session of this connection ends (or a new one starts).
    pub(super) fn end_session(&mut self) {
        self.session = None;
        self.pairing = None;
        self.next_heartbeat_at = None;
    }

    /// Pairing mode: only within the window after the wearer's physical pairing action,
    /// bonded or not (a factory-fresh button does not bond with the first device that
    /// asks).
    fn pairing_mode(&self, now: u64) -> bool {
        self.pair_window_until.is_some_and(|t| now < t)
    }

    /// A write from the central.
    pub(super) fn on_write(&mut self, now: u64, char: Uuid, value: &[u8]) {
        if char == TEST_INJECT_CHAR {
            if self.profile.test_service {
                return self.on_injection(now, value);
            }
            return self.refuse("write to the test service: not in this firmware".into());
        }
        if char != CONTROL_CHAR {
            return self.refuse(format!("write to {char}"));
        }
        if !self.is_connected() {
            return self.refuse("write without a connection".into());
        }
        match ToButton::decode(value) {
            Err(e) => self.refuse(e.to_string()),
            Ok(ToButton::Hello { phone_nonce }) => self.on_hello(phone_nonce),
            Ok(ToButton::Signed {
                counter,
                command,
                tag,
            }) => self.on_signed(now, counter, command, &tag),
            Ok(ToButton::PairRequest { phone_public }) => self.on_pair_request(now, phone_public),
            Ok(ToButton::PairConfirm { tag }) => self.on_pair_confirm(&tag),
        }
    }

    /// Test firmware only: injections (unauthenticated by design: never in a product).
    fn on_injection(&mut self, now: u64, value: &[u8]) {
        match TestInjection::decode(value) {
            Ok(TestInjection::Edge { down }) => self.gestures.edge(now, down),
            Ok(TestInjection::Accel { mg }) => {
                self.on_accel(now, mg);
            }
            Ok(other) => self.refuse(format!("injection not supported: {other:?}")),
            Err(e) => self.refuse(e.to_string()),
        }
    }

    fn on_hello(&mut self, phone_nonce: [u8; 8]) {
        let Some(keys) = &self.keys else {
            return self.refuse("session request: not bonded".into());
        };
        let id = self.flash.session_next;
        let Some(next) = id.checked_add(1) else {
            return self.refuse("session ids exhausted".into());
        };
        self.flash.session_next = next;
        let s = Session {
            id,
            phone_nonce,
            button_nonce: Session::button_nonce(keys, id),
        };
        let offer = s.offer(keys).encode();
        self.end_session();
        self.session = Some(Sess {
            s,
            last_counter: None,
            next_index: 0,
        });
        if let Link::Connected { ready, inflight } = &mut self.link {
            *ready = false;
            *inflight = None;
        }
        self.actions.push_back(Action::Indicate {
            char: EVENT_CHAR,
            value: offer,
        });
    }

    fn on_signed(&mut self, now: u64, counter: u32, command: Command, tag: &[u8]) {
        let (Some(keys), Some(sess)) = (&self.keys, &mut self.session) else {
            return self.refuse("signed command without a session".into());
        };
        if !sess.s.verify(keys, counter, &command, tag) {
            return self.refuse("command not signed by the bonded phone in this session".into());
        }
        if sess.last_counter.is_some_and(|c| counter <= c) {
            return self.refuse(format!("stale command counter {counter}"));
        }
        sess.last_counter = Some(counter);
        match command {
            Command::SetTime { utc_ms } => self.on_set_time(now, utc_ms),
            Command::Ack { seq } => self.on_ack(seq),
            Command::Vibrate(p) => self.on_vibrate(now, p),
            Command::Unbond => {
                self.flash.bond = None;
                self.keys = None;
                self.address_since = None;
                self.end_session();
                if let Link::Connected { ready, inflight } = &mut self.link {
                    *ready = false;
                    *inflight = None;
                }
                self.log(DeviceEvent::Unbonded);
            }
        }
    }

    /// The clock's rule: why `utc_ms` may not be set now, if it may not.
    fn clock_refusal(&self, now: u64, utc_ms: u64) -> Option<String> {
        if !(MIN_UTC_MS..MAX_UTC_MS).contains(&utc_ms) {
            return Some(format!("clock {utc_ms} ms outside 2020..2100"));
        }
        let (current, set) = self.rtc_ms(now);
        if !set {
            return None;
        }
        if utc_ms.saturating_add(CLOCK_BACK_TOLERANCE_MS) < current {
            return Some(format!(
                "clock {utc_ms} ms is before the current {current} ms"
            ));
        }
        if utc_ms > current.saturating_add(MAX_CLOCK_JUMP_MS) {
            return Some(format!("clock {utc_ms} ms jumps more than 10 years"));
        }
        None
    }

    fn on_set_time(&mut self, now: u64, utc_ms: u64) {
        match self.clock_refusal(now, utc_ms) {
            Some(why) => self.refuse(why),
            None => {
                let local = i64::try_from(now / MS).unwrap_or(i64::MAX);
                // utc_ms < MAX_UTC_MS fits an i64; the clock only moves forward.
                let target = i64::try_from(utc_ms)
                    .unwrap_or(i64::MAX)
                    .saturating_sub(local);
                let off = match self.flash.rtc.utc_offset_ms {
                    Some(old) => old.max(target),
                    None => target,
                };
                self.flash.rtc.utc_offset_ms = Some(off);
                self.log(DeviceEvent::ClockSet { utc_ms });
            }
        }
        // The authenticated phone is there and subscribed: the session is ready.
        if let Link::Connected { ready, inflight } = &mut self.link {
            *ready = true;
            *inflight = None;
        }
        // It learns the battery level at once, sealed.
        self.heartbeat(now);
    }

    fn on_ack(&mut self, seq: u32) {
        if let Some(i) = self.flash.queue.iter().position(|e| e.seq == seq) {
            self.flash.queue.remove(i);
            self.attempts.remove(&seq);
            self.log(DeviceEvent::Acked { seq });
        }
        if let Link::Connected { inflight, .. } = &mut self.link {
            if inflight.is_some_and(|f| f.seq == seq) {
                *inflight = None;
            }
        }
    }

    fn on_vibrate(&mut self, now: u64, pattern: VibrationPattern) {
        let on_ms = match pattern {
            VibrationPattern::Sent => 2 * 150,
            VibrationPattern::Failed => 3 * 400,
            VibrationPattern::Countdown => 500,
        };
        self.actions.push_back(Action::Vibrate { pattern, on_ms });
        let pulse = self.profile.power.motor_pulse(u64::from(on_ms) * MS);
        // The motor spins up, then the supply sags: it may brown out under it.
        let _alive = self.load(now, pulse, "vibration");
    }

    fn on_pair_request(&mut self, now: u64, phone_public: [u8; 32]) {
        if !self.pairing_mode(now) {
            return self.refuse("pairing request outside pairing mode".into());
        }
        let pair = PairingKeyPair::from_entropy(self.drbg.bytes());
        let button_public = pair.public();
        match pair.agree(&phone_public, &button_public) {
            Err(e) => self.refuse(format!("pairing request: {e}")),
            Ok(p) => {
                self.log(DeviceEvent::PairingCode(p.code));
                self.pairing = Some(p);
                let value = ToPhone::PairResponse { button_public }.encode();
                self.actions.push_back(Action::Indicate {
                    char: EVENT_CHAR,
                    value,
                });
            }
        }
    }

    fn on_pair_confirm(&mut self, tag: &[u8]) {
        let Some(p) = self.pairing.take() else {
            return self.refuse("pairing confirmation without a pairing".into());
        };
        if !p.check_phone_confirm(tag) {
            return self.refuse("pairing confirmation does not match".into());
        }
        // A new bond replaces the old keys: frames and commands of the old bond fail.
        self.flash.bond = Some(p.key);
        self.keys = Some(p.key.keys());
        self.pair_window_until = None;
        self.address_since = None;
        self.end_session();
        self.log(DeviceEvent::Bonded);
        let value = ToPhone::PairDone {
            tag: p.button_confirm(),
        }
        .encode();
        self.actions.push_back(Action::Indicate {
            char: EVENT_CHAR,
            value,
        });
    }

    /// Seal `frame` with the session as its next frame: `None` without a session.
    pub(super) fn seal(&mut self, frame: &EventFrame) -> Option<Result<Vec<u8>, ProtocolError>> {
        let (Some(keys), Some(sess)) = (&self.keys, &mut self.session) else {
            return None;
        };
        let index = sess.next_index;
        // 2^32 frames in one connection cannot happen; never reuse an index anyway.
        sess.next_index = index.checked_add(1)?;
        Some(sess.s.seal(keys, index, frame).map(|m| m.encode()))
    }

    /// A sealed heartbeat with the battery level (notified: nothing waits for it).
    pub(super) fn heartbeat(&mut self, now: u64) {
        self.next_heartbeat_at = Some(now.saturating_add(HEARTBEAT_US));
        let (time_ms, synced) = self.rtc_ms(now);
        let frame = EventFrame {
            kind: EventKind::Heartbeat,
            flags: if synced { FLAG_CLOCK_SYNCED } else { 0 },
            seq: 0,
            time_ms,
            payload: vec![self.level],
        };
        if let Some(Ok(value)) = self.seal(&frame) {
            // A cell that cannot carry the transmission browns out before it leaves.
            let pulse = self.profile.power.radio_pulse();
            if self.load(now, pulse, "radio") {
                self.actions.push_back(Action::Notify {
                    char: EVENT_CHAR,
                    value,
                });
            }
        }
    }
}
