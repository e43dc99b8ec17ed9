//! The battery-level reporting thresholds: the levels (percent) at which the firmware
//! queues a low-battery event, kept in a fixed array. The cell's physics (its charge,
//! voltage and sag, in `f64`) is the host's: the firmware only sees the level it reads.

use crate::ConfigError;

/// At most this many low-battery levels.
pub const MAX_LOW_LEVELS: usize = 4;

/// Levels (percent, 1..=100) at which a low-battery event is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LowBatteryLevels {
    levels: [u8; MAX_LOW_LEVELS],
    len: u8,
}

impl LowBatteryLevels {
    /// The product's levels: 20 % and 10 %.
    pub const DEFAULT: LowBatteryLevels = LowBatteryLevels {
        levels: [20, 10, 0, 0],
        len: 2,
    };

    /// Levels from a list (each in 1..=100, at most [`MAX_LOW_LEVELS`]).
    pub fn new(levels: &[u8]) -> Result<Self, ConfigError> {
        let mut out = [0u8; MAX_LOW_LEVELS];
        if levels.len() > MAX_LOW_LEVELS || levels.iter().any(|&l| l == 0 || l > 100) {
            return Err(ConfigError::LowBatteryLevels);
        }
        for (o, l) in out.iter_mut().zip(levels) {
            *o = *l;
        }
        Ok(Self {
            levels: out,
            len: levels.len() as u8,
        })
    }

    /// The levels.
    pub fn as_slice(&self) -> &[u8] {
        self.levels.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether a drop from `old` to `new` percent crosses a level (the event is queued
    /// once per report, however many levels it crosses).
    pub fn crossed(&self, old: u8, new: u8) -> bool {
        self.as_slice().iter().any(|&l| new <= l && old > l)
    }
}

impl Default for LowBatteryLevels {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_and_bounds() {
        let l = LowBatteryLevels::DEFAULT;
        assert!(l.crossed(21, 20) && l.crossed(11, 9) && l.crossed(50, 5));
        assert!(!l.crossed(20, 19) && !l.crossed(10, 10));
        assert!(LowBatteryLevels::new(&[0]).is_err());
        assert!(LowBatteryLevels::new(&[101]).is_err());
        assert!(LowBatteryLevels::new(&[50, 40, 30, 20, 10]).is_err());
        assert_eq!(LowBatteryLevels::new(&[20, 10]), Ok(l));
    }
}
