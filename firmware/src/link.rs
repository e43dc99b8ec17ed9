//! The link-level states of the button (advertising fast then slow, connected with at
//! most one event in flight), their timings, and the periods of the protocol's timers.

use crate::ConfigError;

/// Pairing mode lasts this long after the physical pairing action (µs).
pub const PAIRING_WINDOW_US: u64 = 60 * 1_000_000;
/// The advertised private address changes this often (µs), and at every boot.
pub const ADDRESS_ROTATION_US: u64 = 15 * 60 * 1_000_000;
/// A sealed heartbeat goes this often while a session is up (µs).
pub const HEARTBEAT_US: u64 = 60 * 1_000_000;

const MS: u64 = 1_000;

/// Radio timings of the button's link layer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct LinkTiming {
    /// Advertising interval right after a disconnection (ms).
    pub adv_fast_interval_ms: u32,
    /// How long fast advertising lasts (s).
    pub adv_fast_duration_s: u32,
    /// Advertising interval afterwards, forever (ms).
    pub adv_slow_interval_ms: u32,
    /// An event indicated but not acknowledged by the phone is sent again after this (ms).
    pub ack_timeout_ms: u32,
}

impl LinkTiming {
    /// The product's timings.
    pub const DEFAULT: LinkTiming = LinkTiming {
        adv_fast_interval_ms: 100,
        adv_fast_duration_s: 30,
        adv_slow_interval_ms: 1_000,
        ack_timeout_ms: 10_000,
    };

    /// Check the intervals (BLE's bounds) and the acknowledgement timeout.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.adv_fast_interval_ms < 20 || self.adv_slow_interval_ms < self.adv_fast_interval_ms {
            return Err(ConfigError::AdvIntervals);
        }
        if self.adv_slow_interval_ms > 10_240 {
            return Err(ConfigError::AdvSlowInterval);
        }
        if self.ack_timeout_ms < 100 {
            return Err(ConfigError::AckTimeout);
        }
        Ok(())
    }

    /// How long fast advertising lasts (µs).
    pub fn fast_duration_us(&self) -> u64 {
        u64::from(self.adv_fast_duration_s) * 1_000 * MS
    }

    /// The acknowledgement timeout (µs).
    pub fn ack_timeout_us(&self) -> u64 {
        u64::from(self.ack_timeout_ms) * MS
    }
}

impl Default for LinkTiming {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The link layer's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Advertising, fast since `since` until the fast period ends, then slow.
    Advertising {
        /// When advertising started.
        since: u64,
        /// Whether the fast period is over.
        slow: bool,
    },
    /// Connected to a central.
    Connected {
        /// The phone opened a session and set the clock on this connection.
        ready: bool,
        /// The event indicated and not yet acknowledged.
        inflight: Option<Inflight>,
    },
}

/// The event indicated and not yet acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inflight {
    /// Its sequence number.
    pub seq: u32,
    /// When it was sent.
    pub sent_at: u64,
    /// Its transmission attempt (1 = first).
    pub attempt: u32,
}

impl Link {
    /// Advertising from `now`, fast.
    pub fn advertising(now: u64) -> Self {
        Link::Advertising {
            since: now,
            slow: false,
        }
    }

    /// Just connected: no session yet, nothing in flight.
    pub const CONNECTED: Link = Link::Connected {
        ready: false,
        inflight: None,
    };

    /// Whether a central is connected.
    pub fn is_connected(&self) -> bool {
        matches!(self, Link::Connected { .. })
    }

    /// Whether a central is connected and its session is open (the phone authenticated
    /// and set the clock): events may go.
    pub fn is_ready(&self) -> bool {
        matches!(self, Link::Connected { ready: true, .. })
    }

    /// On a connection: mark it ready (or not) and forget what was in flight.
    pub fn set_ready(&mut self, is_ready: bool) {
        if let Link::Connected { ready, inflight } = self {
            *ready = is_ready;
            *inflight = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_timings_are_valid_and_bounds_hold() {
        assert_eq!(LinkTiming::DEFAULT.validate(), Ok(()));
        let t = |f: u32, s: u32, a: u32| LinkTiming {
            adv_fast_interval_ms: f,
            adv_fast_duration_s: 30,
            adv_slow_interval_ms: s,
            ack_timeout_ms: a,
        };
        assert_eq!(t(10, 100, 100).validate(), Err(ConfigError::AdvIntervals));
        assert_eq!(t(100, 50, 100).validate(), Err(ConfigError::AdvIntervals));
        assert_eq!(
            t(100, 20_000, 100).validate(),
            Err(ConfigError::AdvSlowInterval)
        );
        assert_eq!(t(100, 1000, 99).validate(), Err(ConfigError::AckTimeout));
        let mut l = Link::CONNECTED;
        l.set_ready(true);
        assert_eq!(
            l,
            Link::Connected {
                ready: true,
                inflight: None
            }
        );
        assert!(!Link::advertising(0).is_connected());
    }
}
