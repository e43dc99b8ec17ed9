//! Continuous synthetic wearer-days for the fall detector's long-day check.
//!
//! A day (16 waking hours, at the accelerometer's ODR, in mg) is a seeded random
//! sequence of daily activities, never a fall: sitting (still, leaning, with
//! breathing), walking, stairs (harder steps), lying down on a bed and getting
//! up again, and taking the button off, handling it, putting it down on a table (a
//! short drop: an impact of 3–6 g, then dead still) and picking it up later. The button is clipped with a
//! per-day random rotation (it may be upside down), so the detector must learn
//! which way is up. [`false_alarms_per_day`] runs the detector over `days` such
//! days and counts the falls raised: every one is a false alarm.
//!
//! Deterministic: the same seed gives the same days (ChaCha8).

use device_model::fall::{FallDetector, FallDetectorConfig, Stage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Waking hours in a synthetic day.
pub const DAY_HOURS: u64 = 16;

/// One day's generator state: the detector it feeds and the mount rotation.
struct Day<'a> {
    rng: ChaCha8Rng,
    det: &'a mut FallDetector,
    odr: u32,
    /// Device axes as a signed permutation of body axes (side, down, forward).
    mount: [(usize, i32); 3],
    falls: usize,
    samples: u64,
    /// Put-downs, and those whose drop the off-body stage rejected.
    put_downs: usize,
    off_body: usize,
}

impl Day<'_> {
    /// Feeds one body-frame sample (mg: side, down-along-trunk, forward).
    fn feed(&mut self, body: [f64; 3]) {
        let mut mg = [0i16; 3];
        for (o, (axis, sign)) in mg.iter_mut().zip(self.mount) {
            *o = (body[axis] * f64::from(sign))
                .round()
                .clamp(-7990.0, 7990.0) as i16;
        }
        self.falls += usize::from(self.det.push(mg).is_some());
        self.samples += 1;
    }

    fn noise(&mut self, sd: f64) -> f64 {
        (self.rng.gen::<f64>() + self.rng.gen::<f64>() - 1.0) * sd * 1.7
    }

    /// Body-frame gravity for a trunk pitched by `deg` (0 upright, 90 lying on the back).
    fn posture(deg: f64) -> [f64; 3] {
        let r = deg.to_radians();
        [0.0, 1000.0 * r.cos(), -1000.0 * r.sin()]
    }

    /// Holds a posture for `secs` with breathing and sensor noise.
    fn hold(&mut self, deg: f64, secs: f64) {
        let n = (secs * f64::from(self.odr)) as u64;
        let g = Self::posture(deg);
        for i in 0..n {
            let breath = 8.0 * (i as f64 / f64::from(self.odr) * 1.6).sin();
            let v = [
                g[0] + self.noise(3.0),
                g[1] + breath + self.noise(3.0),
                g[2] + breath + self.noise(3.0),
            ];
            self.feed(v);
        }
    }

    /// Walks (or climbs stairs with `hard`) for `secs`.
    fn walk(&mut self, secs: f64, hard: f64) {
        let n = (secs * f64::from(self.odr)) as u64;
        let f = 1.7 + self.rng.gen::<f64>() * 0.4;
        for i in 0..n {
            let t = i as f64 / f64::from(self.odr) * std::f64::consts::TAU * f;
            let v = [
                120.0 * (t / 2.0).sin() + self.noise(20.0),
                1000.0 + 350.0 * hard * t.sin() + self.noise(30.0),
                200.0 * t.cos() + self.noise(20.0),
            ];
            self.feed(v);
        }
    }

    /// Rotates the trunk from `from` to `to` degrees over `secs`, gently.
    fn turn(&mut self, from: f64, to: f64, secs: f64) {
        let n = ((secs * f64::from(self.odr)) as u64).max(1);
        for i in 0..n {
            let a = from + (to - from) * (i as f64 / n as f64);
            let g = Self::posture(a);
            let v = [
                g[0] + self.noise(40.0),
                g[1] + self.noise(60.0),
                g[2] + self.noise(60.0),
            ];
            self.feed(v);
        }
    }

    /// Takes the button off and handles it (3 s, held turned 70–150° from upright,
    /// moving), lowers it flat onto a table (face up or down), drops it the last few
    /// centimetres (70 ms nearly weightless, an impact of 3–6 g), leaves it dead still
    /// for `minutes` (sensor noise only), then picks it up.
    fn put_down(&mut self, minutes: f64) {
        let odr = f64::from(self.odr);
        for i in 0..(3.0 * odr) as u64 {
            let a = i as f64 / odr;
            let g = Self::posture(110.0 + 40.0 * (a * 2.1).sin());
            let hand = 150.0 * (a * 9.0).sin() + self.noise(50.0);
            let v = [self.noise(50.0), g[1] + hand, g[2] + hand / 2.0];
            self.feed(v);
        }
        let flat = if self.rng.gen::<bool>() { 90.0 } else { -90.0 };
        let g = Self::posture(flat);
        for _ in 0..(0.3 * odr) as u64 {
            let v = [self.noise(30.0), g[1] + self.noise(30.0), g[2] * 0.9];
            self.feed(v);
        }
        for _ in 0..(0.07 * odr).ceil() as u64 {
            self.feed(g.map(|v| v * 0.1));
        }
        let impact = 3.0 + self.rng.gen::<f64>() * 3.0;
        let drop_at = self.samples;
        self.feed(g.map(|v| v * impact * 0.6));
        self.feed(g.map(|v| v * impact));
        self.feed(g.map(|v| v * 0.6));
        for _ in 0..(minutes * 60.0 * odr) as u64 {
            let v = [
                self.noise(2.0),
                g[1] + self.noise(2.0),
                g[2] + self.noise(2.0),
            ];
            self.feed(v);
        }
        self.put_downs += 1;
        let off_body = self
            .det
            .last_judgement()
            .is_some_and(|j| j.peak_sample_index >= drop_at && j.stage == Stage::OffBody);
        self.off_body += usize::from(off_body);
        for i in 0..(3.0 * odr) as u64 {
            let a = i as f64 / odr * 2.0;
            let v = [500.0 * a.cos(), 700.0 * a.sin(), 500.0 + self.noise(150.0)];
            self.feed(v);
        }
    }

    /// One activity chosen at random.
    fn activity(&mut self) {
        let kind = self.rng.gen_range(0..10u8);
        let u = self.rng.gen::<f64>();
        let span = |lo: f64, hi: f64| lo + (hi - lo) * u;
        match kind {
            0..=2 => {
                let lean = 5.0 + 30.0 * self.rng.gen::<f64>();
                self.turn(0.0, lean, 1.5);
                self.hold(lean, span(60.0, 1200.0));
                self.turn(lean, 0.0, 1.5);
            }
            3..=5 => self.walk(span(20.0, 600.0), 1.0),
            6 => self.walk(span(10.0, 60.0), 1.6),
            7 => {
                self.turn(0.0, 30.0, 2.0);
                self.turn(30.0, 90.0, 3.0);
                self.hold(90.0, span(60.0, 1800.0));
                self.turn(90.0, 0.0, 3.0);
            }
            8 => self.put_down(span(1.0, 30.0)),
            _ => self.hold(0.0, span(10.0, 120.0)),
        }
    }
}

/// A random mount: a signed permutation of the body axes.
fn mount(rng: &mut ChaCha8Rng) -> [(usize, i32); 3] {
    const PERMS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let p = PERMS[rng.gen_range(0..6)];
    p.map(|a| (a, if rng.gen::<bool>() { 1 } else { -1 }))
}

/// What one or more synthetic days gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayStats {
    /// Falls raised (every one a false alarm).
    pub falls: usize,
    /// Samples fed.
    pub samples: u64,
    /// Times the button was put down on a table.
    pub put_downs: usize,
    /// Put-downs whose drop opened a candidate that the off-body stage rejected.
    pub off_body: usize,
}

/// One synthetic day of seed `seed`.
pub fn run_day(cfg: &FallDetectorConfig, odr: u32, seed: u64) -> DayStats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let m = mount(&mut rng);
    let mut det = FallDetector::new(cfg, odr);
    let mut day = Day {
        rng,
        det: &mut det,
        odr,
        mount: m,
        falls: 0,
        samples: 0,
        put_downs: 0,
        off_body: 0,
    };
    day.walk(30.0, 1.0);
    let end = DAY_HOURS * 3600 * u64::from(odr);
    while day.samples < end {
        day.activity();
    }
    DayStats {
        falls: day.falls,
        samples: day.samples,
        put_downs: day.put_downs,
        off_body: day.off_body,
    }
}

/// The sum over `days` synthetic days (seeds `seed..seed + days`), in parallel.
pub fn run_days(cfg: &FallDetectorConfig, odr: u32, days: u64, seed: u64) -> DayStats {
    let seeds: Vec<u64> = (seed..seed + days).collect();
    let mut sum = DayStats::default();
    for d in crate::falls_eval::par_map(&seeds, |s| run_day(cfg, odr, *s)) {
        sum.falls += d.falls;
        sum.samples += d.samples;
        sum.put_downs += d.put_downs;
        sum.off_body += d.off_body;
    }
    sum
}

/// False alarms per wearer-day over `days` synthetic days (seeds `seed..seed + days`).
pub fn false_alarms_per_day(cfg: &FallDetectorConfig, odr: u32, days: u64, seed: u64) -> f64 {
    run_days(cfg, odr, days, seed).falls as f64 / days.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_deterministic_and_long() {
        let cfg = FallDetectorConfig::default();
        let a = run_day(&cfg, 50, 7);
        assert_eq!(a, run_day(&cfg, 50, 7));
        assert!(a.samples >= DAY_HOURS * 3600 * 50);
    }

    #[test]
    fn every_put_down_is_rejected_off_body_and_raises_no_fall() {
        let s = run_days(&FallDetectorConfig::default(), 50, 1, 1);
        assert!(s.put_downs > 0, "{s:?}");
        assert_eq!(s.off_body, s.put_downs, "{s:?}");
        assert_eq!(s.falls, 0, "{s:?}");
    }

    #[test]
    fn without_the_turn_rule_put_downs_handled_quietly_raise_falls() {
        // The turn in the hand is what tells these put-downs apart: the test can fail.
        let cfg = FallDetectorConfig {
            off_body_turn_deg: 0,
            ..FallDetectorConfig::default()
        };
        let s = run_days(&cfg, 50, 1, 1);
        assert!(s.falls > 0, "{s:?}");
    }
}
