//! The whole firmware state ([`Core`]) and its configuration ([`Config`]): what the
//! button's RAM holds, a fixed size with no heap behind it. The memory budget
//! ([`STATE_BUDGET_BYTES`]) is stated in ARCHITECTURE.md and checked by a test.
//!
//! The host (`device-model`'s `Button`) owns a `Core` beside its models of the cell and
//! the radio, and drives it as a board support package would: it reads the cell's level
//! into [`Core::level`] and carries out the radio's work. The frames themselves are the
//! core's: what a queued event or a heartbeat says ([`Core::frame_of`],
//! [`Core::heartbeat_frame`]) and their sealing under the bond's event key with the
//! session's next index ([`Core::seal`]), all without a heap.

use protocol::event::FLAG_CLOCK_SYNCED;
use protocol::{
    Address, Drbg, EventFrame, EventKind, Keys, Pairing, Payload as FramePayload, ProtocolError,
    ToPhone,
};

use crate::battery::LowBatteryLevels;
use crate::fall::{FallDetector, FallDetectorConfig};
use crate::flash::Flash;
use crate::gesture::{GestureConfig, GestureRecognizer};
use crate::link::{Link, LinkTiming, ADDRESS_ROTATION_US};
use crate::queue::{
    Attempts, Payload, Pushed, QueuedEvent, Refused, MIN_QUEUE_CAPACITY, QUEUE_CAPACITY,
};
use crate::session::SessionState;
use crate::ConfigError;

/// The budget for [`Core`] (bytes): a coin-cell button's MCU (an nRF52810 has 24 kB of
/// RAM, much of it the BLE stack's) gives the application a few kilobytes.
pub const STATE_BUDGET_BYTES: usize = 4096;

/// The firmware's configuration (a profile's firmware part).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Debounce and gesture timings.
    pub gesture: GestureConfig,
    /// Advertising and delivery timings.
    pub link: LinkTiming,
    /// Events the queue holds (`MIN_QUEUE_CAPACITY..=QUEUE_CAPACITY`).
    pub queue_capacity: u16,
    /// Whether the (unauthenticated) test-injection service exists: test firmware only.
    pub test_service: bool,
    /// Battery levels at which a low-battery event is queued.
    pub low_battery: LowBatteryLevels,
    /// Fall detector thresholds.
    pub fall: FallDetectorConfig,
    /// The accelerometer's output data rate (Hz).
    pub odr_hz: u32,
}

impl Config {
    /// The product's configuration.
    pub const DEFAULT: Config = Config {
        gesture: GestureConfig::DEFAULT,
        link: LinkTiming::DEFAULT,
        queue_capacity: QUEUE_CAPACITY as u16,
        test_service: false,
        low_battery: LowBatteryLevels::DEFAULT,
        fall: FallDetectorConfig::DEFAULT,
        odr_hz: 50,
    };

    /// Check a queue capacity asked for.
    pub fn check_queue_capacity(capacity: u32) -> Result<u16, ConfigError> {
        let ok = (MIN_QUEUE_CAPACITY as u32..=QUEUE_CAPACITY as u32).contains(&capacity);
        match u16::try_from(capacity) {
            Ok(c) if ok => Ok(c),
            _ => Err(ConfigError::QueueCapacity(capacity)),
        }
    }

    /// The accelerometer's sample period (µs).
    pub fn accel_period_us(&self) -> u64 {
        1_000_000 / u64::from(self.odr_hz.max(1))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Everything the firmware holds in RAM (flash's copy included).
#[derive(Clone, Debug)]
pub struct Core {
    /// The configuration.
    pub config: Config,
    /// What survives a reset.
    pub flash: Flash,
    /// Debounce and gestures.
    pub gestures: GestureRecognizer,
    /// The fall detector.
    pub fall: FallDetector,
    /// The link layer's state.
    pub link: Link,
    /// The battery level (%) reported now.
    pub level: u8,
    /// When the level will next drop by one percent (the host's cell model says).
    pub next_level_at: Option<u64>,
    /// Browned out: dead until the cell is replaced.
    pub dead: bool,
    /// The bond's keys (derived once from `flash.bond`).
    pub keys: Option<Keys>,
    /// Expands the host's entropy (addresses, pairing keys).
    pub drbg: Drbg,
    /// The session of the current connection.
    pub session: Option<SessionState>,
    /// A pairing answered, waiting for the phone's confirmation.
    pub pairing: Option<Pairing>,
    /// Pairing mode after the physical action, until then.
    pub pair_window_until: Option<u64>,
    /// The advertised address.
    pub address: Address,
    /// Since when (`None`: pick a new one at the next advertising).
    pub address_since: Option<u64>,
    /// The advertising interval in use (ms).
    pub adv_interval_ms: u32,
    /// When the next heartbeat is due (a session is up).
    pub next_heartbeat_at: Option<u64>,
    /// Transmissions of each queued event since boot.
    pub attempts: Attempts,
}

impl Core {
    /// Boot at `now` from `flash` with the host's 32 bytes of entropy; `level` is the
    /// battery level read at boot.
    pub fn boot(config: Config, mut flash: Flash, level: u8, now: u64, entropy: [u8; 32]) -> Self {
        flash.boots = flash.boots.saturating_add(1);
        flash.queue.rewind();
        let mut drbg = Drbg::new(&entropy);
        drbg.reseed(&flash.boots.to_le_bytes());
        Core {
            fall: FallDetector::new(&config.fall, config.odr_hz),
            gestures: GestureRecognizer::new(&config.gesture),
            link: Link::advertising(now),
            adv_interval_ms: config.link.adv_fast_interval_ms,
            keys: flash.bond.map(|k| k.keys()),
            config,
            flash,
            level,
            next_level_at: None,
            dead: false,
            drbg,
            session: None,
            pairing: None,
            pair_window_until: None,
            address: Address([0; 6]),
            address_since: None,
            next_heartbeat_at: None,
            attempts: Attempts::new(),
        }
    }

    /// The RTC reading at `now` (ms) and whether it is UTC.
    pub fn rtc_ms(&self, now: u64) -> (u64, bool) {
        self.flash.rtc.read(now)
    }

    /// Queue an event that happened at `at` (dated on the RTC, UTC once set).
    pub fn enqueue(
        &mut self,
        now: u64,
        at: u64,
        kind: EventKind,
        payload: Payload,
    ) -> Result<Pushed, Refused> {
        let (time_ms, synced) = self.rtc_ms(at.min(now));
        let flags = if synced {
            protocol::event::FLAG_CLOCK_SYNCED
        } else {
            0
        };
        let capacity = usize::from(self.config.queue_capacity);
        self.flash
            .queue
            .push(capacity, kind, time_ms, flags, payload)
    }

    /// The address to advertise from at `now`: a new one when the current one is due
    /// for rotation (or none was picked since boot or since the bond changed) —
    /// resolvable with the bond's IRK, or non-resolvable while unbonded.
    pub fn rotate_address(&mut self, now: u64) -> Address {
        let due = match self.address_since {
            Some(t) => now >= t.saturating_add(ADDRESS_ROTATION_US),
            None => true,
        };
        if due {
            let random: [u8; 6] = self.drbg.bytes();
            let [r0, r1, r2, ..] = random;
            self.address = match &self.keys {
                Some(k) => Address::resolvable(&k.irk, [r0, r1, r2]),
                None => {
                    let mut a = random;
                    a[0] &= 0x3F;
                    Address(a)
                }
            };
            self.address_since = Some(now);
        }
        self.address
    }

    /// Pairing mode: within the window after the wearer's physical action.
    pub fn pairing_mode(&self, now: u64) -> bool {
        self.pair_window_until.is_some_and(|t| now < t)
    }

    /// The frame that carries queued event `ev` now. An event dated before the clock was
    /// ever set is on the same (battery-backed) RTC, so it goes out in UTC as soon as the
    /// offset is known.
    pub fn frame_of(&self, ev: &QueuedEvent) -> Result<EventFrame, ProtocolError> {
        let (flags, time_ms) = match self.flash.rtc.utc_offset_ms {
            Some(off) if ev.flags & FLAG_CLOCK_SYNCED == 0 => (
                ev.flags | FLAG_CLOCK_SYNCED,
                crate::clock::offset(off, ev.time_ms()),
            ),
            _ => (ev.flags, ev.time_ms()),
        };
        Ok(EventFrame {
            kind: ev.kind,
            flags,
            seq: ev.seq,
            time_ms,
            payload: FramePayload::from_slice(ev.payload.as_slice())?,
        })
    }

    /// A heartbeat at `now`: the battery level and, once the queue ever had to drop an
    /// event, the count dropped (u32 little-endian after the level: the phone reads the
    /// level from the first byte).
    pub fn heartbeat_frame(&self, now: u64) -> Result<EventFrame, ProtocolError> {
        let (time_ms, synced) = self.rtc_ms(now);
        let mut payload = FramePayload::from_slice(&[self.level])?;
        let dropped = self.flash.queue.dropped();
        if dropped > 0 {
            payload.extend_from_slice(&dropped.to_le_bytes())?;
        }
        Ok(EventFrame {
            kind: EventKind::Heartbeat,
            flags: if synced { FLAG_CLOCK_SYNCED } else { 0 },
            seq: 0,
            time_ms,
            payload,
        })
    }

    /// Seal `frame` under the bond's event key as the session's next frame: `None`
    /// without a bond or a session (or once a session's 2^32 indexes are used: an index
    /// is never reused).
    pub fn seal(&mut self, frame: &EventFrame) -> Option<Result<ToPhone, ProtocolError>> {
        let (Some(keys), Some(sess)) = (&self.keys, &mut self.session) else {
            return None;
        };
        let index = sess.take_index()?;
        Some(sess.session.seal(keys, index, frame))
    }

    /// The session (and a pairing under way) ends.
    pub fn end_session(&mut self) {
        self.session = None;
        self.pairing = None;
        self.next_heartbeat_at = None;
    }

    /// Next instant at which the firmware has something to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.dead {
            return None;
        }
        let (link, rotate, heartbeat) = match &self.link {
            Link::Advertising { since, slow } => (
                (!*slow).then(|| since.saturating_add(self.config.link.fast_duration_us())),
                self.address_since
                    .map(|t| t.saturating_add(ADDRESS_ROTATION_US)),
                None,
            ),
            Link::Connected { inflight, .. } => (
                inflight.map(|f| f.sent_at.saturating_add(self.config.link.ack_timeout_us())),
                None,
                self.next_heartbeat_at,
            ),
        };
        // Plain comparisons: an array of options through `flatten().min()` compiled to
        // a ~900-instruction body, and this runs at every step of the world.
        let mut due = earliest(link, rotate);
        due = earliest(due, heartbeat);
        due = earliest(due, self.gestures.poll_timeout());
        earliest(due, self.next_level_at)
    }

    /// The accelerometer's sample period (µs).
    pub fn accel_period_us(&self) -> u64 {
        self.config.accel_period_us()
    }
}

/// Sizes (bytes) of the firmware state, its parts, and the flash image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// The whole state, [`Core`].
    pub core: usize,
    /// The persistent queue (its [`QUEUE_CAPACITY`] slots, counter and drop count).
    pub queue: usize,
    /// The fall detector.
    pub fall: usize,
    /// Debounce and gesture classification.
    pub gesture: usize,
    /// What survives a reset, as held in RAM ([`Flash`]).
    pub flash: usize,
    /// The configuration.
    pub config: usize,
    /// The serialized flash image with a full queue.
    pub image_full: usize,
    /// The serialized flash image with an empty queue.
    pub image_empty: usize,
}

/// The firmware's memory footprint (`size_of` of each part, the image's length).
pub fn footprint() -> Footprint {
    use ::core::mem::size_of;
    Footprint {
        core: size_of::<Core>(),
        queue: size_of::<crate::queue::EventQueue>(),
        fall: size_of::<FallDetector>(),
        gesture: size_of::<GestureRecognizer>(),
        flash: size_of::<Flash>(),
        config: size_of::<Config>(),
        image_full: crate::flash::IMAGE_MAX,
        image_empty: crate::flash::IMAGE_HEAD_LEN,
    }
}

/// The earlier of two optional instants.
pub fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::core::mem::size_of;

    #[test]
    fn the_whole_state_fits_the_budget_stated_in_architecture_md() {
        let size = size_of::<Core>();
        assert!(
            size < STATE_BUDGET_BYTES,
            "firmware state {size} bytes >= budget {STATE_BUDGET_BYTES}"
        );
        let doc = include_str!("../../ARCHITECTURE.md");
        assert!(
            doc.contains(&std::format!("budget: {STATE_BUDGET_BYTES} bytes")),
            "ARCHITECTURE.md states the budget"
        );
    }

    #[test]
    fn footprint_adds_up_and_the_image_lengths_are_real() {
        let f = footprint();
        assert!(f.queue + f.fall + f.gesture + f.config <= f.core);
        assert!(f.queue <= f.flash);
        let mut buf = [0u8; crate::flash::IMAGE_MAX];
        assert_eq!(Flash::factory().write_image(&mut buf), f.image_empty);
    }

    fn booted() -> Core {
        Core::boot(Config::DEFAULT, Flash::factory(), 87, 0, [3; 32])
    }

    #[test]
    fn the_core_seals_its_frames_with_the_next_index_and_the_phone_opens_them() {
        let mut core = booted();
        let keys = protocol::BondKey([1; 16]).keys();
        let hb = core.heartbeat_frame(5_000_000).unwrap();
        assert_eq!(core.seal(&hb), None, "no bond, no session: nothing sealed");
        core.keys = Some(keys.clone());
        assert_eq!(core.seal(&hb), None, "no session yet");
        let s = SessionState::open(&keys, 4, [2; 8]).0;
        core.session = Some(s);
        for want in 0..2 {
            let Some(Ok(ToPhone::Sealed { index, body })) = core.seal(&hb) else {
                panic!("sealed")
            };
            assert_eq!(index, want, "a new index for every frame");
            assert_eq!(s.session.open(&keys, index, &body), Ok(Some(hb.clone())));
            // Onto the air without a heap: the message fits ToPhone::MAX_LEN.
            let mut air = [0u8; ToPhone::MAX_LEN];
            let n = ToPhone::Sealed { index, body }
                .encode_into(&mut air)
                .unwrap();
            assert_eq!(n, 2 + 4 + 15 + 1 + 16);
        }
    }

    #[test]
    fn frames_say_what_the_queue_holds_in_utc_once_the_clock_is_set() {
        let mut core = booted();
        let payload = Payload::new(&[9]).unwrap();
        core.enqueue(2_000_000, 2_000_000, EventKind::Fall, payload)
            .unwrap();
        let ev = *core.flash.queue.next_to_send().unwrap();
        let f = core.frame_of(&ev).unwrap();
        assert_eq!(
            (f.kind, f.seq, f.flags, f.time_ms),
            (EventKind::Fall, ev.seq, 0, 2_000)
        );
        assert_eq!(f.payload, [9]);
        core.flash.rtc.set(3_000_000, 1_767_603_600_000).unwrap();
        let f = core.frame_of(&ev).unwrap();
        assert!(f.clock_synced());
        assert_eq!(
            f.time_ms,
            1_767_603_600_000 - 1_000,
            "dated on the same RTC"
        );
    }

    #[test]
    fn a_heartbeat_carries_the_level_then_the_drop_count() {
        let mut core = booted();
        let hb = core.heartbeat_frame(1_000_000).unwrap();
        assert_eq!(
            (hb.kind, hb.seq, &hb.payload[..]),
            (EventKind::Heartbeat, 0, &[87][..])
        );
        let cap = usize::from(core.config.queue_capacity);
        for i in 0..=cap as u64 {
            core.enqueue(i, i, EventKind::Single, Payload::EMPTY)
                .unwrap();
        }
        assert_eq!(core.flash.queue.dropped(), 1);
        let hb = core.heartbeat_frame(1_000_000).unwrap();
        assert_eq!(hb.payload, [87, 1, 0, 0, 0]);
    }

    #[test]
    fn default_config_is_valid() {
        let c = Config::DEFAULT;
        assert_eq!(c.gesture.validate(), Ok(()));
        assert_eq!(c.fall.validate(), Ok(()));
        assert_eq!(c.link.validate(), Ok(()));
        assert!(Config::check_queue_capacity(u32::from(c.queue_capacity)).is_ok());
        assert!(Config::check_queue_capacity(63).is_err());
        assert!(Config::check_queue_capacity(QUEUE_CAPACITY as u32 + 1).is_err());
    }
}
