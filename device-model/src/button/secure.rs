//! Protocol version 2 on the button: what a write may do, pairing, sessions, signed
//! commands, the clock's bounds, sealed frames and heartbeats. Every write that is not
//! accepted is refused and counted in flash ([`Button::rejected_commands`]).

use firmware::link::Link;
use firmware::session::{CommandRefusal, SessionState};
use protocol::command::TestInjection;
use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR, TEST_INJECT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::{Command, EventFrame, PairingKeyPair, ProtocolError, Uuid, VibrationPattern};

use super::{Action, Button, DeviceEvent, HEARTBEAT_US, MS};

impl Button {
    /// Refuse a write and count it.
    fn refuse(&mut self, reason: String) {
        let f = &mut self.core.flash;
        f.rejected_commands = f.rejected_commands.saturating_add(1);
        self.log(DeviceEvent::Refused { reason });
    }

    /// A write from the central.
    pub(super) fn on_write(&mut self, now: u64, char: Uuid, value: &[u8]) {
        if char == TEST_INJECT_CHAR {
            if self.core.config.test_service {
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
            Ok(TestInjection::Edge { down }) => self.core.gestures.edge(now, down),
            Ok(TestInjection::Accel { mg }) => {
                self.on_accel(now, mg);
            }
            Ok(other) => self.refuse(format!("injection not supported: {other:?}")),
            Err(e) => self.refuse(e.to_string()),
        }
    }

    fn on_hello(&mut self, phone_nonce: [u8; 8]) {
        let Some(keys) = &self.core.keys else {
            return self.refuse("session request: not bonded".into());
        };
        let id = self.core.flash.session_next;
        let Some(next) = id.checked_add(1) else {
            return self.refuse("session ids exhausted".into());
        };
        let (s, offer) = SessionState::open(keys, id, phone_nonce);
        let offer = offer.encode();
        self.core.flash.session_next = next;
        self.core.end_session();
        self.core.session = Some(s);
        self.core.link.set_ready(false);
        self.actions.push_back(Action::Indicate {
            char: EVENT_CHAR,
            value: offer,
        });
    }

    fn on_signed(&mut self, now: u64, counter: u32, command: Command, tag: &[u8]) {
        let (Some(keys), Some(sess)) = (&self.core.keys, &mut self.core.session) else {
            return self.refuse("signed command without a session".into());
        };
        match sess.accept(keys, counter, &command, tag) {
            Ok(()) => {}
            Err(CommandRefusal::NotSigned) => {
                return self.refuse("command not signed by the bonded phone in this session".into())
            }
            Err(CommandRefusal::Stale(c)) => {
                return self.refuse(format!("stale command counter {c}"))
            }
        }
        match command {
            Command::SetTime { utc_ms } => self.on_set_time(now, utc_ms),
            Command::Ack { seq } => self.on_ack(seq),
            Command::Vibrate(p) => self.on_vibrate(now, p),
            Command::Unbond => {
                self.core.flash.bond = None;
                self.core.keys = None;
                self.core.address_since = None;
                self.core.end_session();
                self.core.link.set_ready(false);
                self.log(DeviceEvent::Unbonded);
            }
        }
    }

    fn on_set_time(&mut self, now: u64, utc_ms: u64) {
        match self.core.flash.rtc.set(now, utc_ms) {
            Err(why) => self.refuse(why.to_string()),
            Ok(()) => self.log(DeviceEvent::ClockSet { utc_ms }),
        }
        // The authenticated phone is there and subscribed: the session is ready.
        self.core.link.set_ready(true);
        // It learns the battery level at once, sealed.
        self.heartbeat(now);
    }

    fn on_ack(&mut self, seq: u32) {
        if self.core.flash.queue.ack(seq) {
            self.core.attempts.forget(seq);
            self.log(DeviceEvent::Acked { seq });
        }
        if let Link::Connected { inflight, .. } = &mut self.core.link {
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
        if !self.core.pairing_mode(now) {
            return self.refuse("pairing request outside pairing mode".into());
        }
        let pair = PairingKeyPair::from_entropy(self.core.drbg.bytes());
        let button_public = pair.public();
        match pair.agree(&phone_public, &button_public) {
            Err(e) => self.refuse(format!("pairing request: {e}")),
            Ok(p) => {
                self.log(DeviceEvent::PairingCode(p.code));
                self.core.pairing = Some(p);
                let value = ToPhone::PairResponse { button_public }.encode();
                self.actions.push_back(Action::Indicate {
                    char: EVENT_CHAR,
                    value,
                });
            }
        }
    }

    fn on_pair_confirm(&mut self, tag: &[u8]) {
        let Some(p) = self.core.pairing.take() else {
            return self.refuse("pairing confirmation without a pairing".into());
        };
        if !p.check_phone_confirm(tag) {
            return self.refuse("pairing confirmation does not match".into());
        }
        // A new bond replaces the old keys: frames and commands of the old bond fail.
        self.core.flash.bond = Some(p.key);
        self.core.keys = Some(p.key.keys());
        self.core.pair_window_until = None;
        self.core.address_since = None;
        self.core.end_session();
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

    /// Seal `frame` with the session as its next frame (the core's work), encoded for
    /// the radio: `None` without a session.
    pub(super) fn seal(&mut self, frame: &EventFrame) -> Option<Result<Vec<u8>, ProtocolError>> {
        Some(self.core.seal(frame)?.map(|m| m.encode()))
    }

    /// A sealed heartbeat ([`firmware::Core::heartbeat_frame`]: the battery level and the
    /// count of events the full queue dropped), notified: nothing waits for it.
    pub(super) fn heartbeat(&mut self, now: u64) {
        self.core.next_heartbeat_at = Some(now.saturating_add(HEARTBEAT_US));
        let Ok(frame) = self.core.heartbeat_frame(now) else {
            return;
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
