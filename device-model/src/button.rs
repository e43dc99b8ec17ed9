//! The button's firmware as a sans-IO state machine.
//!
//! Inputs are timestamped ([`Button::handle`], [`Button::handle_timeout`]); outputs are
//! [`Action`]s drained with [`Button::poll_action`]. Nothing here reads a clock, draws a
//! random number or does I/O, so the same code runs under the simulator's virtual clock
//! and, compiled for a microcontroller, on the real button.
//!
//! What survives a reset is exactly [`Flash`]: the sequence counter, the queue of events
//! not yet acknowledged by the phone, the bond key and the real-time clock. A reset is
//! modelled by dropping the `Button` and booting a new one from its `Flash`.
//!
//! Delivery: every accepted gesture becomes a [`QueuedEvent`] with a fresh sequence
//! number, stored in flash before anything is sent. While connected — and once the phone
//! has set the clock on this connection, which also tells the button the phone is
//! subscribed — the oldest queued event is indicated, sealed with the bond key. It leaves
//! the queue only when the phone writes `Ack{seq}`, which the phone does after recording
//! it durably. Unacknowledged events are sent again after `ack_timeout_ms` and at every
//! new connection.

use std::collections::VecDeque;

use protocol::command::TestInjection;
use protocol::event::FLAG_CLOCK_SYNCED;
use protocol::gatt::{BATTERY_LEVEL_CHAR, CONTROL_CHAR, EVENT_CHAR, TEST_INJECT_CHAR};
use protocol::{BondKey, Command, EventFrame, EventKind, Uuid, VibrationPattern};

use crate::fall::FallDetector;
use crate::gesture::{Gesture, GestureRecognizer};
use crate::power::{Battery, PowerState};
use crate::profile::DeviceProfile;

/// The key an unbonded button signs with; no phone accepts it.
pub const NULL_KEY: BondKey = BondKey([0; 16]);

/// One event waiting in flash for the phone's acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedEvent {
    /// Sequence number.
    pub seq: u32,
    /// What happened.
    pub kind: EventKind,
    /// When (UTC ms if `flags` says so, else RTC ms since manufacture).
    pub time_ms: u64,
    /// Protocol flags.
    pub flags: u8,
    /// Kind-specific payload.
    pub payload: Vec<u8>,
}

/// The button's real-time clock: `utc_ms = offset + local_us / 1000` once set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rtc {
    /// UTC ms at local time zero, once a phone set it.
    pub utc_offset_ms: Option<i64>,
}

/// Non-volatile state: all that survives a reset or a brown-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// Next sequence number to allocate (never reused).
    pub seq_next: u32,
    /// Events not yet acknowledged, oldest first.
    pub queue: VecDeque<QueuedEvent>,
    /// Bond key, once bonded.
    pub bond: Option<BondKey>,
    /// The real-time clock (battery-backed; it keeps counting across resets).
    pub rtc: Rtc,
    /// Events dropped because the queue was full (never silently: also logged).
    pub dropped: u32,
    /// Number of boots.
    pub boots: u32,
}

impl Flash {
    /// Factory state: unbonded, clock unset, empty queue.
    pub fn factory() -> Self {
        Flash {
            seq_next: 1,
            queue: VecDeque::new(),
            bond: None,
            rtc: Rtc {
                utc_offset_ms: None,
            },
            dropped: 0,
            boots: 0,
        }
    }

    /// Factory state already bonded with `key`.
    pub fn bonded(key: BondKey) -> Self {
        Flash {
            bond: Some(key),
            ..Flash::factory()
        }
    }
}

/// A timestamped input to the button.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A raw contact edge of the button (bounces included).
    Edge {
        /// Pressed or released.
        down: bool,
    },
    /// The link layer connected to a central.
    Connected,
    /// The link layer lost or closed the connection.
    Disconnected,
    /// The central wrote a characteristic.
    Write {
        /// Characteristic written.
        char: Uuid,
        /// Bytes written.
        value: Vec<u8>,
    },
    /// The central confirmed the last indication (ATT Handle Value Confirmation).
    IndicationConfirmed,
    /// One accelerometer sample at the output data rate (milli-g, saturated).
    Accel([i16; 3]),
}

/// What the firmware asks of its radio, motor, or log.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Advertise (connectable) at this interval until connected.
    Advertise {
        /// Advertising interval (ms).
        interval_ms: u32,
    },
    /// Send an indication.
    Indicate {
        /// Characteristic.
        char: Uuid,
        /// Value.
        value: Vec<u8>,
    },
    /// Send a notification.
    Notify {
        /// Characteristic.
        char: Uuid,
        /// Value.
        value: Vec<u8>,
    },
    /// Drive the vibration motor.
    Vibrate {
        /// Pattern.
        pattern: VibrationPattern,
        /// Total motor on-time (ms).
        on_ms: u32,
    },
    /// The supply sagged below the brown-out threshold: the firmware is dead. After a
    /// brown-out it stays off (low-battery lockout) until its cell is replaced.
    BrownOut,
    /// Something worth a line in the timeline.
    Log(DeviceEvent),
}

/// Observable firmware events (for timelines and tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The firmware booted.
    Booted {
        /// Boot count including this one.
        boots: u32,
        /// Events still queued from before.
        queued: usize,
    },
    /// A gesture was recognised.
    Gesture(Gesture),
    /// An event was stored in the persistent queue.
    Queued {
        /// Sequence number.
        seq: u32,
        /// Kind.
        kind: EventKind,
    },
    /// The queue was full: the oldest event was dropped.
    Dropped {
        /// Sequence number dropped.
        seq: u32,
    },
    /// An event was indicated to the phone.
    Sent {
        /// Sequence number.
        seq: u32,
        /// Transmission attempt (1 = first).
        attempt: u32,
    },
    /// The phone acknowledged an event.
    Acked {
        /// Sequence number.
        seq: u32,
    },
    /// The phone set the clock.
    ClockSet {
        /// UTC ms.
        utc_ms: u64,
    },
    /// A bond key was stored.
    Bonded,
    /// The fall detector reported a fall.
    Fall {
        /// Peak acceleration (mg).
        peak_mg: u16,
        /// Orientation change (degrees).
        tilt_deg: u8,
    },
    /// The battery level changed (percent, as Battery Level 0x2A19 reports it).
    BatteryLevel(u8),
    /// The supply browned out under a load.
    BrownOut {
        /// What load.
        during: String,
    },
    /// A write was refused.
    Refused {
        /// Why.
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Link {
    Advertising {
        since: u64,
        slow: bool,
    },
    Connected {
        ready: bool,
        inflight: Option<Inflight>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inflight {
    seq: u32,
    sent_at: u64,
    attempt: u32,
}

const MS: u64 = 1_000;

/// The button firmware.
#[derive(Debug)]
pub struct Button {
    profile: DeviceProfile,
    flash: Flash,
    gestures: GestureRecognizer,
    link: Link,
    attempts: std::collections::BTreeMap<u32, u32>,
    actions: VecDeque<Action>,
    battery: Battery,
    level: u8,
    next_level_at: Option<u64>,
    dead: bool,
    fall: Box<FallDetector>,
}

impl Button {
    /// Boot the firmware at `now` from what flash holds, powered by `battery`; it starts
    /// advertising.
    pub fn boot(profile: DeviceProfile, mut flash: Flash, battery: Battery, now: u64) -> Self {
        flash.boots += 1;
        let level = battery.level_percent(now);
        let mut b = Button {
            battery,
            level,
            next_level_at: None,
            dead: false,
            fall: Box::new(FallDetector::new(&profile.fall, profile.accel.odr_hz)),
            gestures: GestureRecognizer::new(&profile.gesture),
            link: Link::Advertising {
                since: now,
                slow: false,
            },
            profile,
            attempts: Default::default(),
            actions: VecDeque::new(),
            flash,
        };
        b.log(DeviceEvent::Booted {
            boots: b.flash.boots,
            queued: b.flash.queue.len(),
        });
        b.actions.push_back(Action::Advertise {
            interval_ms: b.profile.link.adv_fast_interval_ms,
        });
        b.power(now, PowerState::AdvertisingFast);
        b
    }

    /// A factory-fresh cell of the profile's kind at `soc_percent`.
    pub fn fresh_battery(profile: &DeviceProfile, soc_percent: f64) -> Battery {
        Battery::new(profile.cell.clone(), profile.power.clone(), soc_percent)
    }

    /// Power off: what flash holds and the cell.
    pub fn into_parts(self) -> (Flash, Battery) {
        (self.flash, self.battery)
    }

    /// The cell.
    pub fn battery(&self) -> &Battery {
        &self.battery
    }

    /// The cell's state of charge changes (a measured battery voltage from a trace).
    pub fn set_cell_soc(&mut self, now: u64, soc_percent: f64) {
        self.battery.set_soc_percent(now, soc_percent);
        self.check_level(now);
    }

    /// Whether the firmware browned out (dead until the cell is replaced).
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    fn power(&mut self, now: u64, state: PowerState) {
        self.battery.set_state(now, state);
        self.schedule_level(now);
    }

    /// When the reported level will next drop by one percent at the current drain.
    fn schedule_level(&mut self, now: u64) {
        let target = u16::from(self.level.saturating_sub(1)) * 10;
        self.next_level_at = if self.level == 0 {
            None
        } else {
            self.battery
                .time_until_soc(now, target)
                .map(|d| now + d.max(1))
        };
    }

    fn check_level(&mut self, now: u64) {
        let level = self.battery.level_percent(now);
        if level < self.level {
            let old = self.level;
            let crossed = self
                .profile
                .low_battery_levels
                .iter()
                .any(|&l| level <= l && old > l);
            self.level = level;
            self.log(DeviceEvent::BatteryLevel(level));
            if self.is_connected() {
                self.actions.push_back(Action::Notify {
                    char: BATTERY_LEVEL_CHAR,
                    value: vec![level],
                });
            }
            if crossed {
                self.enqueue(now, now, EventKind::LowBattery, vec![level]);
            }
        }
        self.schedule_level(now);
    }

    /// Draw a load pulse; a brown-out kills the firmware.
    fn load(&mut self, now: u64, pulse: crate::power::Pulse, what: &str) {
        if self.dead {
            return;
        }
        if self.battery.pulse(now, pulse) {
            self.dead = true;
            self.battery.set_state(now, PowerState::Off);
            self.log(DeviceEvent::BrownOut {
                during: what.to_string(),
            });
            self.actions.push_back(Action::BrownOut);
        } else {
            self.schedule_level(now);
        }
    }

    /// What flash holds now (what a reset would keep).
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// The profile this firmware runs.
    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    /// Whether a central is connected.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Connected { .. })
    }

    /// Whether no gesture is in progress.
    pub fn gestures_idle(&self) -> bool {
        self.gestures.is_idle()
    }

    fn log(&mut self, e: DeviceEvent) {
        self.actions.push_back(Action::Log(e));
    }

    /// The RTC reading at `now` (ms) and whether it is UTC.
    pub fn rtc_ms(&self, now: u64) -> (u64, bool) {
        let local = (now / MS) as i64;
        match self.flash.rtc.utc_offset_ms {
            Some(off) => ((off + local).max(0) as u64, true),
            None => (local as u64, false),
        }
    }

    /// Handle an input at `now`.
    pub fn handle(&mut self, now: u64, input: Input) {
        if self.dead {
            return;
        }
        if let Input::Accel(mg) = input {
            // The hot path (50 samples a second): only the detector, and delivery if it
            // queued a fall. Timers are the host's business through `poll_timeout`.
            if self.on_accel(now, mg) {
                self.pump(now);
            }
            return;
        }
        self.handle_timeout(now);
        match input {
            Input::Edge { down } => self.gestures.edge(now, down),
            Input::Connected => {
                self.link = Link::Connected {
                    ready: false,
                    inflight: None,
                };
                self.power(now, PowerState::ConnectedIdle);
            }
            Input::Disconnected => {
                self.link = Link::Advertising {
                    since: now,
                    slow: false,
                };
                self.actions.push_back(Action::Advertise {
                    interval_ms: self.profile.link.adv_fast_interval_ms,
                });
                self.power(now, PowerState::AdvertisingFast);
            }
            Input::IndicationConfirmed => {}
            Input::Accel(mg) => {
                self.on_accel(now, mg);
            }
            Input::Write { char, value } => self.on_write(now, char, &value),
        }
        self.pump(now);
    }

    fn on_write(&mut self, now: u64, char: Uuid, value: &[u8]) {
        if char == TEST_INJECT_CHAR && self.profile.test_service {
            match TestInjection::decode(value) {
                Ok(TestInjection::Edge { down }) => self.gestures.edge(now, down),
                Ok(TestInjection::Accel { mg }) => {
                    self.on_accel(now, mg);
                }
                Ok(other) => self.log(DeviceEvent::Refused {
                    reason: format!("injection not supported: {other:?}"),
                }),
                Err(e) => self.log(DeviceEvent::Refused {
                    reason: e.to_string(),
                }),
            }
            return;
        }
        if char != CONTROL_CHAR {
            self.log(DeviceEvent::Refused {
                reason: format!("write to {char}"),
            });
            return;
        }
        match Command::decode(value) {
            Err(e) => self.log(DeviceEvent::Refused {
                reason: e.to_string(),
            }),
            Ok(Command::SetTime { utc_ms }) => {
                self.flash.rtc.utc_offset_ms = Some(utc_ms as i64 - (now / MS) as i64);
                self.log(DeviceEvent::ClockSet { utc_ms });
                // A (re)connected phone learns the battery level at once.
                self.actions.push_back(Action::Notify {
                    char: BATTERY_LEVEL_CHAR,
                    value: vec![self.level],
                });
                if let Link::Connected { ready, inflight } = &mut self.link {
                    *ready = true;
                    // A new session: whatever was in flight goes again.
                    *inflight = None;
                }
            }
            Ok(Command::Ack { seq }) => {
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
            Ok(Command::Vibrate(pattern)) => {
                let on_ms = match pattern {
                    VibrationPattern::Sent => 2 * 150,
                    VibrationPattern::Failed => 3 * 400,
                    VibrationPattern::Countdown => 500,
                };
                self.actions.push_back(Action::Vibrate { pattern, on_ms });
                let pulse = self.profile.power.motor_pulse(u64::from(on_ms) * MS);
                self.load(now, pulse, "vibration");
            }
            Ok(Command::Bond(key)) => {
                if self.flash.bond.is_none() {
                    self.flash.bond = Some(key);
                    self.log(DeviceEvent::Bonded);
                } else {
                    self.log(DeviceEvent::Refused {
                        reason: "already bonded".into(),
                    });
                }
            }
        }
    }

    /// Feed one sample to the fall detector; true when it queued a fall event.
    fn on_accel(&mut self, now: u64, mg: [i16; 3]) -> bool {
        if let Some(info) = self.fall.push(mg) {
            self.log(DeviceEvent::Fall {
                peak_mg: info.peak_mg,
                tilt_deg: info.tilt_deg,
            });
            let period = self.profile.accel.period_us();
            let at = now.saturating_sub(u64::from(info.delay_samples) * period);
            self.enqueue(
                now,
                at,
                EventKind::Fall,
                info.peak_mg.to_le_bytes().to_vec(),
            );
            return true;
        }
        false
    }

    /// Store an event in the persistent queue (e.g. from the fall detector).
    pub fn enqueue(&mut self, now: u64, at: u64, kind: EventKind, payload: Vec<u8>) {
        let (time_ms, synced) = self.rtc_ms(at.min(now));
        let seq = self.flash.seq_next;
        self.flash.seq_next = self.flash.seq_next.wrapping_add(1).max(1);
        if self.flash.queue.len() >= self.profile.queue_capacity as usize {
            if let Some(old) = self.flash.queue.pop_front() {
                self.flash.dropped += 1;
                self.log(DeviceEvent::Dropped { seq: old.seq });
            }
        }
        let flags = if synced { FLAG_CLOCK_SYNCED } else { 0 };
        self.flash.queue.push_back(QueuedEvent {
            seq,
            kind,
            time_ms,
            flags,
            payload,
        });
        self.log(DeviceEvent::Queued { seq, kind });
    }

    /// Next instant at which [`Button::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        let link = match &self.link {
            Link::Advertising { since, slow: false } => {
                Some(since + u64::from(self.profile.link.adv_fast_duration_s) * 1_000 * MS)
            }
            Link::Connected {
                inflight: Some(f), ..
            } => Some(f.sent_at + u64::from(self.profile.link.ack_timeout_ms) * MS),
            _ => None,
        };
        if self.dead {
            return None;
        }
        [link, self.gestures.poll_timeout(), self.next_level_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Process what is due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.dead {
            return;
        }
        if self.next_level_at.is_some_and(|t| t <= now) {
            self.check_level(now);
        }
        self.gestures.handle_timeout(now);
        while let Some((at, g)) = self.gestures.poll_gesture() {
            self.log(DeviceEvent::Gesture(g));
            self.enqueue(now, at, g.event_kind(), Vec::new());
        }
        match &mut self.link {
            Link::Advertising { since, slow } => {
                let fast_end =
                    *since + u64::from(self.profile.link.adv_fast_duration_s) * 1_000 * MS;
                if !*slow && now >= fast_end {
                    *slow = true;
                    self.actions.push_back(Action::Advertise {
                        interval_ms: self.profile.link.adv_slow_interval_ms,
                    });
                    self.power(now, PowerState::AdvertisingSlow);
                }
            }
            Link::Connected { inflight, .. } => {
                let timeout = u64::from(self.profile.link.ack_timeout_ms) * MS;
                if inflight.is_some_and(|f| now >= f.sent_at + timeout) {
                    *inflight = None;
                }
            }
        }
        self.pump(now);
    }

    /// Send the oldest unacknowledged event when the link allows.
    fn pump(&mut self, now: u64) {
        let Link::Connected {
            ready: true,
            inflight: inflight @ None,
        } = &mut self.link
        else {
            return;
        };
        let Some(ev) = self.flash.queue.front() else {
            return;
        };
        let attempt = self.attempts.entry(ev.seq).or_insert(0);
        *attempt += 1;
        let attempt = *attempt;
        *inflight = Some(Inflight {
            seq: ev.seq,
            sent_at: now,
            attempt,
        });
        // An event dated before the clock was ever set is on the same (battery-backed)
        // RTC, so it can be put in UTC as soon as the offset is known.
        let (flags, time_ms) = match self.flash.rtc.utc_offset_ms {
            Some(off) if ev.flags & FLAG_CLOCK_SYNCED == 0 => (
                ev.flags | FLAG_CLOCK_SYNCED,
                (off + ev.time_ms as i64).max(0) as u64,
            ),
            _ => (ev.flags, ev.time_ms),
        };
        let frame = EventFrame {
            kind: ev.kind,
            flags,
            seq: ev.seq,
            time_ms,
            payload: ev.payload.clone(),
        };
        let key = self.flash.bond.unwrap_or(NULL_KEY);
        let seq = ev.seq;
        match frame.seal(&key) {
            Ok(value) => {
                self.actions.push_back(Action::Indicate {
                    char: EVENT_CHAR,
                    value,
                });
                self.log(DeviceEvent::Sent { seq, attempt });
                let pulse = self.profile.power.radio_pulse();
                self.load(now, pulse, "radio");
            }
            Err(e) => {
                // Payloads are built by this firmware; an oversized one is a bug. Drop it
                // loudly rather than wedging the queue.
                self.flash.queue.pop_front();
                self.log(DeviceEvent::Refused {
                    reason: format!("event {seq} unsendable: {e}"),
                });
            }
        }
    }

    /// Whether actions are waiting to be polled.
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    /// Next action.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot_default(flash: Flash, now: u64) -> Button {
        let p = DeviceProfile::default();
        let battery = Button::fresh_battery(&p, 100.0);
        Button::boot(p, flash, battery, now)
    }

    #[test]
    fn low_battery_is_queued_and_vibration_browns_out_a_weak_cell() {
        let p = DeviceProfile::default();
        let mut b = Button::boot(
            p.clone(),
            Flash::bonded(BondKey([1; 16])),
            Button::fresh_battery(&p, 20.4),
            0,
        );
        b.handle(0, Input::Connected);
        run_to(&mut b, 30 * 86_400 * 1_000 * MS);
        let kinds: Vec<(EventKind, Vec<u8>)> = b
            .flash()
            .queue
            .iter()
            .map(|e| (e.kind, e.payload.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![(EventKind::LowBattery, vec![20])],
            "one event at the 20 % crossing"
        );
        let mut weak = Button::boot(
            p.clone(),
            Flash::bonded(BondKey([1; 16])),
            Button::fresh_battery(&p, 8.0),
            0,
        );
        weak.handle(0, Input::Connected);
        weak.handle(
            10,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::Vibrate(VibrationPattern::Sent).encode(),
            },
        );
        assert!(weak.is_dead());
        assert!(drain(&mut weak).contains(&Action::BrownOut));
        let mut strong = Button::boot(
            p.clone(),
            Flash::bonded(BondKey([1; 16])),
            Button::fresh_battery(&p, 80.0),
            0,
        );
        strong.handle(0, Input::Connected);
        strong.handle(
            10,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::Vibrate(VibrationPattern::Sent).encode(),
            },
        );
        assert!(!strong.is_dead());
    }

    fn drain(b: &mut Button) -> Vec<Action> {
        std::iter::from_fn(|| b.poll_action()).collect()
    }

    fn press(b: &mut Button, at_ms: u64, dur_ms: u64) {
        b.handle(at_ms * MS, Input::Edge { down: true });
        b.handle((at_ms + dur_ms) * MS, Input::Edge { down: false });
    }

    fn run_to(b: &mut Button, t: u64) {
        while let Some(d) = b.poll_timeout().filter(|&d| d <= t) {
            b.handle_timeout(d);
        }
    }

    fn indications(actions: &[Action]) -> Vec<EventFrame> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Indicate { value, .. } => {
                    EventFrame::open(value, &BondKey([1; 16])).ok().flatten()
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn press_is_queued_then_sent_then_acked() {
        let mut b = boot_default(Flash::bonded(BondKey([1; 16])), 0);
        press(&mut b, 100, 120);
        run_to(&mut b, 2_000 * MS);
        assert_eq!(b.flash().queue.len(), 1);
        b.handle(2_000 * MS, Input::Connected);
        assert!(
            indications(&drain(&mut b)).is_empty(),
            "nothing before the clock is set"
        );
        b.handle(
            2_010 * MS,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::SetTime { utc_ms: 1_000_000 }.encode(),
            },
        );
        let sent = indications(&drain(&mut b));
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].kind, EventKind::Single);
        assert_eq!(sent[0].seq, 1);
        assert!(sent[0].clock_synced());
        b.handle(
            2_050 * MS,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::Ack { seq: 1 }.encode(),
            },
        );
        assert!(b.flash().queue.is_empty());
    }

    #[test]
    fn queue_and_counter_survive_reset() {
        let mut b = boot_default(Flash::bonded(BondKey([1; 16])), 0);
        press(&mut b, 0, 100);
        run_to(&mut b, 1_000 * MS);
        let (flash, battery) = b.into_parts();
        let mut b = Button::boot(DeviceProfile::default(), flash, battery, 1_000 * MS);
        drain(&mut b);
        press(&mut b, 1_100, 100);
        run_to(&mut b, 3_000 * MS);
        let seqs: Vec<u32> = b.flash().queue.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(b.flash().boots, 2);
    }

    #[test]
    fn unacked_event_is_resent_after_timeout_and_on_reconnect() {
        let mut b = boot_default(Flash::bonded(BondKey([1; 16])), 0);
        b.handle(0, Input::Connected);
        b.handle(
            0,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::SetTime { utc_ms: 5 }.encode(),
            },
        );
        press(&mut b, 0, 100);
        run_to(&mut b, 1_000 * MS);
        assert_eq!(indications(&drain(&mut b)).len(), 1);
        run_to(&mut b, 12_000 * MS);
        assert_eq!(
            indications(&drain(&mut b)).len(),
            1,
            "resent after ack timeout"
        );
        b.handle(13_000 * MS, Input::Disconnected);
        b.handle(14_000 * MS, Input::Connected);
        b.handle(
            14_000 * MS,
            Input::Write {
                char: CONTROL_CHAR,
                value: Command::SetTime { utc_ms: 5 }.encode(),
            },
        );
        let again = indications(&drain(&mut b));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].seq, 1);
    }

    #[test]
    fn advertising_goes_slow_after_fast_window() {
        let mut b = boot_default(Flash::factory(), 0);
        assert_eq!(
            drain(&mut b).last(),
            Some(&Action::Advertise { interval_ms: 100 })
        );
        run_to(&mut b, 31_000 * MS);
        assert!(drain(&mut b).contains(&Action::Advertise { interval_ms: 1_000 }));
        run_to(&mut b, 3_600 * 1_000 * MS);
        assert!(
            !drain(&mut b)
                .iter()
                .any(|a| matches!(a, Action::Advertise { .. })),
            "slow advertising never stops"
        );
    }

    #[test]
    fn bad_writes_are_refused_not_panicking() {
        let mut b = boot_default(Flash::factory(), 0);
        b.handle(
            0,
            Input::Write {
                char: CONTROL_CHAR,
                value: vec![1, 0x99],
            },
        );
        b.handle(
            0,
            Input::Write {
                char: CONTROL_CHAR,
                value: vec![],
            },
        );
        let refused = drain(&mut b)
            .iter()
            .filter(|a| matches!(a, Action::Log(DeviceEvent::Refused { .. })))
            .count();
        assert_eq!(refused, 2);
    }
}
