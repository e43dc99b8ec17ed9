//! Fall detector, written as the button's firmware would run it.
//!
//! Integer (fixed-point) arithmetic only, bounded state (about 1 KiB, checked by
//! a unit test), no clock, no RNG, no I/O. It is fed one accelerometer sample
//! (`[i16; 3]` milli-g) per output-data-rate period through
//! [`FallDetector::push`].
//!
//! # Algorithm
//!
//! Samples are summarised into 100 ms *blocks* kept in a ring of 8 s: per block,
//! the mean acceleration vector (the gravity direction when the wearer is still),
//! the range (max − min) of the magnitude `|a|` and the *energy*
//! `Σ | |a| − baseline |`, where `baseline` is a slow low-pass of `|a|` clamped to
//! 0.5–1.5 g (the sensor's reading of 1 g, robust to calibration error).
//!
//! 1. **Impact**: a sample with `|a| ≥ trigger_mg` opens a candidate event. While
//!    it is pending, a larger `|a|` moves the event's peak there.
//! 2. The candidate is judged once `settle_ms + still_window_ms` have passed after
//!    its peak. It is a fall when all of:
//!    - **violence**: the peak is at least `strong_impact_mg`, or the energy over
//!      `±energy_window_ms` around the peak is at least `min_energy_mg_s`
//!      (in mg·s: a fall is a long disturbance — free fall, impact, tumbling —
//!      where a jump or a stumble is short, and lying down on a bed is gentle);
//!    - **orientation change**: the angle between the mean gravity vector in
//!      `[peak − pre_start_ms, peak − pre_end_ms]` and the one in the stillness
//!      window is at least `min_tilt_deg` (the wearer ends in another posture,
//!      typically lying), or the posture after is at least `lying_min_deg` away
//!      from the upright axis (lying, after a fall that started bent over);
//!    - **stillness**: in `[peak + settle_ms, peak + settle_ms + still_window_ms]`
//!      the mean block range of `|a|` is at most `still_max_mg` (the wearer lies
//!      on the floor);
//!    - **upright before** (disabled when `max_pre_tilt_deg` is 180): the
//!      pre-event gravity vector is within `max_pre_tilt_deg` of the device's
//!      upright axis (`upright_axis`, `upright_sign`: the button is worn on a
//!      belt, like the SisFall waist sensor whose `y` axis reads −1 g standing).
//!      A fall starts standing or sitting; turning over in bed does not count.
//! 3. After a fall is reported, no new candidate opens for `refractory_ms` after
//!    its peak: one event is reported once.
//!
//! Angles are compared through a cosine table in permille (dot products in
//! `i64`), magnitudes through an integer square root.

use serde::{Deserialize, Serialize};

/// Duration of one summary block in ms.
pub const BLOCK_MS: u32 = 100;
/// Number of blocks kept (8 s of history).
pub const RING_BLOCKS: usize = 80;

/// cos(d°) in permille for d = 0..=90.
const COS_PERMILLE: [i16; 91] = [
    1000, 1000, 999, 999, 998, 996, 995, 993, 990, 988, 985, 982, 978, 974, 970, 966, 961, 956,
    951, 946, 940, 934, 927, 921, 914, 906, 899, 891, 883, 875, 866, 857, 848, 839, 829, 819, 809,
    799, 788, 777, 766, 755, 743, 731, 719, 707, 695, 682, 669, 656, 643, 629, 616, 602, 588, 574,
    559, 545, 530, 515, 500, 485, 469, 454, 438, 423, 407, 391, 375, 358, 342, 326, 309, 292, 276,
    259, 242, 225, 208, 191, 174, 156, 139, 122, 105, 87, 70, 52, 35, 17, 0,
];

/// cos(deg) in permille for deg = 0..=180 (saturating above 180).
fn cos_permille(deg: u8) -> i64 {
    let d = deg.min(180) as usize;
    if d <= 90 {
        i64::from(COS_PERMILLE[d])
    } else {
        -i64::from(COS_PERMILLE[180 - d])
    }
}

/// Integer square root (floor).
fn isqrt(v: u64) -> u64 {
    if v < 2 {
        return v;
    }
    // Newton's iteration from a power of two at or above the root (from the bit
    // length), so it converges in a few steps instead of ~log2(v) halvings.
    let bits = 64 - v.leading_zeros();
    let mut x = 1u64 << bits.div_ceil(2);
    loop {
        let y = (x + v / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// Thresholds and windows of the fall detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallDetectorConfig {
    /// `|a|` that opens a candidate event, in mg.
    pub trigger_mg: u16,
    /// Peak `|a|` that counts as violent enough on its own, in mg.
    pub strong_impact_mg: u16,
    /// Energy around the peak that counts as violent enough, in mg·s.
    pub min_energy_mg_s: u32,
    /// Half-width of the energy window around the peak, in ms.
    pub energy_window_ms: u32,
    /// Start of the pre-event posture window, in ms before the peak.
    pub pre_start_ms: u32,
    /// End of the pre-event posture window, in ms before the peak.
    pub pre_end_ms: u32,
    /// Delay after the peak before the stillness window starts, in ms.
    pub settle_ms: u32,
    /// Length of the stillness window, in ms.
    pub still_window_ms: u32,
    /// Largest mean block range of `|a|` that still counts as lying still, in mg.
    pub still_max_mg: u16,
    /// Smallest orientation change between before and after, in degrees.
    pub min_tilt_deg: u8,
    /// Device axis along the trunk (0 = x, 1 = y, 2 = z).
    pub upright_axis: u8,
    /// Sign of that axis's reading when the wearer stands still (-1 or 1): the
    /// SisFall waist sensor and the default button read `y ≈ −1 g` standing.
    pub upright_sign: i8,
    /// Largest angle between the pre-event gravity vector and the upright axis,
    /// in degrees; 180 disables the check.
    pub max_pre_tilt_deg: u8,
    /// Angle between the posture after and the upright axis from which the
    /// wearer counts as lying, in degrees: ending lying also counts as an
    /// orientation change (a fall that starts bent over, e.g. while getting up);
    /// 180 disables this.
    pub lying_min_deg: u8,
    /// Time after a reported fall's peak during which no new event opens, in ms.
    pub refractory_ms: u32,
}

impl Default for FallDetectorConfig {
    fn default() -> Self {
        Self {
            trigger_mg: 1800,
            strong_impact_mg: 3000,
            min_energy_mg_s: 300,
            energy_window_ms: 1000,
            pre_start_ms: 2000,
            pre_end_ms: 1000,
            settle_ms: 1500,
            still_window_ms: 1500,
            still_max_mg: 150,
            min_tilt_deg: 50,
            upright_axis: 1,
            upright_sign: -1,
            max_pre_tilt_deg: 75,
            lying_min_deg: 70,
            refractory_ms: 10_000,
        }
    }
}

impl FallDetectorConfig {
    /// Checks that the thresholds are consistent and the windows fit the ring.
    pub fn validate(&self) -> Result<(), String> {
        if self.trigger_mg < 1000 {
            return Err(format!(
                "fall trigger_mg must be at least 1000 (1 g), found {}",
                self.trigger_mg
            ));
        }
        if self.strong_impact_mg < self.trigger_mg {
            return Err("fall strong_impact_mg must be at least trigger_mg".into());
        }
        if self.pre_end_ms >= self.pre_start_ms {
            return Err("fall pre_end_ms must be smaller than pre_start_ms".into());
        }
        if self.still_window_ms < BLOCK_MS {
            return Err(format!("fall still_window_ms must be at least {BLOCK_MS}"));
        }
        let span = self.pre_start_ms.max(self.energy_window_ms)
            + self.settle_ms.max(self.energy_window_ms)
            + self.still_window_ms;
        let max = (RING_BLOCKS as u32 - 2) * BLOCK_MS;
        if span > max {
            return Err(format!(
                "fall windows span {span} ms (pre_start_ms + settle_ms + still_window_ms), at most {max} ms"
            ));
        }
        if self.min_tilt_deg > 180 || self.max_pre_tilt_deg > 180 || self.lying_min_deg > 180 {
            return Err("fall angles must be within 0..=180 degrees".into());
        }
        if self.upright_axis > 2 {
            return Err("fall upright_axis must be 0, 1 or 2".into());
        }
        if self.upright_sign != 1 && self.upright_sign != -1 {
            return Err("fall upright_sign must be 1 or -1".into());
        }
        Ok(())
    }
}

/// A detected fall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FallInfo {
    /// Peak `|a|` of the impact, in mg.
    pub peak_mg: u16,
    /// Index (0-based, counting pushed samples) of the impact peak.
    pub peak_sample_index: u64,
    /// Index of the sample whose push reported the fall.
    pub sample_index: u64,
    /// Samples between the peak and the report.
    pub delay_samples: u32,
    /// Orientation change, in degrees.
    pub tilt_deg: u8,
    /// Energy around the peak, in mg·s.
    pub energy_mg_s: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Block {
    mean: [i16; 3],
    range: u16,
    energy: u32,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    peak_mg: u16,
    peak_sample: u64,
}

/// Windows converted to blocks and samples.
#[derive(Clone, Debug)]
struct Params {
    trigger_mg: u16,
    strong_impact_mg: u16,
    min_energy: u32,
    energy_b: u64,
    pre_start_b: u64,
    pre_end_b: u64,
    settle_b: u64,
    still_b: u64,
    still_max_mg: u16,
    min_tilt_deg: u8,
    upright_axis: usize,
    upright_sign: i64,
    max_pre_tilt_deg: u8,
    lying_min_deg: u8,
    refractory_samples: u64,
}

/// The fall detector state machine (fixed size, no heap).
#[derive(Clone, Debug)]
pub struct FallDetector {
    p: Params,
    odr_hz: u32,
    block_len: u32,
    /// Samples pushed so far.
    n: u64,
    acc: [i32; 3],
    acc_min: u16,
    acc_max: u16,
    acc_energy: u32,
    acc_count: u32,
    baseline_q8: i32,
    baseline_shift: u8,
    ring: [Block; RING_BLOCKS],
    blocks_done: u64,
    candidate: Option<Candidate>,
    refractory_until: u64,
    last: Option<Judgement>,
}

fn ms_to_blocks(ms: u32) -> u64 {
    u64::from(ms.div_ceil(BLOCK_MS))
}

impl FallDetector {
    /// A detector for samples arriving at `odr_hz` (clamped to at least 10 Hz).
    pub fn new(cfg: &FallDetectorConfig, odr_hz: u32) -> Self {
        let odr_hz = odr_hz.max(10);
        let block_len = (odr_hz * BLOCK_MS / 1000).max(1);
        // Baseline time constant about 1.3 s: 2^shift ≈ 1.28 × odr.
        let mut baseline_shift = 0u8;
        while (1u32 << baseline_shift) < odr_hz * 128 / 100 && baseline_shift < 20 {
            baseline_shift += 1;
        }
        let p = Params {
            trigger_mg: cfg.trigger_mg,
            strong_impact_mg: cfg.strong_impact_mg,
            min_energy: cfg.min_energy_mg_s,
            energy_b: ms_to_blocks(cfg.energy_window_ms),
            pre_start_b: ms_to_blocks(cfg.pre_start_ms),
            pre_end_b: ms_to_blocks(cfg.pre_end_ms),
            settle_b: ms_to_blocks(cfg.settle_ms),
            still_b: ms_to_blocks(cfg.still_window_ms).max(1),
            still_max_mg: cfg.still_max_mg,
            min_tilt_deg: cfg.min_tilt_deg,
            upright_axis: usize::from(cfg.upright_axis.min(2)),
            upright_sign: if cfg.upright_sign < 0 { -1 } else { 1 },
            max_pre_tilt_deg: cfg.max_pre_tilt_deg,
            lying_min_deg: cfg.lying_min_deg,
            refractory_samples: u64::from(cfg.refractory_ms) * u64::from(odr_hz) / 1000,
        };
        Self {
            p,
            odr_hz,
            block_len,
            n: 0,
            acc: [0; 3],
            acc_min: u16::MAX,
            acc_max: 0,
            acc_energy: 0,
            acc_count: 0,
            baseline_q8: 1000 << 8,
            baseline_shift,
            ring: [Block::default(); RING_BLOCKS],
            blocks_done: 0,
            candidate: None,
            refractory_until: 0,
            last: None,
        }
    }

    /// Samples pushed so far.
    pub fn samples_seen(&self) -> u64 {
        self.n
    }

    /// Feeds one sample (milli-g); returns a fall when this sample completes
    /// the judgement of one.
    pub fn push(&mut self, mg: [i16; 3]) -> Option<FallInfo> {
        let idx = self.n;
        self.n += 1;
        let sq: u64 = mg
            .iter()
            .map(|&v| (i64::from(v) * i64::from(v)) as u64)
            .sum();
        let mag = isqrt(sq).min(u64::from(u16::MAX)) as u16;

        // Slow baseline of |a| (the sensor's 1 g), clamped input.
        let clamped = i32::from(mag.clamp(500, 1500));
        if idx == 0 {
            self.baseline_q8 = clamped << 8;
        } else {
            self.baseline_q8 += ((clamped << 8) - self.baseline_q8) >> self.baseline_shift;
        }
        let baseline = self.baseline_q8 >> 8;

        // Candidate handling.
        match &mut self.candidate {
            Some(c) => {
                if mag > c.peak_mg {
                    c.peak_mg = mag;
                    c.peak_sample = idx;
                }
            }
            None => {
                if idx >= self.refractory_until && mag >= self.p.trigger_mg {
                    self.candidate = Some(Candidate {
                        peak_mg: mag,
                        peak_sample: idx,
                    });
                }
            }
        }

        // Block accumulation.
        for (a, v) in self.acc.iter_mut().zip(mg) {
            *a += i32::from(v);
        }
        self.acc_min = self.acc_min.min(mag);
        self.acc_max = self.acc_max.max(mag);
        self.acc_energy = self
            .acc_energy
            .saturating_add((i32::from(mag) - baseline).unsigned_abs());
        self.acc_count += 1;
        if self.acc_count < self.block_len {
            return None;
        }
        let count = self.acc_count as i32;
        let block = Block {
            mean: [
                (self.acc[0] / count) as i16,
                (self.acc[1] / count) as i16,
                (self.acc[2] / count) as i16,
            ],
            range: self.acc_max - self.acc_min,
            energy: self.acc_energy,
        };
        self.ring[(self.blocks_done % RING_BLOCKS as u64) as usize] = block;
        self.blocks_done += 1;
        self.acc = [0; 3];
        self.acc_min = u16::MAX;
        self.acc_max = 0;
        self.acc_energy = 0;
        self.acc_count = 0;

        let c = self.candidate?;
        let pb = c.peak_sample / u64::from(self.block_len);
        let end_b = pb + self.p.settle_b.max(self.p.energy_b) + self.p.still_b;
        if self.blocks_done <= end_b {
            return None;
        }
        self.candidate = None;
        let info = self.judge(c, pb, idx)?;
        self.refractory_until = c.peak_sample + self.p.refractory_samples;
        Some(info)
    }

    /// Oldest block index still in the ring.
    fn oldest_block(&self) -> u64 {
        self.blocks_done.saturating_sub(RING_BLOCKS as u64)
    }

    fn mean_vector(&self, from: u64, to: u64) -> Option<[i64; 3]> {
        let from = from.max(self.oldest_block());
        let to = to.min(self.blocks_done);
        if from >= to {
            return None;
        }
        let mut s = [0i64; 3];
        for b in from..to {
            let blk = &self.ring[(b % RING_BLOCKS as u64) as usize];
            for (acc, v) in s.iter_mut().zip(blk.mean) {
                *acc += i64::from(v);
            }
        }
        let n = (to - from) as i64;
        Some([s[0] / n, s[1] / n, s[2] / n])
    }

    fn judge(&mut self, c: Candidate, pb: u64, idx: u64) -> Option<FallInfo> {
        let p = &self.p;
        // Violence.
        let e_from = pb.saturating_sub(p.energy_b).max(self.oldest_block());
        let e_to = (pb + p.energy_b + 1).min(self.blocks_done);
        let energy_sum: u64 = (e_from..e_to)
            .map(|b| u64::from(self.ring[(b % RING_BLOCKS as u64) as usize].energy))
            .sum();
        let energy = (energy_sum / u64::from(self.odr_hz)).min(u64::from(u32::MAX)) as u32;
        let violent = c.peak_mg >= p.strong_impact_mg || energy >= p.min_energy;
        // Stillness.
        let s_from = pb + p.settle_b;
        let s_to = s_from + p.still_b;
        let mut range_sum = 0u64;
        for b in s_from..s_to {
            range_sum += u64::from(self.ring[(b % RING_BLOCKS as u64) as usize].range);
        }
        let still_mg = (range_sum / p.still_b.max(1)).min(u64::from(u16::MAX)) as u16;
        let still = still_mg <= p.still_max_mg;
        // Orientation change, and posture before.
        let pre = self.mean_vector(
            pb.saturating_sub(p.pre_start_b),
            pb.saturating_sub(p.pre_end_b),
        );
        let post = self.mean_vector(s_from, s_to);
        let norm = |v: &[i64; 3]| isqrt(v.iter().map(|x| (x * x) as u64).sum()) as i64;
        let mut tilt_deg = None;
        let mut pre_tilt_deg = None;
        let mut post_tilt_deg = None;
        if let (Some(pre), Some(post)) = (pre, post) {
            let (np, nq) = (norm(&pre), norm(&post));
            if np > 0 && nq > 0 {
                let dot: i64 = pre.iter().zip(post.iter()).map(|(a, b)| a * b).sum();
                tilt_deg = Some(angle_deg(dot, np * nq));
                pre_tilt_deg = Some(angle_deg(pre[p.upright_axis] * p.upright_sign, np));
                post_tilt_deg = Some(angle_deg(post[p.upright_axis] * p.upright_sign, nq));
            }
        }
        let lying = p.lying_min_deg < 180 && post_tilt_deg.is_some_and(|t| t >= p.lying_min_deg);
        let tilted = lying || tilt_deg.is_some_and(|t| t >= p.min_tilt_deg);
        let upright_before =
            p.max_pre_tilt_deg >= 180 || pre_tilt_deg.is_some_and(|t| t <= p.max_pre_tilt_deg);
        let fall = violent && still && tilted && upright_before;
        self.last = Some(Judgement {
            peak_mg: c.peak_mg,
            peak_sample_index: c.peak_sample,
            energy_mg_s: energy,
            still_mg,
            tilt_deg,
            pre_tilt_deg,
            post_tilt_deg,
            fall,
        });
        fall.then(|| FallInfo {
            peak_mg: c.peak_mg,
            peak_sample_index: c.peak_sample,
            sample_index: idx,
            delay_samples: (idx - c.peak_sample).min(u64::from(u32::MAX)) as u32,
            tilt_deg: tilt_deg.unwrap_or(0),
            energy_mg_s: energy,
        })
    }

    /// The features and verdict of the last candidate event judged (for
    /// developers tracing what the detector saw).
    pub fn last_judgement(&self) -> Option<&Judgement> {
        self.last.as_ref()
    }
}

/// Angle in whole degrees whose cosine is `num / den` (`den > 0`): the smallest
/// degree whose tabulated cosine is not above the ratio.
fn angle_deg(num: i64, den: i64) -> u8 {
    for d in 0..=180u8 {
        if num * 1000 >= cos_permille(d) * den {
            return d;
        }
    }
    180
}

/// What the detector measured on one candidate event, and its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// Peak `|a|`, in mg.
    pub peak_mg: u16,
    /// Sample index of the peak.
    pub peak_sample_index: u64,
    /// Energy around the peak, in mg·s.
    pub energy_mg_s: u32,
    /// Mean block range of `|a|` in the stillness window, in mg.
    pub still_mg: u16,
    /// Orientation change between before and after, in degrees (if measurable).
    pub tilt_deg: Option<u8>,
    /// Angle between the posture before and the upright axis, in degrees.
    pub pre_tilt_deg: Option<u8>,
    /// Angle between the posture after and the upright axis, in degrees.
    pub post_tilt_deg: Option<u8>,
    /// Whether it was judged a fall.
    pub fall: bool,
}

#[cfg(test)]
mod isqrt_tests {
    use super::isqrt;

    #[test]
    fn isqrt_is_the_floor_root() {
        for v in (0..200_000u64).chain([u64::MAX, u64::MAX - 1, 1 << 62, (1 << 32) - 1, 1 << 32]) {
            let r = isqrt(v);
            assert!(r.checked_mul(r).is_some_and(|sq| sq <= v), "{v}");
            assert!((r + 1).checked_mul(r + 1).is_none_or(|sq| sq > v), "{v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: u32 = 50;

    fn feed(d: &mut FallDetector, s: [i16; 3], n: usize, out: &mut Vec<FallInfo>) {
        for _ in 0..n {
            out.extend(d.push(s));
        }
    }

    /// Standing 3 s, 0.4 s free fall, 3 samples of impact, lying 6 s.
    fn synthetic_fall(d: &mut FallDetector) -> Vec<FallInfo> {
        let mut out = Vec::new();
        feed(d, [0, -1000, 0], 150, &mut out);
        feed(d, [0, -200, 0], 20, &mut out);
        feed(d, [2000, -4000, 1500], 3, &mut out);
        feed(d, [300, -500, 800], 10, &mut out);
        feed(d, [0, 0, 1000], 300, &mut out);
        out
    }

    #[test]
    fn state_is_small() {
        let size = std::mem::size_of::<FallDetector>();
        assert!(size <= 2048, "{size} bytes");
    }

    #[test]
    fn isqrt_and_cos() {
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(2), 1);
        assert_eq!(isqrt(3), 1);
        assert_eq!(isqrt(15), 3);
        assert_eq!(isqrt(16), 4);
        assert_eq!(isqrt(u64::MAX), 4_294_967_295);
        assert_eq!(cos_permille(180), -1000);
        assert_eq!(cos_permille(120), -500);
    }

    #[test]
    fn default_config_validates() {
        assert_eq!(FallDetectorConfig::default().validate(), Ok(()));
        let bad = FallDetectorConfig {
            settle_ms: 7000,
            ..FallDetectorConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn detects_synthetic_fall_once() {
        let mut d = FallDetector::new(&FallDetectorConfig::default(), HZ);
        let falls = synthetic_fall(&mut d);
        assert_eq!(falls.len(), 1, "{falls:?}");
        let f = falls[0];
        assert!(f.peak_mg >= 4000);
        assert_eq!(f.peak_sample_index, 170);
        assert!(f.tilt_deg >= 80, "{f:?}");
        assert!(f.delay_samples <= 4 * HZ);
    }

    #[test]
    fn standing_still_and_jumps_are_not_falls() {
        let mut d = FallDetector::new(&FallDetectorConfig::default(), HZ);
        let mut out = Vec::new();
        for _ in 0..10 {
            feed(&mut d, [0, -1000, 0], 100, &mut out);
            feed(&mut d, [0, -100, 0], 10, &mut out);
            feed(&mut d, [0, -4000, 0], 2, &mut out);
        }
        feed(&mut d, [0, -1000, 0], 400, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn refractory_period_suppresses_repeats() {
        let cfg = FallDetectorConfig::default();
        let mut d = FallDetector::new(&cfg, HZ);
        let mut out = synthetic_fall(&mut d);
        // A second violent event while lying, within 10 s of the peak.
        feed(&mut d, [0, -200, 0], 20, &mut out);
        feed(&mut d, [0, -5000, 0], 3, &mut out);
        feed(&mut d, [1000, 0, 0], 300, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn upright_check_rejects_events_starting_lying() {
        let cfg = FallDetectorConfig {
            max_pre_tilt_deg: 45,
            ..FallDetectorConfig::default()
        };
        let mut d = FallDetector::new(&cfg, HZ);
        let mut out = Vec::new();
        feed(&mut d, [1000, 0, 0], 150, &mut out);
        feed(&mut d, [0, -200, 0], 20, &mut out);
        feed(&mut d, [2000, -4000, 1500], 3, &mut out);
        feed(&mut d, [0, 0, 1000], 300, &mut out);
        assert!(out.is_empty());
        let mut d = FallDetector::new(&cfg, HZ);
        assert_eq!(synthetic_fall(&mut d).len(), 1);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let mut d = FallDetector::new(&FallDetectorConfig::default(), 400);
        let mut x: u32 = 12345;
        for _ in 0..100_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let v = (x >> 8) as i16;
            let _ = d.push([v, v.wrapping_mul(3), i16::MIN]);
        }
    }
}
