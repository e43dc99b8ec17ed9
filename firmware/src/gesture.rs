//! Debounce and gesture classification, as the button's firmware does it.
//!
//! Two stages, both driven by timestamps only (microseconds):
//!
//! 1. [`Debouncer`]: a raw edge changes the debounced level only once the contact has
//!    stayed put for `debounce_ms` after its last bounce; the transition is dated at the
//!    *first* edge of the bounce burst, so press durations are those of the finger.
//! 2. [`Classifier`]: a press shorter than `noise_ms` is ignored; a press released before
//!    `long_ms` is a click; a click whose press starts less than `group_gap_ms` after the
//!    previous click's release joins its group; the group is emitted once `group_gap_ms`
//!    have passed since its last release with no new press (1 = single, 2 = double,
//!    3 = triple, 4 or more = single: mashing the button in panic raises the alert, never
//!    "I am safe"). A press held `long_ms` is `long`, emitted at that instant while still
//!    held; its release is then ignored. Clicks pending when a hold turns long are emitted
//!    first, as their own gesture.
//!
//! Boundaries (default profile): 39 ms is noise and 40 ms a click; 1999 ms is a click and
//! 2000 ms long; a gap of 399 ms joins the group, 400 ms starts a new one.

use crate::fifo::Fifo;
use crate::ConfigError;

/// Timings of debounce and gesture recognition (milliseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct GestureConfig {
    /// Contact bounce filtered out (edges settle within this).
    pub debounce_ms: u32,
    /// Presses shorter than this are noise.
    pub noise_ms: u32,
    /// Presses held this long are `long`.
    pub long_ms: u32,
    /// A press starting less than this after a click's release joins its group.
    pub group_gap_ms: u32,
}

impl GestureConfig {
    /// The product's timings.
    pub const DEFAULT: GestureConfig = GestureConfig {
        debounce_ms: 10,
        noise_ms: 40,
        long_ms: 2000,
        group_gap_ms: 400,
    };

    /// Check that the timings are consistent.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.debounce_ms == 0 || self.debounce_ms >= self.noise_ms {
            return Err(ConfigError::Debounce {
                noise_ms: self.noise_ms,
                debounce_ms: self.debounce_ms,
            });
        }
        if self.noise_ms >= self.long_ms {
            return Err(ConfigError::NoiseNotBelowLong {
                noise_ms: self.noise_ms,
                long_ms: self.long_ms,
            });
        }
        if self.group_gap_ms == 0 || self.group_gap_ms > 5_000 {
            return Err(ConfigError::GroupGap(self.group_gap_ms));
        }
        Ok(())
    }
}

impl Default for GestureConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A recognised gesture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gesture {
    /// One click, or four and more.
    Single,
    /// Two clicks.
    Double,
    /// Three clicks.
    Triple,
    /// A long hold.
    Long,
}

impl Gesture {
    /// The protocol event kind for this gesture.
    pub fn event_kind(self) -> protocol::EventKind {
        match self {
            Gesture::Single => protocol::EventKind::Single,
            Gesture::Double => protocol::EventKind::Double,
            Gesture::Triple => protocol::EventKind::Triple,
            Gesture::Long => protocol::EventKind::Long,
        }
    }
}

const MS: u64 = 1_000;

/// Contact debouncer.
#[derive(Clone, Debug, Default)]
pub struct Debouncer {
    raw: bool,
    stable: bool,
    /// First raw edge away from the stable level, when a transition is pending.
    pending_since: Option<u64>,
    last_edge: u64,
    debounce_us: u64,
}

impl Debouncer {
    /// A debouncer with the given settle time, contact released.
    pub fn new(debounce_ms: u32) -> Self {
        Self {
            debounce_us: u64::from(debounce_ms) * MS,
            ..Self::default()
        }
    }

    /// A raw contact edge.
    pub fn edge(&mut self, now: u64, down: bool) {
        self.raw = down;
        self.last_edge = now;
        if down != self.stable && self.pending_since.is_none() {
            self.pending_since = Some(now);
        }
    }

    /// When the pending transition settles.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.pending_since
            .map(|_| self.last_edge + self.debounce_us)
    }

    /// First edge of a transition still settling.
    pub fn pending_since(&self) -> Option<u64> {
        self.pending_since
    }

    /// Settle: returns the debounced transition `(dated at its first edge, level)`.
    pub fn handle_timeout(&mut self, now: u64) -> Option<(u64, bool)> {
        let since = self.pending_since?;
        if now < self.last_edge + self.debounce_us {
            return None;
        }
        self.pending_since = None;
        (self.raw != self.stable).then(|| {
            self.stable = self.raw;
            (since, self.raw)
        })
    }
}

/// Gesture classifier over debounced edges.
#[derive(Clone, Debug)]
pub struct Classifier {
    cfg: GestureConfig,
    press_start: Option<u64>,
    long_fired: bool,
    clicks: u32,
    last_release: u64,
    /// Gestures recognised and not yet taken. One call emits at most two (a pending
    /// group, then `long`) and the firmware takes them after every call.
    out: Fifo<(u64, Gesture), GESTURES_PENDING>,
    lost: u32,
}

/// Gestures the classifier holds until they are taken ([`Classifier::poll_gesture`]).
pub const GESTURES_PENDING: usize = 4;

impl Classifier {
    /// A classifier with the given timings.
    pub fn new(cfg: GestureConfig) -> Self {
        Self {
            cfg,
            press_start: None,
            long_fired: false,
            clicks: 0,
            last_release: 0,
            out: Fifo::new((0, Gesture::Single)),
            lost: 0,
        }
    }

    fn gap_us(&self) -> u64 {
        u64::from(self.cfg.group_gap_ms) * MS
    }

    /// Hold a recognised gesture until it is taken; one that does not fit is counted
    /// ([`Classifier::lost`]), which the firmware's call pattern makes impossible (it
    /// takes every gesture after each call, and a call emits at most two).
    fn emit(&mut self, at: u64, g: Gesture) {
        if self.out.push((at, g)).is_err() {
            self.lost = self.lost.saturating_add(1);
        }
    }

    /// Gestures that did not fit in the pending list (0 unless a host forgets to take
    /// them).
    pub fn lost(&self) -> u32 {
        self.lost
    }

    fn emit_group(&mut self, at: u64) {
        let g = match self.clicks {
            0 => return,
            2 => Gesture::Double,
            3 => Gesture::Triple,
            _ => Gesture::Single,
        };
        self.clicks = 0;
        self.emit(at, g);
    }

    /// A debounced press starting at `t`.
    pub fn press(&mut self, t: u64) {
        if self.clicks > 0 && t >= self.last_release + self.gap_us() {
            self.emit_group(self.last_release + self.gap_us());
        }
        self.press_start = Some(t);
        self.long_fired = false;
    }

    /// A debounced release at `t`.
    pub fn release(&mut self, t: u64) {
        let Some(start) = self.press_start.take() else {
            return;
        };
        if self.long_fired {
            return;
        }
        let held = t.saturating_sub(start);
        if held < u64::from(self.cfg.noise_ms) * MS {
            // Noise: ignored, but a group whose window has closed meanwhile goes out now.
            if self.clicks > 0 && t >= self.last_release + self.gap_us() {
                self.emit_group(t);
            }
            return;
        }
        self.clicks += 1;
        self.last_release = t;
    }

    /// Next deadline: the long-press instant, or the close of the group window.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.press_start {
            Some(start) if !self.long_fired => Some(start + u64::from(self.cfg.long_ms) * MS),
            Some(_) => None,
            None if self.clicks > 0 => Some(self.last_release + self.gap_us()),
            None => None,
        }
    }

    /// Fire deadlines that are due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.press_start {
            Some(start) if !self.long_fired => {
                let at = start + u64::from(self.cfg.long_ms) * MS;
                if now >= at {
                    self.emit_group(at);
                    self.long_fired = true;
                    self.emit(at, Gesture::Long);
                }
            }
            Some(_) => {}
            None => {
                if self.clicks > 0 && now >= self.last_release + self.gap_us() {
                    self.emit_group(self.last_release + self.gap_us());
                }
            }
        }
    }

    /// Next recognised gesture, dated.
    pub fn poll_gesture(&mut self) -> Option<(u64, Gesture)> {
        self.out.pop()
    }

    /// Whether nothing is in progress (no press held, no group open).
    pub fn is_idle(&self) -> bool {
        self.press_start.is_none() && self.clicks == 0 && self.out.is_empty()
    }
}

/// Debouncer and classifier together: raw edges in, gestures out.
#[derive(Clone, Debug)]
pub struct GestureRecognizer {
    debouncer: Debouncer,
    classifier: Classifier,
}

impl GestureRecognizer {
    /// A recognizer with the given timings.
    pub fn new(cfg: &GestureConfig) -> Self {
        Self {
            debouncer: Debouncer::new(cfg.debounce_ms),
            classifier: Classifier::new(cfg.clone()),
        }
    }

    /// A raw contact edge at `now`.
    pub fn edge(&mut self, now: u64, down: bool) {
        self.handle_timeout(now);
        self.debouncer.edge(now, down);
    }

    /// Next deadline. A classifier deadline is held back while a transition that began
    /// before it is still settling, so that the transition is judged by its true date.
    pub fn poll_timeout(&self) -> Option<u64> {
        let d = self.debouncer.poll_timeout();
        let c = self.classifier.poll_timeout();
        match (d, c, self.debouncer.pending_since()) {
            (Some(d), Some(c), Some(since)) if since <= c => Some(d),
            (Some(d), Some(c), _) => Some(d.min(c)),
            (d, None, _) => d,
            (None, c, _) => c,
        }
    }

    /// Process deadlines due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if let Some(d) = self.debouncer.poll_timeout() {
            if d <= now {
                if let Some((t, down)) = self.debouncer.handle_timeout(now) {
                    self.classifier.handle_timeout(t);
                    if down {
                        self.classifier.press(t);
                    } else {
                        self.classifier.release(t);
                    }
                }
            }
        }
        let settling_before = self.debouncer.pending_since();
        if let Some(c) = self.classifier.poll_timeout() {
            if c <= now && settling_before.is_none_or(|s| s > c) {
                self.classifier.handle_timeout(now);
            }
        }
    }

    /// Next recognised gesture, dated.
    pub fn poll_gesture(&mut self) -> Option<(u64, Gesture)> {
        self.classifier.poll_gesture()
    }

    /// Whether nothing is in progress.
    pub fn is_idle(&self) -> bool {
        self.debouncer.pending_since().is_none() && self.classifier.is_idle()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// Drive a recognizer with presses `(start_ms, duration_ms)`, bouncing each edge.
    fn run(presses: &[(u64, u64)]) -> Vec<(u64, Gesture)> {
        let mut r = GestureRecognizer::new(&GestureConfig::default());
        let mut edges = Vec::new();
        for &(s, d) in presses {
            // A bounce burst of 3 ms on each edge.
            edges.extend([
                (s * MS, true),
                (s * MS + 1_000, false),
                (s * MS + 3_000, true),
            ]);
            let e = (s + d) * MS;
            edges.extend([(e, false), (e + 2_000, true), (e + 3_000, false)]);
        }
        let mut out = Vec::new();
        let drive = |r: &mut GestureRecognizer, until: u64, out: &mut Vec<(u64, Gesture)>| {
            while let Some(t) = r.poll_timeout().filter(|&t| t <= until) {
                r.handle_timeout(t);
                while let Some(g) = r.poll_gesture() {
                    out.push(g);
                }
            }
        };
        for (t, down) in edges {
            drive(&mut r, t, &mut out);
            r.edge(t, down);
        }
        drive(&mut r, u64::MAX / 2, &mut out);
        out.iter().map(|&(t, g)| (t / MS, g)).collect()
    }

    #[test]
    fn single_double_triple_and_mashing() {
        assert_eq!(run(&[(0, 100)]), vec![(500, Gesture::Single)]);
        assert_eq!(run(&[(0, 100), (300, 100)]), vec![(800, Gesture::Double)]);
        assert_eq!(
            run(&[(0, 100), (300, 100), (600, 100)]),
            vec![(1100, Gesture::Triple)]
        );
        let mash: Vec<_> = (0..6).map(|i| (i * 250, 100)).collect();
        assert_eq!(run(&mash), vec![(1750, Gesture::Single)]);
    }

    #[test]
    fn boundaries() {
        assert_eq!(run(&[(0, 39)]), vec![]);
        assert_eq!(run(&[(0, 40)]), vec![(440, Gesture::Single)]);
        assert_eq!(run(&[(0, 1999)]), vec![(2399, Gesture::Single)]);
        assert_eq!(run(&[(0, 2000)]), vec![(2000, Gesture::Long)]);
        assert_eq!(run(&[(0, 5000)]), vec![(2000, Gesture::Long)]);
        // gap 399 joins, 400 does not
        assert_eq!(run(&[(0, 100), (499, 100)]), vec![(999, Gesture::Double)]);
        assert_eq!(
            run(&[(0, 100), (500, 100)]),
            vec![(500, Gesture::Single), (1000, Gesture::Single)]
        );
        assert_eq!(
            run(&[(0, 100), (501, 100)]),
            vec![(500, Gesture::Single), (1001, Gesture::Single)]
        );
    }

    #[test]
    fn noise_inside_a_group_is_ignored() {
        assert_eq!(
            run(&[(0, 100), (200, 20), (450, 100)]),
            vec![(950, Gesture::Double)]
        );
    }

    #[test]
    fn clicks_then_hold_emit_both() {
        assert_eq!(
            run(&[(0, 100), (300, 2500)]),
            vec![(2300, Gesture::Single), (2300, Gesture::Long)]
        );
    }

    #[test]
    fn bounce_shorter_than_debounce_is_nothing() {
        let mut r = GestureRecognizer::new(&GestureConfig::default());
        r.edge(0, true);
        r.edge(5_000, false);
        r.handle_timeout(100_000);
        assert!(r.poll_gesture().is_none());
        assert!(r.is_idle());
    }

    #[test]
    fn config_validation() {
        assert!(GestureConfig::default().validate().is_ok());
        let bad = GestureConfig {
            noise_ms: 3000,
            ..GestureConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
