//! The alarm button's firmware logic: `no_std`, no heap, every part a fixed size.
//!
//! This is what a product team would compile for the button's MCU (an nRF52810 has
//! 24 kB of RAM). The host side (`device-model`) wires it to the models a board would
//! have under it — the cell and its power physics, the accelerometer's analogue front
//! end, the radio — exactly as a board support package would, and loads profiles from
//! JSON into the plain [`Config`] structs here (each with a `const DEFAULT`).
//!
//! - [`gesture`]: debounce and the single/double/triple/long classifier;
//! - [`fall`]: the integer fall detector;
//! - [`queue`]: the persistent event queue (fixed capacity [`queue::QUEUE_CAPACITY`]),
//!   sequence numbers that never wrap, and what goes when it is full;
//! - [`flash`]: everything that survives a reset, and its serialized image;
//! - [`clock`]: the real-time clock and the rule for setting it;
//! - [`link`]: the link-level states, advertising and delivery timings, the heartbeat;
//! - [`session`]: a session's command counter and frame index;
//! - [`battery`]: the battery-level reporting thresholds;
//! - [`core`](mod@crate::core): the whole firmware state ([`Core`]), its memory budget.
//!
//! CI proves the claim: this crate is `#![no_std]` without `extern crate alloc`, so a
//! `std::` or `alloc::` path is a compile error, and clippy denies `unwrap`, `expect`,
//! indexing that can panic and `panic!` in it.

#![no_std]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(test)]
extern crate std;

pub mod battery;
pub mod clock;
pub mod core;
pub mod fall;
pub mod fifo;
pub mod flash;
pub mod gesture;
pub mod link;
pub mod queue;
pub mod session;

pub use crate::core::{footprint, Config, Core, Footprint};
pub use battery::LowBatteryLevels;
pub use clock::Rtc;
pub use flash::Flash;
pub use gesture::{Gesture, GestureConfig};
pub use link::LinkTiming;
pub use queue::{EventQueue, Payload, QueuedEvent};

use ::core::fmt;

/// A configuration value out of range (the crate's one error type). Its text names
/// what was expected; the host adds the field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `debounce_ms` is zero or not below `noise_ms`.
    Debounce {
        /// The noise threshold.
        noise_ms: u32,
        /// The debounce time given.
        debounce_ms: u32,
    },
    /// `noise_ms` is not below `long_ms`.
    NoiseNotBelowLong {
        /// The noise threshold.
        noise_ms: u32,
        /// The long-press time.
        long_ms: u32,
    },
    /// `group_gap_ms` outside 1..=5000.
    GroupGap(u32),
    /// The fall trigger is below 1 g.
    FallTrigger(u16),
    /// `strong_impact_mg` below `trigger_mg`.
    FallStrongImpact,
    /// `pre_end_ms` not below `pre_start_ms`.
    FallPreWindow,
    /// `still_window_ms` shorter than a block.
    FallStillWindow,
    /// `learn_min_mg` above `learn_max_mg`.
    FallLearnRange,
    /// The windows do not fit the detector's history.
    FallSpan {
        /// The span the windows need (ms).
        span: u32,
        /// The history kept (ms).
        max: u32,
    },
    /// An angle above 180°.
    FallAngles,
    /// `upright_axis` not 0, 1 or 2.
    FallUprightAxis,
    /// `upright_sign` not ±1.
    FallUprightSign,
    /// The queue capacity is outside what the firmware holds.
    QueueCapacity(u32),
    /// A low-battery level outside 1..=100, or too many levels.
    LowBatteryLevels,
    /// Advertising intervals out of order or below 20 ms.
    AdvIntervals,
    /// The slow advertising interval above BLE's 10.24 s.
    AdvSlowInterval,
    /// The acknowledgement timeout below 100 ms.
    AckTimeout,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigError as E;
        match self {
            E::Debounce {
                noise_ms,
                debounce_ms,
            } => write!(
                f,
                "debounce_ms must be > 0 and below noise_ms ({noise_ms} ms), got {debounce_ms}"
            ),
            E::NoiseNotBelowLong { noise_ms, long_ms } => {
                write!(f, "noise_ms ({noise_ms}) must be below long_ms ({long_ms})")
            }
            E::GroupGap(g) => write!(f, "group_gap_ms must be in 1..=5000, got {g}"),
            E::FallTrigger(t) => write!(
                f,
                "fall trigger_mg must be at least 1000 (1 g), found {t}"
            ),
            E::FallStrongImpact => f.write_str("fall strong_impact_mg must be at least trigger_mg"),
            E::FallPreWindow => f.write_str("fall pre_end_ms must be smaller than pre_start_ms"),
            E::FallStillWindow => write!(
                f,
                "fall still_window_ms must be at least {}",
                fall::BLOCK_MS
            ),
            E::FallLearnRange => f.write_str("fall learn_min_mg must not exceed learn_max_mg"),
            E::FallSpan { span, max } => write!(
                f,
                "fall windows span {span} ms (pre_start_ms + late_ms + still_window_ms), at most {max} ms"
            ),
            E::FallAngles => f.write_str("fall angles must be within 0..=180 degrees"),
            E::FallUprightAxis => f.write_str("fall upright_axis must be 0, 1 or 2"),
            E::FallUprightSign => f.write_str("fall upright_sign must be 1 or -1"),
            E::QueueCapacity(c) => write!(
                f,
                "expected {}..={}, got {c}",
                queue::MIN_QUEUE_CAPACITY,
                queue::QUEUE_CAPACITY
            ),
            E::LowBatteryLevels => write!(
                f,
                "expected at most {} levels in 1..=100",
                battery::MAX_LOW_LEVELS
            ),
            E::AdvIntervals => {
                f.write_str("expected 20 ms <= adv_fast_interval_ms <= adv_slow_interval_ms")
            }
            E::AdvSlowInterval => f.write_str("BLE caps advertising at 10240 ms"),
            E::AckTimeout => f.write_str("expected at least 100 ms"),
        }
    }
}

impl ::core::error::Error for ConfigError {}
