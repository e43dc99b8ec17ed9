//! Fall detector, written as the button's firmware would run it.
//!
//! Integer (fixed-point) arithmetic only, bounded state (about 1.5 KiB, checked by
//! a unit test: at most 2 KiB), no clock, no RNG, no I/O. It is fed one accelerometer sample
//! (`[i16; 3]` milli-g) per output-data-rate period through
//! [`FallDetector::push`].
//!
//! # Algorithm
//!
//! Samples are summarised into 100 ms *blocks* kept in a ring of 8 s: per block,
//! the mean acceleration vector (the gravity direction when the wearer is still),
//! the range (max − min) and the minimum of the magnitude `|a|`, and the
//! *energy* `Σ | |a| − baseline |` (`baseline`: a slow low-pass of `|a|` clamped
//! to 0.5–1.5 g, the sensor's reading of 1 g).
//!
//! **Upright axis, learned.** The first second's mean vector is the first
//! estimate of the wearer's upright gravity direction (the button is put on
//! standing); afterwards every walking-like block (range of `|a|` within
//! `learn_min_mg..=learn_max_mg`, no candidate open) moves a running mean
//! (2^6 blocks) toward its mean vector. The button may be clipped rotated or
//! upside down: nothing assumes an axis (`upright_axis`/`upright_sign` only seed
//! the estimate before the first block).
//!
//! **Saturation.** A sample with an axis at full scale (±7.99 g) opens a
//! candidate and makes it violent whatever `|a|` reads (`|a|` is then a lower bound).
//!
//! 1. **Trigger**: `|a| ≥ trigger_mg` (or a saturated axis) opens a candidate;
//!    while it is pending, a larger `|a|` moves the peak there.
//! 2. The candidate is judged once `late_ms + still_window_ms` have passed after
//!    its peak, by stages in order; the first that fails rejects it
//!    ([`Stage`], reported in the [`Judgement`]):
//!    - **violence**: peak ≥ `strong_impact_mg`, or energy over
//!      ±`energy_window_ms` ≥ `min_energy_mg_s`, or saturated;
//!    - **off body**: both posture windows dead still (≤ `off_body_mg`: no
//!      breathing, no sway) after a handled button (the posture before ≥ 60°
//!      from upright and moving ≥ `off_body_pre_mg`): it was taken off and put
//!      down;
//!    - **posture**: the orientation changed by ≥ `min_tilt_deg` between before
//!      (`[peak − pre_start_ms, peak − pre_end_ms]`) and the early
//!      (`settle_ms`) or the late (`late_ms`) window, or the early posture is
//!      ≥ `lying_min_deg` from upright (lying), or a strong impact
//!      (≥ `slide_impact_mg`) ended quiet (≤ `slide_still_mg`) with at least
//!      `slide_tilt_deg` of change (sliding down a wall to sitting);
//!    - **stillness**: the early or the late window is quiet (mean block range
//!      ≤ `still_max_mg`): lying, or getting up slowly — a fall the wearer gets
//!      up from is still a fall (the countdown lets them cancel);
//!    - **upright before** (off by default, `max_pre_tilt_deg` = 180).
//! 3. After a fall is reported, no new candidate opens for `refractory_ms` after
//!    its peak: one event is reported once.
//!
//! [`FallDetector::push_probed`] returns, per sample, the signals of every
//! stage ([`Probe`]) for explaining a replay; [`FallDetector::push`] compiles
//! them away. Angles are compared through a cosine table in permille (dot
//! products in `i64`, a binary search over the table), magnitudes through an
//! integer square root.

use crate::ConfigError;

/// Duration of one summary block in ms.
pub const BLOCK_MS: u32 = 100;
/// Number of blocks kept (8 s of history).
pub const RING_BLOCKS: usize = 80;
/// An axis reading at or beyond ±this (mg) counts as saturated: the full scale of
/// a ±8 g sensor (a ±16 g sensor clipping reads beyond it too).
pub const SATURATION_MG: i16 = 7_990;

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
    let (i, sign) = if d <= 90 { (d, 1) } else { (180 - d, -1) };
    sign * i64::from(COS_PERMILLE.get(i).copied().unwrap_or(0))
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
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
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
    /// Delay after the peak before the early posture window starts, in ms.
    pub settle_ms: u32,
    /// Length of the early and the late posture windows, in ms.
    pub still_window_ms: u32,
    /// Start of the late posture window, in ms after the peak.
    pub late_ms: u32,
    /// Largest mean block range of `|a|` that counts as quiet (lying, or
    /// getting up slowly), in mg: the early or the late window must be quiet.
    pub still_max_mg: u16,
    /// Smallest orientation change between before and after, in degrees.
    pub min_tilt_deg: u8,
    /// Device axis along the trunk assumed until the wearer has walked
    /// (0 = x, 1 = y, 2 = z).
    pub upright_axis: u8,
    /// Sign of that axis's reading standing (-1 or 1): the SisFall waist sensor
    /// and the default button read `y ≈ −1 g` standing.
    pub upright_sign: i8,
    /// Smallest block range of `|a|` (mg) of a block that teaches the upright
    /// axis: the gravity direction while walking is the wearer's upright.
    pub learn_min_mg: u16,
    /// Largest block range of `|a|` (mg) of a block that teaches the upright axis.
    pub learn_max_mg: u16,
    /// Largest angle between the pre-event gravity vector and the learned upright
    /// axis, in degrees; 180 disables the check.
    pub max_pre_tilt_deg: u8,
    /// Angle between the early posture after and the learned upright axis from
    /// which the wearer counts as lying (also an orientation change); 180
    /// disables this.
    pub lying_min_deg: u8,
    /// Smallest orientation change that still counts after a strong impact
    /// (`slide_impact_mg`) ending quiet (`slide_still_mg`): sliding down a wall
    /// to sitting, a fall onto the side that ends half upright; in degrees.
    pub slide_tilt_deg: u8,
    /// Peak `|a|` from which `slide_tilt_deg` applies, in mg.
    pub slide_impact_mg: u16,
    /// Largest mean block range (mg) of the quieter posture window for `slide_tilt_deg`.
    pub slide_still_mg: u16,
    /// Mean block range (mg) in both posture windows at or below which the
    /// button lies dead still; with a handled button before (posture away from
    /// upright, moving: `off_body_pre_mg`), it was put down, off the body: not a
    /// fall. 0 disables the check.
    pub off_body_mg: u16,
    /// Smallest mean block range (mg) before the event of a button being
    /// handled (a wearer lying in bed lies quieter).
    pub off_body_pre_mg: u16,
    /// Or smallest turn (degrees) of the button in the hand before the event: the
    /// largest angle between a 100 ms block's mean in `[peak − 2.5 s, peak − 0.5 s)`
    /// and the posture before. A hand turns a button without moving `|a|` much; a
    /// wearer lying in bed does not turn 25° in two seconds and then lie dead still.
    /// 0 disables this way of being handled.
    pub off_body_turn_deg: u8,
    /// Time after a reported fall's peak during which no new event opens, in ms.
    pub refractory_ms: u32,
}

/// The handling window of `off_body_turn_deg`: blocks `[peak − 25, peak − 5)` (100 ms
/// blocks: 2.5 s to 0.5 s before the peak).
const HANDLING_FROM_B: u64 = 25;
const HANDLING_TO_B: u64 = 5;

impl Default for FallDetectorConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FallDetectorConfig {
    /// The product's thresholds (tuned on the public datasets, `docs/falls.md`).
    pub const DEFAULT: FallDetectorConfig = FallDetectorConfig {
        trigger_mg: 1800,
        strong_impact_mg: 3000,
        min_energy_mg_s: 300,
        energy_window_ms: 1000,
        pre_start_ms: 2000,
        pre_end_ms: 1000,
        settle_ms: 1000,
        still_window_ms: 1500,
        late_ms: 3500,
        still_max_mg: 250,
        min_tilt_deg: 50,
        upright_axis: 1,
        upright_sign: -1,
        learn_min_mg: 150,
        learn_max_mg: 1500,
        max_pre_tilt_deg: 180,
        lying_min_deg: 60,
        slide_tilt_deg: 30,
        slide_impact_mg: 3500,
        slide_still_mg: 30,
        off_body_mg: 8,
        off_body_pre_mg: 50,
        off_body_turn_deg: 25,
        refractory_ms: 10_000,
    };

    /// Checks that the thresholds are consistent and the windows fit the ring.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.trigger_mg < 1000 {
            return Err(ConfigError::FallTrigger(self.trigger_mg));
        }
        if self.strong_impact_mg < self.trigger_mg {
            return Err(ConfigError::FallStrongImpact);
        }
        if self.pre_end_ms >= self.pre_start_ms {
            return Err(ConfigError::FallPreWindow);
        }
        if self.still_window_ms < BLOCK_MS {
            return Err(ConfigError::FallStillWindow);
        }
        if self.learn_min_mg > self.learn_max_mg {
            return Err(ConfigError::FallLearnRange);
        }
        let after = self
            .settle_ms
            .max(self.late_ms)
            .max(self.energy_window_ms.saturating_sub(self.still_window_ms))
            + self.still_window_ms;
        let span = self.pre_start_ms.max(self.energy_window_ms) + after;
        let max = (RING_BLOCKS as u32 - 2) * BLOCK_MS;
        if span > max {
            return Err(ConfigError::FallSpan { span, max });
        }
        if self.min_tilt_deg > 180 || self.max_pre_tilt_deg > 180 || self.lying_min_deg > 180 {
            return Err(ConfigError::FallAngles);
        }
        if self.upright_axis > 2 {
            return Err(ConfigError::FallUprightAxis);
        }
        if self.upright_sign != 1 && self.upright_sign != -1 {
            return Err(ConfigError::FallUprightSign);
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

/// What [`FallDetector::block`] gives for a slot outside the ring (never happens: the
/// index is taken modulo its length).
const EMPTY_BLOCK: Block = Block {
    mean: [0; 3],
    range: 0,
    min: 0,
    energy: 0,
};

#[derive(Clone, Copy, Debug, Default)]
struct Block {
    mean: [i16; 3],
    range: u16,
    min: u16,
    energy: u32,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    peak_mg: u16,
    peak_sample: u64,
    saturated: bool,
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
    late_b: u64,
    still_max_mg: u16,
    min_tilt_deg: u8,
    learn_min_mg: u16,
    learn_max_mg: u16,
    max_pre_tilt_deg: u8,
    lying_min_deg: u8,
    slide_tilt_deg: u8,
    slide_impact_mg: u16,
    slide_still_mg: u16,
    off_body_mg: u16,
    off_body_pre_mg: u16,
    off_body_turn_deg: u8,
    refractory_samples: u64,
    /// Sample value at or beyond which an axis counts as saturated (mg).
    saturation_mg: i16,
}

/// Shift of the learned upright axis's running mean (2^6 walking blocks ≈ 6.4 s).
const UP_SHIFT: u32 = 6;
/// Blocks at the start whose mean is the first estimate of the upright axis.
const INIT_BLOCKS: u64 = 10;

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
    /// Learned upright gravity direction (mg, ×2^UP_SHIFT running mean).
    up_q: [i32; 3],
    ring: [Block; RING_BLOCKS],
    blocks_done: u64,
    candidate: Option<Candidate>,
    refractory_until: u64,
    last: Option<Judgement>,
}

fn ms_to_blocks(ms: u32) -> u64 {
    u64::from(ms.div_ceil(BLOCK_MS))
}

/// What the detector computed for one sample (see [`FallDetector::push_probed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Probe {
    /// `|a|` of the sample after the front end, in mg.
    pub mag_mg: u16,
    /// Whether an axis of the sample is at the sensor's full scale.
    pub saturated: bool,
    /// The slow baseline of `|a|` (the sensor's 1 g), in mg.
    pub baseline_mg: u16,
    /// Whether a candidate event is open (waiting for its judgement).
    pub candidate_open: bool,
    /// When this sample closed a 100 ms block: its summary.
    pub block: Option<BlockProbe>,
    /// When this sample completed the judgement of a candidate: the judgement.
    pub judgement: Option<Judgement>,
}

/// Summary of one 100 ms block, as the detector keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BlockProbe {
    /// Range (max − min) of `|a|` in the block, in mg: stillness.
    pub range_mg: u16,
    /// Smallest `|a|` in the block, in mg: free fall.
    pub min_mg: u16,
    /// Σ |`|a|` − baseline| over the block, in mg·s.
    pub energy_mg_s: u32,
    /// Angle between the block's mean gravity vector and the learned upright axis.
    pub tilt_from_upright_deg: u8,
    /// Whether the block taught the upright axis (walking-like motion).
    pub learned: bool,
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
            late_b: ms_to_blocks(cfg.late_ms),
            still_max_mg: cfg.still_max_mg,
            min_tilt_deg: cfg.min_tilt_deg,
            learn_min_mg: cfg.learn_min_mg,
            learn_max_mg: cfg.learn_max_mg,
            max_pre_tilt_deg: cfg.max_pre_tilt_deg,
            lying_min_deg: cfg.lying_min_deg,
            slide_tilt_deg: cfg.slide_tilt_deg,
            slide_impact_mg: cfg.slide_impact_mg,
            slide_still_mg: cfg.slide_still_mg,
            off_body_mg: cfg.off_body_mg,
            off_body_pre_mg: cfg.off_body_pre_mg,
            off_body_turn_deg: cfg.off_body_turn_deg,
            refractory_samples: u64::from(cfg.refractory_ms) * u64::from(odr_hz) / 1000,
            saturation_mg: SATURATION_MG,
        };
        let mut up_q = [0i32; 3];
        let sign = if cfg.upright_sign < 0 { -1000 } else { 1000 };
        if let Some(axis) = up_q.get_mut(usize::from(cfg.upright_axis.min(2))) {
            *axis = sign << UP_SHIFT;
        }
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
            up_q,
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

    /// The learned upright gravity direction (mg, not normalised).
    pub fn upright(&self) -> [i32; 3] {
        self.up_q.map(|v| v >> UP_SHIFT)
    }

    /// Feeds one sample (milli-g); returns a fall when this sample completes
    /// the judgement of one.
    pub fn push(&mut self, mg: [i16; 3]) -> Option<FallInfo> {
        self.step::<false>(mg).0
    }

    /// As [`push`](Self::push), also returning what the detector computed for
    /// this sample (its signals, for explaining a replay). Costs nothing when
    /// unused: `push` compiles the probe away.
    pub fn push_probed(&mut self, mg: [i16; 3]) -> (Option<FallInfo>, Probe) {
        let (fall, probe) = self.step::<true>(mg);
        let probe = probe.unwrap_or(Probe {
            mag_mg: 0,
            saturated: false,
            baseline_mg: 0,
            candidate_open: false,
            block: None,
            judgement: None,
        });
        (fall, probe)
    }

    fn step<const PROBE: bool>(&mut self, mg: [i16; 3]) -> (Option<FallInfo>, Option<Probe>) {
        let idx = self.n;
        self.n += 1;
        let sq: u64 = mg
            .iter()
            .map(|&v| (i64::from(v) * i64::from(v)) as u64)
            .sum();
        let mag = isqrt(sq).min(u64::from(u16::MAX)) as u16;
        let sat = self.p.saturation_mg;
        let saturated = mg.iter().any(|&v| v >= sat || v <= -sat);
        let baseline = self.update_baseline(idx, mag);
        self.update_candidate(idx, mag, saturated);
        let closed = self.accumulate(mg, mag, baseline);
        let mut probe = PROBE.then(|| Probe {
            mag_mg: mag,
            saturated,
            baseline_mg: baseline.clamp(0, i32::from(u16::MAX)) as u16,
            candidate_open: self.candidate.is_some(),
            block: None,
            judgement: None,
        });
        let Some(learned) = closed else {
            return (None, probe);
        };
        if let Some(pr) = probe.as_mut() {
            pr.block = Some(self.block_probe(learned));
        }
        let fall = self.maybe_judge(idx);
        if let Some(pr) = probe.as_mut() {
            if fall.is_some() || self.judged_at(idx) {
                pr.judgement = self.last;
            }
        }
        (fall, probe)
    }

    fn judged_at(&self, idx: u64) -> bool {
        self.last.is_some_and(|j| j.sample_index == idx)
    }

    /// Slow baseline of |a| (the sensor's 1 g), clamped input.
    fn update_baseline(&mut self, idx: u64, mag: u16) -> i32 {
        let clamped = i32::from(mag.clamp(500, 1500));
        if idx == 0 {
            self.baseline_q8 = clamped << 8;
        } else {
            self.baseline_q8 += ((clamped << 8) - self.baseline_q8) >> self.baseline_shift;
        }
        self.baseline_q8 >> 8
    }

    fn update_candidate(&mut self, idx: u64, mag: u16, saturated: bool) {
        match &mut self.candidate {
            Some(c) => {
                if mag > c.peak_mg {
                    c.peak_mg = mag;
                    c.peak_sample = idx;
                }
                c.saturated |= saturated;
            }
            None => {
                if idx >= self.refractory_until && (mag >= self.p.trigger_mg || saturated) {
                    self.candidate = Some(Candidate {
                        peak_mg: mag,
                        peak_sample: idx,
                        saturated,
                    });
                }
            }
        }
    }

    /// Adds a sample to the current block; when the block is complete, stores
    /// it and returns whether it taught the upright axis.
    fn accumulate(&mut self, mg: [i16; 3], mag: u16, baseline: i32) -> Option<bool> {
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
            mean: self.acc.map(|a| (a / count) as i16),
            range: self.acc_max - self.acc_min,
            min: self.acc_min,
            energy: self.acc_energy,
        };
        if let Some(slot) = self
            .ring
            .get_mut((self.blocks_done % RING_BLOCKS as u64) as usize)
        {
            *slot = block;
        }
        self.blocks_done += 1;
        self.acc = [0; 3];
        self.acc_min = u16::MAX;
        self.acc_max = 0;
        self.acc_energy = 0;
        self.acc_count = 0;
        // The first second teaches the upright axis outright (the wearer puts
        // the button on standing); then walking-like blocks refine it.
        if self.blocks_done <= INIT_BLOCKS {
            let k = self.blocks_done as i32;
            for (u, m) in self.up_q.iter_mut().zip(block.mean) {
                let target = i32::from(m) << UP_SHIFT;
                *u += (target - *u) / k;
            }
            return Some(true);
        }
        let learn = self.candidate.is_none()
            && (self.p.learn_min_mg..=self.p.learn_max_mg).contains(&block.range);
        if learn {
            for (u, m) in self.up_q.iter_mut().zip(block.mean) {
                *u += i32::from(m) - (*u >> UP_SHIFT);
            }
        }
        Some(learn)
    }

    fn block_probe(&self, learned: bool) -> BlockProbe {
        let b = *self.block(self.blocks_done.saturating_sub(1));
        let mean = b.mean.map(i64::from);
        BlockProbe {
            range_mg: b.range,
            min_mg: b.min,
            energy_mg_s: b.energy / self.odr_hz,
            tilt_from_upright_deg: self.angle_to_upright(&mean).unwrap_or(0),
            learned,
        }
    }

    fn angle_to_upright(&self, v: &[i64; 3]) -> Option<u8> {
        let up = self.upright().map(i64::from);
        angle_between(v, &up)
    }

    fn maybe_judge(&mut self, idx: u64) -> Option<FallInfo> {
        let c = self.candidate?;
        let pb = c.peak_sample / u64::from(self.block_len);
        let after = self
            .p
            .settle_b
            .max(self.p.late_b)
            .max(self.p.energy_b.saturating_sub(self.p.still_b));
        if self.blocks_done <= pb + after + self.p.still_b {
            return None;
        }
        self.candidate = None;
        let info = self.judge(c, pb, idx)?;
        self.refractory_until = c.peak_sample + self.p.refractory_samples;
        Some(info)
    }

    fn block(&self, b: u64) -> &Block {
        self.ring
            .get((b % RING_BLOCKS as u64) as usize)
            .unwrap_or(&EMPTY_BLOCK)
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
            for (acc, v) in s.iter_mut().zip(self.block(b).mean) {
                *acc += i64::from(v);
            }
        }
        let n = (to - from) as i64;
        Some(s.map(|v| v / n))
    }

    /// Mean block range of `|a|` over blocks `from..to`, in mg.
    fn mean_range(&self, from: u64, to: u64) -> u16 {
        let from = from.max(self.oldest_block());
        let to = to.min(self.blocks_done);
        if from >= to {
            return u16::MAX;
        }
        let sum: u64 = (from..to).map(|b| u64::from(self.block(b).range)).sum();
        (sum / (to - from)).min(u64::from(u16::MAX)) as u16
    }

    /// The largest angle between `reference` and the mean of a block in `from..to`.
    fn largest_turn(&self, reference: &[i64; 3], from: u64, to: u64) -> Option<u8> {
        let from = from.max(self.oldest_block());
        let to = to.min(self.blocks_done);
        (from..to)
            .filter_map(|b| {
                let m = self.block(b).mean.map(i64::from);
                angle_between(reference, &m)
            })
            .max()
    }

    /// Measures the candidate's features.
    fn features(&self, c: Candidate, pb: u64) -> Features {
        let p = &self.p;
        let e_from = pb.saturating_sub(p.energy_b).max(self.oldest_block());
        let e_to = (pb + p.energy_b + 1).min(self.blocks_done);
        let energy_sum: u64 = (e_from..e_to)
            .map(|b| u64::from(self.block(b).energy))
            .sum();
        let energy = (energy_sum / u64::from(self.odr_hz)).min(u64::from(u32::MAX)) as u32;
        let ff_from = pb
            .saturating_sub(ms_to_blocks(1000))
            .max(self.oldest_block());
        let free_fall_mg = (ff_from..=pb)
            .map(|b| self.block(b).min)
            .min()
            .unwrap_or(1000);
        let pre_w = (
            pb.saturating_sub(p.pre_start_b),
            pb.saturating_sub(p.pre_end_b),
        );
        let pre = self.mean_vector(pre_w.0, pre_w.1);
        let early = (pb + p.settle_b, pb + p.settle_b + p.still_b);
        let late = (pb + p.late_b, pb + p.late_b + p.still_b);
        let post = self.mean_vector(early.0, early.1);
        let post_late = self.mean_vector(late.0, late.1);
        let tilt = |a: &Option<[i64; 3]>, b: &Option<[i64; 3]>| match (a, b) {
            (Some(a), Some(b)) => angle_between(a, b),
            _ => None,
        };
        Features {
            peak_mg: c.peak_mg,
            saturated: c.saturated,
            energy_mg_s: energy,
            free_fall_mg,
            tilt_deg: tilt(&pre, &post),
            late_tilt_deg: tilt(&pre, &post_late),
            pre_tilt_deg: pre.as_ref().and_then(|v| self.angle_to_upright(v)),
            post_tilt_deg: post.as_ref().and_then(|v| self.angle_to_upright(v)),
            pre_motion_mg: self.mean_range(pre_w.0, pre_w.1),
            pre_turn_deg: pre.as_ref().and_then(|v| {
                self.largest_turn(
                    v,
                    pb.saturating_sub(HANDLING_FROM_B),
                    pb.saturating_sub(HANDLING_TO_B),
                )
            }),
            still_mg: self.mean_range(early.0, early.1),
            late_still_mg: self.mean_range(late.0, late.1),
        }
    }

    fn judge(&mut self, c: Candidate, pb: u64, idx: u64) -> Option<FallInfo> {
        let f = self.features(c, pb);
        let stage = self.decide(&f);
        let fall = stage == Stage::Accepted;
        self.last = Some(Judgement {
            peak_sample_index: c.peak_sample,
            sample_index: idx,
            features: f,
            stage,
            fall,
        });
        fall.then(|| FallInfo {
            peak_mg: c.peak_mg,
            peak_sample_index: c.peak_sample,
            sample_index: idx,
            delay_samples: (idx - c.peak_sample).min(u64::from(u32::MAX)) as u32,
            tilt_deg: f.tilt_deg.unwrap_or(0),
            energy_mg_s: f.energy_mg_s,
        })
    }

    /// The stages, in order; the first that fails rejects the candidate.
    fn decide(&self, f: &Features) -> Stage {
        let p = &self.p;
        let violent =
            f.saturated || f.peak_mg >= p.strong_impact_mg || f.energy_mg_s >= p.min_energy;
        if !violent {
            return Stage::Violence;
        }
        let dead_still = f.still_mg <= p.off_body_mg && f.late_still_mg <= p.off_body_mg;
        let turned =
            p.off_body_turn_deg > 0 && f.pre_turn_deg.is_some_and(|t| t >= p.off_body_turn_deg);
        let handled = f.pre_tilt_deg.is_none_or(|t| t >= 60)
            && (f.pre_motion_mg >= p.off_body_pre_mg || turned);
        if p.off_body_mg > 0 && dead_still && handled {
            return Stage::OffBody;
        }
        let lying = p.lying_min_deg < 180 && f.post_tilt_deg.is_some_and(|t| t >= p.lying_min_deg);
        let tilt = f.tilt_deg.max(f.late_tilt_deg).unwrap_or(0);
        let quietest = f.still_mg.min(f.late_still_mg);
        let slid = tilt >= p.slide_tilt_deg
            && f.peak_mg >= p.slide_impact_mg
            && quietest <= p.slide_still_mg;
        if !(lying || tilt >= p.min_tilt_deg || slid) {
            return Stage::Posture;
        }
        if f.still_mg > p.still_max_mg && f.late_still_mg > p.still_max_mg {
            return Stage::Stillness;
        }
        let upright_before =
            p.max_pre_tilt_deg >= 180 || f.pre_tilt_deg.is_some_and(|t| t <= p.max_pre_tilt_deg);
        if !upright_before {
            return Stage::UprightBefore;
        }
        Stage::Accepted
    }

    /// The judgement of the last candidate event (for developers tracing what
    /// the detector saw).
    pub fn last_judgement(&self) -> Option<&Judgement> {
        self.last.as_ref()
    }
}

/// Angle in whole degrees between two vectors (`None` when one is zero).
fn angle_between(a: &[i64; 3], b: &[i64; 3]) -> Option<u8> {
    let norm = |v: &[i64; 3]| isqrt(v.iter().map(|x| (x * x) as u64).sum()) as i64;
    let (na, nb) = (norm(a), norm(b));
    if na == 0 || nb == 0 {
        return None;
    }
    let dot: i64 = a.iter().zip(b.iter()).map(|(x, y)| x * y).sum();
    Some(angle_deg(dot, na * nb))
}

/// Angle in whole degrees whose cosine is `num / den` (`den > 0`): the smallest
/// degree whose tabulated cosine is not above the ratio (binary search).
fn angle_deg(num: i64, den: i64) -> u8 {
    let (mut lo, mut hi) = (0u8, 180u8);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if num * 1000 >= cos_permille(mid) * den {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The stage that decided a candidate: the first that rejected it, or
/// [`Stage::Accepted`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum Stage {
    /// Neither a strong enough peak nor enough energy around it (a jump, a
    /// stamp, sitting down).
    Violence,
    /// The button lay dead still afterwards: off the body, put down.
    OffBody,
    /// No orientation change and not lying afterwards.
    Posture,
    /// Neither posture window was quiet: the wearer went on moving.
    Stillness,
    /// The posture before was far from the learned upright axis.
    UprightBefore,
    /// Every stage passed: a fall.
    Accepted,
}

impl Stage {
    /// A short lower-case name (`violence`, `off_body`, …, `accepted`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Violence => "violence",
            Stage::OffBody => "off_body",
            Stage::Posture => "posture",
            Stage::Stillness => "stillness",
            Stage::UprightBefore => "upright_before",
            Stage::Accepted => "accepted",
        }
    }
}

/// What the detector measured around one candidate event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Features {
    /// Peak `|a|`, in mg.
    pub peak_mg: u16,
    /// Whether an axis hit full scale during the event.
    pub saturated: bool,
    /// Energy around the peak, in mg·s.
    pub energy_mg_s: u32,
    /// Smallest `|a|` in the second before the peak, in mg (free fall).
    pub free_fall_mg: u16,
    /// Orientation change between before and the early window, in degrees.
    pub tilt_deg: Option<u8>,
    /// Orientation change between before and the late window, in degrees.
    pub late_tilt_deg: Option<u8>,
    /// Angle between the posture before and the learned upright axis.
    pub pre_tilt_deg: Option<u8>,
    /// Angle between the early posture after and the learned upright axis.
    pub post_tilt_deg: Option<u8>,
    /// Mean block range of `|a|` in the pre-event posture window, in mg.
    pub pre_motion_mg: u16,
    /// The largest turn of the button in the two seconds before the peak (see
    /// `off_body_turn_deg`), in degrees.
    pub pre_turn_deg: Option<u8>,
    /// Mean block range of `|a|` in the early window, in mg.
    pub still_mg: u16,
    /// Mean block range of `|a|` in the late window, in mg.
    pub late_still_mg: u16,
}

/// What the detector measured on one candidate event, and its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Judgement {
    /// Sample index of the peak.
    pub peak_sample_index: u64,
    /// Sample index at which it was judged.
    pub sample_index: u64,
    /// The measurements.
    pub features: Features,
    /// The stage that decided.
    pub stage: Stage,
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
    use std::vec::Vec;

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
        assert!(f.delay_samples <= 6 * HZ);
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
        feed(&mut d, [0, -1000, 0], 50, &mut out);
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
