//! The rig's notion of time: the wall clock on hardware, virtual time for a dry run
//! against the simulator's central. Nothing else in the rig reads a clock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the rig's time comes from.
pub trait Clock {
    /// Time since the clock started.
    fn now(&self) -> Duration;
    /// The phone's UTC time (µs since 1970).
    fn utc_us(&self) -> u64;
    /// The rig has just pumped its link for `d`: a virtual clock moves by it; the wall
    /// clock has moved by itself.
    fn pumped(&mut self, d: Duration);
}

/// Real time, for a rig with real hardware.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    start: Instant,
}

impl WallClock {
    /// A clock started now.
    pub fn start() -> Self {
        WallClock {
            start: Instant::now(),
        }
    }
}

impl Clock for WallClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn utc_us(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    fn pumped(&mut self, _: Duration) {}
}

/// Virtual time that moves only as the rig pumps its (virtual) link; it starts at zero
/// together with the link, at `epoch_utc_us`.
#[derive(Clone, Copy, Debug)]
pub struct VirtualClock {
    now: Duration,
    epoch_utc_us: u64,
}

impl VirtualClock {
    /// A clock at zero, reading `epoch_utc_us` as UTC.
    pub fn new(epoch_utc_us: u64) -> Self {
        VirtualClock {
            now: Duration::ZERO,
            epoch_utc_us,
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        self.now
    }

    fn utc_us(&self) -> u64 {
        self.epoch_utc_us
            .saturating_add(u64::try_from(self.now.as_micros()).unwrap_or(u64::MAX))
    }

    fn pumped(&mut self, d: Duration) {
        self.now += d;
    }
}
