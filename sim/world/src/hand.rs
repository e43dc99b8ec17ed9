//! A model of the wearer's hand pressing the button through clothing.
//!
//! Figures (bounded, seeded): a deliberate press lasts 80–250 ms and the gap between the
//! presses of a double or triple press is 100–300 ms (SPEC §4). Inside those bounds the
//! draw is the mean of two uniforms (a triangular distribution peaking mid-range, as
//! human motor timings cluster around a typical value rather than spread evenly); the
//! typical values — about 165 ms per press and 200 ms between presses — match reported
//! tap-duration and inter-tap figures for deliberate repeated taps. Each edge of a
//! mechanical dome switch bounces: 0–3 extra edges within the first 5 ms (well inside
//! the 10 ms debounce).

use crate::rng::{Component, Stream};
use crate::sched::{Micros, MILLI};

/// Bounds of the hand model (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandModel {
    /// Shortest and longest press.
    pub press_ms: (u64, u64),
    /// Shortest and longest gap between presses of a group.
    pub gap_ms: (u64, u64),
    /// Maximum extra bounce edges per edge.
    pub max_bounces: u64,
}

impl Default for HandModel {
    fn default() -> Self {
        Self {
            press_ms: (80, 250),
            gap_ms: (100, 300),
            max_bounces: 3,
        }
    }
}

/// The hand, with its random stream.
#[derive(Debug, Clone)]
pub struct Hand {
    model: HandModel,
    rng: Stream,
}

impl Hand {
    /// A hand drawing from the scenario seed's hand stream.
    pub fn new(seed: u64, model: HandModel) -> Self {
        Hand {
            model,
            rng: Stream::new(seed, Component::Hand),
        }
    }

    fn triangular(&mut self, (lo, hi): (u64, u64)) -> u64 {
        let a = self.rng.range(lo, hi);
        let b = self.rng.range(lo, hi);
        (a + b) / 2
    }

    /// Raw edges of `n` presses starting at `start`; returns the edges and the time of
    /// the last release.
    pub fn presses(&mut self, start: Micros, n: u32) -> (Vec<(Micros, bool)>, Micros) {
        let mut t = start;
        let mut edges = Vec::new();
        let mut last_release = start;
        for i in 0..n {
            if i > 0 {
                t += self.triangular(self.model.gap_ms) * MILLI;
            }
            let dur = self.triangular(self.model.press_ms) * MILLI;
            self.edge(&mut edges, t, true);
            t += dur;
            self.edge(&mut edges, t, false);
            last_release = t;
        }
        (edges, last_release)
    }

    fn edge(&mut self, edges: &mut Vec<(Micros, bool)>, t: Micros, down: bool) {
        edges.push((t, down));
        let bounces = self.rng.range(0, self.model.max_bounces);
        let mut bt = t;
        for _ in 0..bounces {
            bt += self.rng.range(200, 1_200);
            edges.push((bt, !down));
            bt += self.rng.range(200, 1_200);
            edges.push((bt, down));
        }
    }
}

/// One generated button trace: name, seed, groups of (start ms, presses).
pub type ButtonTrace = (&'static str, u64, &'static [(u64, u32)]);

/// The button traces under `scenarios/traces/`.
pub const BUTTON_TRACES: &[ButtonTrace] = &[
    ("buttons_double_press", 11, &[(1_000, 2)]),
    ("buttons_panic_mash", 12, &[(1_000, 6)]),
    ("buttons_single_then_safe", 13, &[(1_000, 1), (60_000, 3)]),
];

/// Native JSON Lines of the groups of presses, drawn by the hand model from `seed`
/// (bounces included): header, then one `button` record per edge.
pub fn button_trace_jsonl(name: &str, seed: u64, groups: &[(u64, u32)]) -> String {
    let mut hand = Hand::new(seed, HandModel::default());
    let mut s = format!(
        "{{\"trace\":\"alarm-button\",\"version\":1,\"source\":\"synthetic: sim::hand press-timing model, {name}, seed {seed}\",\"generator\":\"sim::hand\",\"seed\":{seed},\"device\":\"button\"}}\n"
    );
    for &(start_ms, n) in groups {
        let (edges, _) = hand.presses(start_ms * MILLI, n);
        for (t, down) in edges {
            // Edge times in ms with µs precision (3 decimals).
            s.push_str(&format!(
                "{{\"t_ms\":{}.{:03},\"button\":\"{}\"}}\n",
                t / MILLI,
                t % MILLI,
                if down { "down" } else { "up" }
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_stay_in_bounds() {
        let mut h = Hand::new(3, HandModel::default());
        for n in 1..=4 {
            let (edges, last) = h.presses(1_000_000, n);
            assert!(edges.windows(2).all(|w| w[0].0 < w[1].0));
            let downs = edges.iter().filter(|e| e.1).count();
            assert!(downs >= n as usize);
            assert!(last > 1_000_000);
            assert!(edges.last().is_some_and(|e| !e.1 && e.0 - last < 10_000));
        }
    }
}
