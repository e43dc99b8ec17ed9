//! The button's real-time clock and the rule for setting it (protocol version 2): a
//! signed `SetTime` within 2020..2100, forward only (up to [`CLOCK_BACK_TOLERANCE_MS`]
//! behind is accepted and leaves the clock where it is), at most [`MAX_CLOCK_JUMP_MS`]
//! at a time. All arithmetic saturates: no received value can overflow it.

use ::core::fmt;

/// 2020-01-01T00:00:00Z: the earliest time a phone may set.
pub const MIN_UTC_MS: u64 = 1_577_836_800_000;
/// 2100-01-01T00:00:00Z: the clock is never set at or past this.
pub const MAX_UTC_MS: u64 = 4_102_444_800_000;
/// The largest forward step one `SetTime` may make from the current reading (10 years).
pub const MAX_CLOCK_JUMP_MS: u64 = 10 * 365 * 86_400_000;
/// A `SetTime` at most this far behind the current reading is accepted but leaves the
/// clock where it is (the clock never goes backwards); further behind, it is refused.
pub const CLOCK_BACK_TOLERANCE_MS: u64 = 2_000;

const MS: u64 = 1_000;

/// The button's real-time clock: `utc_ms = offset + local_us / 1000` once set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rtc {
    /// UTC ms at local time zero, once a phone set it.
    pub utc_offset_ms: Option<i64>,
}

/// Why a `SetTime` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockRefusal {
    /// Outside 2020..2100.
    OutOfRange {
        /// The time asked (UTC ms).
        utc_ms: u64,
    },
    /// More than the tolerance before the current reading.
    Backwards {
        /// The time asked (UTC ms).
        utc_ms: u64,
        /// The current reading (UTC ms).
        current: u64,
    },
    /// More than ten years ahead of the current reading.
    TooFar {
        /// The time asked (UTC ms).
        utc_ms: u64,
    },
}

impl fmt::Display for ClockRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockRefusal::OutOfRange { utc_ms } => {
                write!(f, "clock {utc_ms} ms outside 2020..2100")
            }
            ClockRefusal::Backwards { utc_ms, current } => {
                write!(f, "clock {utc_ms} ms is before the current {current} ms")
            }
            ClockRefusal::TooFar { utc_ms } => {
                write!(f, "clock {utc_ms} ms jumps more than 10 years")
            }
        }
    }
}

/// `local_ms` on the RTC moved by `off` ms, saturated to `0..=u64::MAX`.
pub fn offset(off: i64, local_ms: u64) -> u64 {
    let v = i128::from(off) + i128::from(local_ms);
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

impl Rtc {
    /// Never set.
    pub const UNSET: Rtc = Rtc {
        utc_offset_ms: None,
    };

    /// The reading at `now` (µs on the local clock), in ms, and whether it is UTC.
    pub fn read(&self, now: u64) -> (u64, bool) {
        let local = now / MS;
        match self.utc_offset_ms {
            Some(off) => (offset(off, local), true),
            None => (local, false),
        }
    }

    /// Why `utc_ms` may not be set at `now`, if it may not.
    pub fn refusal(&self, now: u64, utc_ms: u64) -> Option<ClockRefusal> {
        if !(MIN_UTC_MS..MAX_UTC_MS).contains(&utc_ms) {
            return Some(ClockRefusal::OutOfRange { utc_ms });
        }
        let (current, set) = self.read(now);
        if !set {
            return None;
        }
        if utc_ms.saturating_add(CLOCK_BACK_TOLERANCE_MS) < current {
            return Some(ClockRefusal::Backwards { utc_ms, current });
        }
        if utc_ms > current.saturating_add(MAX_CLOCK_JUMP_MS) {
            return Some(ClockRefusal::TooFar { utc_ms });
        }
        None
    }

    /// Set the clock to `utc_ms` at `now` if the rule allows (forward only: a time
    /// within the tolerance behind leaves it where it is).
    pub fn set(&mut self, now: u64, utc_ms: u64) -> Result<(), ClockRefusal> {
        if let Some(why) = self.refusal(now, utc_ms) {
            return Err(why);
        }
        let local = i64::try_from(now / MS).unwrap_or(i64::MAX);
        // utc_ms < MAX_UTC_MS fits an i64; the clock only moves forward.
        let target = i64::try_from(utc_ms)
            .unwrap_or(i64::MAX)
            .saturating_sub(local);
        self.utc_offset_ms = Some(match self.utc_offset_ms {
            Some(old) => old.max(target),
            None => target,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_only_within_bounds() {
        let mut r = Rtc::UNSET;
        assert_eq!(r.read(5_000_000), (5_000, false));
        assert!(matches!(r.set(0, 1), Err(ClockRefusal::OutOfRange { .. })));
        r.set(0, MIN_UTC_MS + 10_000).unwrap();
        assert_eq!(r.read(1_000_000), (MIN_UTC_MS + 11_000, true));
        // 1 s back: accepted, the clock stays put.
        r.set(1_000_000, MIN_UTC_MS + 10_000).unwrap();
        assert_eq!(r.read(1_000_000), (MIN_UTC_MS + 11_000, true));
        assert!(matches!(
            r.set(1_000_000, MIN_UTC_MS),
            Err(ClockRefusal::Backwards { .. })
        ));
        assert!(matches!(
            r.set(1_000_000, MIN_UTC_MS + 11_000 + MAX_CLOCK_JUMP_MS + 1),
            Err(ClockRefusal::TooFar { .. })
        ));
        assert_eq!(offset(i64::MIN, 5), 0);
        assert_eq!(offset(i64::MAX, u64::MAX), u64::MAX);
    }
}
