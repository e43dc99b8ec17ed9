//! The button's firmware as a sans-IO state machine.
//!
//! Inputs are timestamped ([`Button::handle`], [`Button::handle_timeout`]); outputs are
//! [`Action`]s drained with [`Button::poll_action`]. Nothing here reads a clock, draws a
//! random number or does I/O, so the same code runs under the simulator's virtual clock
//! and, compiled for a microcontroller, on the real button. Randomness comes from the
//! host: 32 bytes of entropy at [`Button::boot`], expanded by a [`protocol::Drbg`].
//!
//! The firmware's logic and state are the `no_std` [`firmware`] crate's ([`Core`]); this
//! type is its board: it owns the cell model (`f64` physics), carries out the radio's
//! work (the core builds and seals frames — [`firmware::Core::frame_of`],
//! [`firmware::Core::seal`] — and this board encodes each message into the `Vec` of an
//! [`Action`] for the simulator) and logs what happens.
//!
//! What survives a reset is exactly [`Flash`]: the sequence counter, the queue of events
//! not yet acknowledged by the phone, the bond key, the real-time clock, the session
//! counter (a session id is never reused) and the count of rejected writes. A reset is
//! modelled by dropping the `Button` and booting a new one from its `Flash`.
//!
//! Delivery: every accepted gesture becomes a [`QueuedEvent`] with a fresh sequence
//! number, stored in flash before anything is sent. While connected — once the phone has
//! opened a session ([`protocol::session`]) and set the clock with a signed command on
//! this connection, which also tells the button the phone is subscribed — the oldest
//! queued event is indicated, sealed with the session (a new frame index for every
//! transmission). It leaves the queue only when the phone's signed `Ack{seq}` arrives,
//! which the phone writes after recording it durably. Unacknowledged events are sent
//! again after `ack_timeout_ms` and at every new connection. **An unbonded button sends
//! nothing**: its events stay queued until a phone bonds with it (they are then
//! delivered under the new bond).
//!
//! Security (protocol version 2, see the `secure` child module): every write that is not
//! a valid signed command of the current session with a new counter, a session `Hello`,
//! or a pairing message accepted in pairing mode is refused and counted
//! ([`Button::rejected_commands`], kept in flash). The clock moves only by a signed
//! `SetTime`, forward (2 s tolerance backwards, in which case it stays put), at most
//! [`MAX_CLOCK_JUMP_MS`] at a time and within 2020..2100. A sealed heartbeat carrying the
//! battery level goes every [`HEARTBEAT_US`] while a session is up: the level is never
//! sent in clear. The button advertises a resolvable private address of its bond (a
//! non-resolvable random one while unbonded), new at each boot and every
//! [`ADDRESS_ROTATION_US`]. Pairing mode: within [`PAIRING_WINDOW_US`] after
//! [`Input::PairingAction`] only, bonded or not. The test service exists only when the profile says
//! so ([`DeviceProfile::test_firmware`]).

use std::collections::VecDeque;
use std::sync::Arc;

use firmware::link::{Inflight, Link};
use firmware::queue::{Payload, Refused};
use firmware::Core;
use protocol::gatt::EVENT_CHAR;
use protocol::{Address, ConfirmCode, EventKind, Uuid, VibrationPattern};

use crate::gesture::Gesture;
use crate::power::{Battery, PowerState};
use crate::profile::DeviceProfile;

#[cfg(feature = "fast-forward")]
mod idle;
mod secure;

pub use firmware::clock::{MAX_CLOCK_JUMP_MS, MAX_UTC_MS, MIN_UTC_MS};
pub use firmware::link::{ADDRESS_ROTATION_US, HEARTBEAT_US, PAIRING_WINDOW_US};
pub use firmware::{Flash, QueuedEvent, Rtc};
#[cfg(feature = "fast-forward")]
pub use idle::HeartbeatRun;

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
    /// The wearer's physical pairing action (e.g. a 10 s hold at power-up): pairing
    /// mode for [`PAIRING_WINDOW_US`].
    PairingAction,
}

/// What the firmware asks of its radio, motor, or log.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Advertise (connectable) at this interval, from this address, until connected.
    Advertise {
        /// Advertising interval (ms).
        interval_ms: u32,
        /// The (private) address advertised.
        address: Address,
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
    /// The queue was full: this event went (the policy is `firmware::queue`'s).
    Dropped {
        /// Sequence number dropped.
        seq: u32,
    },
    /// An event was not queued: every sequence number was used (they never wrap).
    NotQueued {
        /// Kind.
        kind: EventKind,
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
    /// A bond key was stored (pairing completed).
    Bonded,
    /// The bond was removed (signed `Unbond`).
    Unbonded,
    /// Pairing mode opened by the physical action.
    PairingMode,
    /// A pairing is under way: the code the button signals for the wearer to compare.
    PairingCode(ConfirmCode),
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
    /// A write was refused (and counted).
    Refused {
        /// Why.
        reason: String,
    },
}

const MS: u64 = 1_000;

/// The button: the firmware core on its board (the cell, the radio's outbox).
#[derive(Debug)]
pub struct Button {
    /// The profile it was booted with (the firmware's part is `core.config`), shared
    /// with the host that boots it again.
    profile: Arc<DeviceProfile>,
    /// The firmware: every piece of its state, fixed size.
    core: Box<Core>,
    /// What the firmware asked of the radio, motor and log, in order.
    actions: VecDeque<Action>,
    /// The cell (host physics).
    battery: Battery,
}

impl Button {
    /// Boot the firmware at `now` from what flash holds, powered by `battery`, with 32
    /// bytes of the host's entropy; it starts advertising from a new address.
    pub fn boot(
        profile: impl Into<Arc<DeviceProfile>>,
        flash: Flash,
        battery: Battery,
        now: u64,
        entropy: [u8; 32],
    ) -> Self {
        let profile = profile.into();
        let level = battery.level_percent(now);
        let core = Box::new(Core::boot(
            profile.firmware_config(),
            flash,
            level,
            now,
            entropy,
        ));
        let mut b = Button {
            battery,
            profile,
            core,
            actions: VecDeque::new(),
        };
        b.log(DeviceEvent::Booted {
            boots: b.core.flash.boots,
            queued: b.core.flash.queue.len(),
        });
        b.advertise(now, b.core.config.link.adv_fast_interval_ms);
        b.power(now, PowerState::AdvertisingFast);
        if b.battery.is_depleted(now) {
            b.brown_out(now, "flat cell");
        }
        b
    }

    /// A factory-fresh cell of the profile's kind at `soc_percent`.
    pub fn fresh_battery(profile: &DeviceProfile, soc_percent: f64) -> Battery {
        Battery::new(profile.cell.clone(), profile.power.clone(), soc_percent)
    }

    /// Power off: what flash holds and the cell.
    pub fn into_parts(self) -> (Flash, Battery) {
        (self.core.flash, self.battery)
    }

    /// The cell.
    pub fn battery(&self) -> &Battery {
        &self.battery
    }

    /// The firmware's state (read only: its size is the memory budget's subject).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The cell's state of charge changes (a measured battery voltage from a trace).
    pub fn set_cell_soc(&mut self, now: u64, soc_percent: f64) {
        self.battery.set_soc_percent(now, soc_percent);
        self.check_level(now);
    }

    /// Whether the firmware browned out (dead until the cell is replaced).
    pub fn is_dead(&self) -> bool {
        self.core.dead
    }

    fn power(&mut self, now: u64, state: PowerState) {
        self.battery.set_state(now, state);
        self.schedule_level(now);
    }

    /// When the reported level will next drop by one percent at the current drain.
    fn schedule_level(&mut self, now: u64) {
        let level = self.core.level;
        let target = u16::from(level.saturating_sub(1)) * 10;
        self.core.next_level_at = if level == 0 {
            None
        } else {
            self.battery
                .time_until_soc(now, target)
                .map(|d| now + d.max(1))
        };
    }

    fn check_level(&mut self, now: u64) {
        let level = self.battery.level_percent(now);
        if level < self.core.level {
            let crossed = self.core.config.low_battery.crossed(self.core.level, level);
            self.core.level = level;
            // Reported to the phone only inside sealed heartbeats.
            self.log(DeviceEvent::BatteryLevel(level));
            if crossed {
                self.enqueue(now, now, EventKind::LowBattery, &[level]);
            }
        }
        // A flat cell cannot run the firmware at all, load or not.
        if self.battery.is_depleted(now) {
            return self.brown_out(now, "flat cell");
        }
        self.schedule_level(now);
    }

    /// Draw a load pulse; a brown-out kills the firmware. Returns whether the button
    /// is still alive.
    fn load(&mut self, now: u64, pulse: crate::power::Pulse, what: &str) -> bool {
        if self.core.dead {
            return false;
        }
        if self.battery.pulse(now, pulse) {
            self.brown_out(now, what);
            return false;
        }
        self.schedule_level(now);
        true
    }

    /// The supply is gone: the firmware dies and the button disappears (it stays off
    /// until its cell is replaced).
    fn brown_out(&mut self, now: u64, what: &str) {
        self.core.dead = true;
        self.core.next_level_at = None;
        self.battery.set_state(now, PowerState::Off);
        self.log(DeviceEvent::BrownOut {
            during: what.to_string(),
        });
        self.actions.push_back(Action::BrownOut);
    }

    /// The battery level (%) the button reports now.
    pub fn level(&self) -> u8 {
        self.core.level
    }

    /// What flash holds now (what a reset would keep).
    pub fn flash(&self) -> &Flash {
        &self.core.flash
    }

    /// The profile this firmware runs, shared (clone the `Arc` to boot it again
    /// without a copy).
    pub fn profile(&self) -> &Arc<DeviceProfile> {
        &self.profile
    }

    /// Whether a central is connected.
    pub fn is_connected(&self) -> bool {
        self.core.link.is_connected()
    }

    /// Whether the bonded phone is connected and has opened its session.
    pub fn session_ready(&self) -> bool {
        self.core.link.is_ready()
    }

    /// Whether no gesture is in progress.
    pub fn gestures_idle(&self) -> bool {
        self.core.gestures.is_idle()
    }

    fn log(&mut self, e: DeviceEvent) {
        self.actions.push_back(Action::Log(e));
    }

    /// The RTC reading at `now` (ms) and whether it is UTC.
    pub fn rtc_ms(&self, now: u64) -> (u64, bool) {
        self.core.rtc_ms(now)
    }

    /// Writes refused so far (kept in flash: survives resets).
    pub fn rejected_commands(&self) -> u32 {
        self.core.flash.rejected_commands
    }

    /// The address advertised now (or last, while connected).
    pub fn address(&self) -> Address {
        self.core.address
    }

    /// The code of the pairing under way, as the button signals it to the wearer.
    pub fn pairing_code(&self) -> Option<ConfirmCode> {
        self.core.pairing.as_ref().map(|p| p.code)
    }

    /// Whether a phone is bonded.
    pub fn is_bonded(&self) -> bool {
        self.core.flash.bond.is_some()
    }

    /// Handle an input at `now`.
    pub fn handle(&mut self, now: u64, input: Input) {
        if self.core.dead {
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
            Input::Edge { down } => self.core.gestures.edge(now, down),
            Input::Connected => {
                self.core.link = Link::CONNECTED;
                self.core.flash.queue.rewind();
                self.core.end_session();
                self.power(now, PowerState::ConnectedIdle);
            }
            Input::Disconnected => {
                self.core.link = Link::advertising(now);
                self.core.end_session();
                self.advertise(now, self.core.config.link.adv_fast_interval_ms);
                self.power(now, PowerState::AdvertisingFast);
            }
            Input::PairingAction => {
                self.core.pair_window_until = Some(now.saturating_add(PAIRING_WINDOW_US));
                self.log(DeviceEvent::PairingMode);
            }
            Input::IndicationConfirmed => {}
            Input::Accel(mg) => {
                self.on_accel(now, mg);
            }
            Input::Write { char, value } => self.on_write(now, char, &value),
        }
        self.pump(now);
    }

    /// Feed one sample to the fall detector; true when it queued a fall event.
    fn on_accel(&mut self, now: u64, mg: [i16; 3]) -> bool {
        if let Some(info) = self.core.fall.push(mg) {
            self.log(DeviceEvent::Fall {
                peak_mg: info.peak_mg,
                tilt_deg: info.tilt_deg,
            });
            let period = self.core.accel_period_us();
            let at = now.saturating_sub(u64::from(info.delay_samples) * period);
            self.enqueue(now, at, EventKind::Fall, &info.peak_mg.to_le_bytes());
            return true;
        }
        false
    }

    /// Store an event in the persistent queue (what goes when it is full, and why a
    /// sequence number is never reused: `firmware::queue`). A payload longer than
    /// `firmware::queue::EVENT_PAYLOAD_MAX` is refused and logged.
    pub fn enqueue(&mut self, now: u64, at: u64, kind: EventKind, payload: &[u8]) {
        let Some(payload) = Payload::new(payload) else {
            return self.log(DeviceEvent::Refused {
                reason: format!("event {} payload of {} bytes", kind.name(), payload.len()),
            });
        };
        match self.core.enqueue(now, at, kind, payload) {
            Err(Refused::SeqExhausted) => self.log(DeviceEvent::NotQueued { kind }),
            Ok(p) => {
                if let Some(old) = p.dropped {
                    self.core.attempts.forget(old.seq);
                    self.log(DeviceEvent::Dropped { seq: old.seq });
                }
                if p.dropped.is_none_or(|d| d.seq != p.seq) {
                    self.log(DeviceEvent::Queued { seq: p.seq, kind });
                }
            }
        }
    }

    /// Next instant at which [`Button::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.core.poll_timeout()
    }

    /// Process what is due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.core.dead {
            return;
        }
        if self.core.next_level_at.is_some_and(|t| t <= now) {
            self.check_level(now);
        }
        self.core.gestures.handle_timeout(now);
        while let Some((at, g)) = self.core.gestures.poll_gesture() {
            self.log(DeviceEvent::Gesture(g));
            self.enqueue(now, at, g.event_kind(), &[]);
        }
        let link = self.core.config.link.clone();
        match &mut self.core.link {
            Link::Advertising { since, slow } => {
                let fast_end = since.saturating_add(link.fast_duration_us());
                if !*slow && now >= fast_end {
                    *slow = true;
                    self.advertise(now, link.adv_slow_interval_ms);
                    self.power(now, PowerState::AdvertisingSlow);
                } else if self
                    .core
                    .address_since
                    .is_some_and(|t| now >= t.saturating_add(ADDRESS_ROTATION_US))
                {
                    self.advertise(now, self.core.adv_interval_ms);
                }
            }
            Link::Connected { inflight, .. } => {
                if let Some(f) = inflight.filter(|f| now >= f.sent_at + link.ack_timeout_us()) {
                    // Not acknowledged in time: the next send takes the event after it,
                    // so one the phone cannot accept does not block the rest.
                    *inflight = None;
                    self.core.flash.queue.skip(f.seq);
                }
                if self.core.next_heartbeat_at.is_some_and(|t| t <= now) {
                    self.heartbeat(now);
                }
            }
        }
        self.pump(now);
    }

    /// Advertise at `interval_ms`, from a new address when the current one is due for
    /// rotation (or none was picked since boot or since the bond changed).
    fn advertise(&mut self, now: u64, interval_ms: u32) {
        let address = self.core.rotate_address(now);
        self.core.adv_interval_ms = interval_ms;
        self.actions.push_back(Action::Advertise {
            interval_ms,
            address,
        });
    }

    /// Send the next unacknowledged event when the link allows.
    fn pump(&mut self, now: u64) {
        let Link::Connected {
            ready: true,
            inflight: None,
        } = self.core.link
        else {
            return;
        };
        let Some(ev) = self.core.flash.queue.next_to_send().copied() else {
            return;
        };
        let attempt = self.core.attempts.bump(ev.seq);
        self.core.link = Link::Connected {
            ready: true,
            inflight: Some(Inflight {
                seq: ev.seq,
                sent_at: now,
                attempt,
            }),
        };
        let seq = ev.seq;
        let sealed = match self.core.frame_of(&ev) {
            Ok(frame) => self.seal(&frame),
            Err(e) => Some(Err(e)),
        };
        match sealed {
            Some(Ok(value)) => {
                // The radio draws its pulse as it transmits: a cell that cannot carry
                // it browns the button out before the frame leaves.
                let pulse = self.profile.power.radio_pulse();
                if !self.load(now, pulse, "radio") {
                    return;
                }
                self.actions.push_back(Action::Indicate {
                    char: EVENT_CHAR,
                    value,
                });
                self.log(DeviceEvent::Sent { seq, attempt });
            }
            // No session (cannot happen when ready): nothing is sent.
            None => {}
            Some(Err(e)) => {
                // Payloads are built by this firmware; an oversized one is a bug. Drop it
                // loudly rather than wedging the queue.
                self.core.flash.queue.discard(seq);
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
mod tests;
