//! The fall detector explained: what it saw and why it decided, for `sim replay --json`
//! and the HTML replay report.
//!
//! When asked ([`Simulation::explain_falls`](crate::simulation::Simulation::explain_falls)),
//! the replay feeds every accelerometer sample the button reads to a second detector
//! with the button's profile through [`FallDetector::push_probed`], and keeps its
//! per-sample signals (magnitude after the front end, baseline, saturation, candidate
//! open), its 100 ms block summaries (stillness = range of `|a|`, free fall = minimum,
//! energy, tilt from the learned upright), the raw magnitude of the trace's own samples,
//! and every candidate's [`Judgement`]. Nothing of this runs when not asked: the replay
//! checks one `Option` per sample. The second detector is the button's own algorithm on
//! the same samples from the same start, so it decides as the button's does (as long as
//! the button is not reset during the replay).
//!
//! [`DetectorLog::explain`] turns the log into a typed, serialisable [`Explanation`]:
//! the thresholds, every candidate with the stage that accepted or rejected it and its
//! measurements, why no fall was raised ([`WhyNoFall`]), and the signals, decimated to at
//! most [`MAX_POINTS`] points each (a point of a decimated signal keeps the extremes of
//! the samples it stands for).

use device_model::fall::{
    FallDetector, FallDetectorConfig, Features, Stage, BLOCK_MS, SATURATION_MG,
};
use serde::Serialize;

use crate::sched::{Micros, MILLI};

/// Most points of each signal in an [`Explanation`]; longer signals are decimated.
pub const MAX_POINTS: usize = 4_000;

/// One detector sample as logged.
#[derive(Clone, Copy, Debug)]
struct SampleRec {
    t: Micros,
    mag: u16,
    baseline: u16,
    saturated: bool,
    open: bool,
}

/// One block summary as logged.
#[derive(Clone, Copy, Debug)]
struct BlockRec {
    t: Micros,
    range: u16,
    min: u16,
    energy: u32,
    tilt: u8,
    learned: bool,
}

/// The detector's log during a replay (see the module documentation).
#[derive(Clone, Debug)]
pub struct DetectorLog {
    det: Box<FallDetector>,
    config: FallDetectorConfig,
    odr_hz: u32,
    samples: Vec<SampleRec>,
    blocks: Vec<BlockRec>,
    raw: Vec<(Micros, u16)>,
    candidates: Vec<CandidateExplained>,
    open_since: Option<Micros>,
}

/// A candidate event and the stage that decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CandidateExplained {
    /// When `|a|` crossed the trigger (or an axis saturated), ms of virtual time.
    pub opened_ms: u64,
    /// When its peak was, ms.
    pub peak_ms: u64,
    /// When it was judged, ms.
    pub judged_ms: u64,
    /// The stage that decided: the first that rejected it, or `accepted`.
    pub stage: Stage,
    /// Whether it was judged a fall.
    pub fall: bool,
    /// What the detector measured around it.
    pub features: Features,
}

/// Why a replay raised no fall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhyNoFall {
    /// No candidate opened: `|a|` never reached the trigger and no axis saturated.
    Trigger,
    /// A candidate was still waiting for its windows when the replay ended.
    Unjudged,
    /// The candidates were rejected; this is the latest stage any of them reached
    /// (violence < off body < posture < stillness < upright before).
    Violence,
    /// See [`Stage::OffBody`].
    OffBody,
    /// See [`Stage::Posture`].
    Posture,
    /// See [`Stage::Stillness`].
    Stillness,
    /// See [`Stage::UprightBefore`].
    UprightBefore,
}

impl WhyNoFall {
    /// The name as serialised (`trigger`, `unjudged`, `violence`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Unjudged => "unjudged",
            Self::Violence => "violence",
            Self::OffBody => "off_body",
            Self::Posture => "posture",
            Self::Stillness => "stillness",
            Self::UprightBefore => "upright_before",
        }
    }

    fn rejected_at(stage: Stage) -> Option<Self> {
        match stage {
            Stage::Violence => Some(Self::Violence),
            Stage::OffBody => Some(Self::OffBody),
            Stage::Posture => Some(Self::Posture),
            Stage::Stillness => Some(Self::Stillness),
            Stage::UprightBefore => Some(Self::UprightBefore),
            Stage::Accepted => None,
        }
    }
}

/// The detector's signals at one point (a sample, or the extremes of several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SamplePoint {
    /// Time of the (first) sample, ms.
    pub t_ms: u64,
    /// Largest `|a|` after the front end (the sensor's output), mg.
    pub mag_max_mg: u16,
    /// Smallest `|a|` after the front end, mg (equal to the largest when not decimated).
    pub mag_min_mg: u16,
    /// The detector's slow baseline of `|a|` (its 1 g), mg.
    pub baseline_mg: u16,
    /// Whether an axis was at full scale.
    pub saturated: bool,
    /// Whether a candidate was open.
    pub candidate_open: bool,
}

/// The detector's 100 ms block summaries at one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BlockPoint {
    /// Time the (first) block closed, ms.
    pub t_ms: u64,
    /// Range (max − min) of `|a|` in the block, mg: stillness (largest when decimated).
    pub range_mg: u16,
    /// Smallest `|a|` in the block, mg: free fall (smallest when decimated).
    pub min_mg: u16,
    /// Σ |`|a|` − baseline| over the block, mg·s (largest when decimated).
    pub energy_mg_s: u32,
    /// Angle between the block's mean gravity and the learned upright, degrees
    /// (largest when decimated).
    pub tilt_from_upright_deg: u8,
    /// Whether the block taught the upright axis (any, when decimated).
    pub learned: bool,
}

/// The trace's own samples before the front end (its rate, clipped by nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RawPoint {
    /// Time, ms.
    pub t_ms: u64,
    /// Largest `|a|`, mg.
    pub mag_max_mg: u32,
    /// Smallest `|a|`, mg.
    pub mag_min_mg: u32,
}

/// The signals over time, each decimated to at most [`MAX_POINTS`] points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signals {
    /// Samples per point of `samples` (1: every sample).
    pub samples_per_point: u32,
    /// Per detector sample.
    pub samples: Vec<SamplePoint>,
    /// Blocks per point of `blocks`.
    pub blocks_per_point: u32,
    /// Per 100 ms block.
    pub blocks: Vec<BlockPoint>,
    /// Trace records per point of `raw`.
    pub raw_per_point: u32,
    /// The trace's magnitude before the sensor front end.
    pub raw: Vec<RawPoint>,
}

/// The detector explained (serialised as `detector` in `sim replay --json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// Output data rate of the sensor, Hz.
    pub odr_hz: u32,
    /// Length of a block, ms.
    pub block_ms: u32,
    /// An axis at or beyond ±this counts as saturated, mg.
    pub saturation_mg: i16,
    /// The detector's thresholds and windows (the profile's `fall` section).
    pub thresholds: FallDetectorConfig,
    /// Falls the detector raised.
    pub falls: u32,
    /// Why no fall was raised (absent when one was).
    pub why_no_fall: Option<WhyNoFall>,
    /// Every candidate, in order.
    pub candidates: Vec<CandidateExplained>,
    /// The signals.
    pub signals: Signals,
}

impl DetectorLog {
    /// A log for a detector with these settings.
    pub fn new(config: &FallDetectorConfig, odr_hz: u32) -> Self {
        Self {
            det: Box::new(FallDetector::new(config, odr_hz)),
            config: config.clone(),
            odr_hz,
            samples: Vec::new(),
            blocks: Vec::new(),
            raw: Vec::new(),
            candidates: Vec::new(),
            open_since: None,
        }
    }

    /// A trace record's acceleration (g) before the front end, at `t`.
    pub(crate) fn raw(&mut self, t: Micros, g: [f64; 3]) {
        let mag = (g.iter().map(|v| v * v).sum::<f64>()).sqrt() * 1000.0;
        self.raw
            .push((t, mag.round().clamp(0.0, f64::from(u16::MAX)) as u16));
    }

    /// One sample the button's sensor output at `t`.
    pub(crate) fn sample(&mut self, t: Micros, mg: [i16; 3]) {
        let (_, probe) = self.det.push_probed(mg);
        self.samples.push(SampleRec {
            t,
            mag: probe.mag_mg,
            baseline: probe.baseline_mg,
            saturated: probe.saturated,
            open: probe.candidate_open,
        });
        if probe.candidate_open && self.open_since.is_none() {
            self.open_since = Some(t);
        }
        if let Some(b) = probe.block {
            self.blocks.push(BlockRec {
                t,
                range: b.range_mg,
                min: b.min_mg,
                energy: b.energy_mg_s,
                tilt: b.tilt_from_upright_deg,
                learned: b.learned,
            });
        }
        if let Some(j) = probe.judgement {
            let at = |i: u64| {
                let i = usize::try_from(i).unwrap_or(usize::MAX);
                self.samples.get(i).map_or(t, |s| s.t) / MILLI
            };
            let peak_ms = at(j.peak_sample_index);
            self.candidates.push(CandidateExplained {
                opened_ms: self.open_since.take().map_or(peak_ms, |o| o / MILLI),
                peak_ms,
                judged_ms: t / MILLI,
                stage: j.stage,
                fall: j.fall,
                features: j.features,
            });
        }
    }

    /// The explanation of everything logged so far.
    pub fn explain(&self) -> Explanation {
        let falls = self.candidates.iter().filter(|c| c.fall).count() as u32;
        let why_no_fall = (falls == 0).then(|| self.why_no_fall());
        Explanation {
            odr_hz: self.odr_hz,
            block_ms: BLOCK_MS,
            saturation_mg: SATURATION_MG,
            thresholds: self.config.clone(),
            falls,
            why_no_fall,
            candidates: self.candidates.clone(),
            signals: self.signals(),
        }
    }

    fn why_no_fall(&self) -> WhyNoFall {
        let latest = self
            .candidates
            .iter()
            .filter_map(|c| WhyNoFall::rejected_at(c.stage))
            .max_by_key(|w| *w as u8);
        match (latest, self.open_since) {
            (Some(w), _) => w,
            (None, Some(_)) => WhyNoFall::Unjudged,
            (None, None) => WhyNoFall::Trigger,
        }
    }

    fn signals(&self) -> Signals {
        let (samples_per_point, samples) = decimate(&self.samples, |c| {
            let mut p = SamplePoint {
                t_ms: c[0].t / MILLI,
                mag_max_mg: 0,
                mag_min_mg: u16::MAX,
                baseline_mg: c[c.len() - 1].baseline,
                saturated: false,
                candidate_open: false,
            };
            for s in c {
                p.mag_max_mg = p.mag_max_mg.max(s.mag);
                p.mag_min_mg = p.mag_min_mg.min(s.mag);
                p.saturated |= s.saturated;
                p.candidate_open |= s.open;
            }
            p
        });
        let (blocks_per_point, blocks) = decimate(&self.blocks, |c| BlockPoint {
            t_ms: c[0].t / MILLI,
            range_mg: c.iter().map(|b| b.range).max().unwrap_or(0),
            min_mg: c.iter().map(|b| b.min).min().unwrap_or(0),
            energy_mg_s: c.iter().map(|b| b.energy).max().unwrap_or(0),
            tilt_from_upright_deg: c.iter().map(|b| b.tilt).max().unwrap_or(0),
            learned: c.iter().any(|b| b.learned),
        });
        let (raw_per_point, raw) = decimate(&self.raw, |c| RawPoint {
            t_ms: c[0].0 / MILLI,
            mag_max_mg: c.iter().map(|r| u32::from(r.1)).max().unwrap_or(0),
            mag_min_mg: c.iter().map(|r| u32::from(r.1)).min().unwrap_or(0),
        });
        Signals {
            samples_per_point,
            samples,
            blocks_per_point,
            blocks,
            raw_per_point,
            raw,
        }
    }
}

/// At most [`MAX_POINTS`] points of `v`, each from a chunk of equal length (the last
/// shorter); returns the chunk length.
fn decimate<T, P>(v: &[T], point: impl Fn(&[T]) -> P) -> (u32, Vec<P>) {
    let per = v.len().div_ceil(MAX_POINTS).max(1);
    let points = v.chunks(per).map(point).collect();
    (u32::try_from(per).unwrap_or(u32::MAX), points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_still_button_explains_no_trigger() {
        let mut log = DetectorLog::new(&FallDetectorConfig::default(), 50);
        for i in 0..20_000u64 {
            log.raw(i * 20_000, [0.0, -1.0, 0.0]);
            log.sample(i * 20_000, [0, -1000, 0]);
        }
        let e = log.explain();
        assert_eq!(e.why_no_fall, Some(WhyNoFall::Trigger));
        assert!(e.candidates.is_empty());
        assert_eq!(e.signals.samples_per_point, 5);
        assert_eq!(e.signals.samples.len(), 4_000);
        assert_eq!(e.signals.samples[0].mag_max_mg, 1000);
        assert_eq!(e.signals.blocks.len(), 4_000);
        assert!(e.signals.raw.len() <= MAX_POINTS);
    }

    #[test]
    fn a_fall_is_explained_with_its_stage() {
        let mut log = DetectorLog::new(&FallDetectorConfig::default(), 50);
        let mut t = 0;
        let mut feed = |s: [i16; 3], n: u32, log: &mut DetectorLog| {
            for _ in 0..n {
                log.sample(t, s);
                t += 20_000;
            }
        };
        feed([0, -1000, 0], 150, &mut log);
        feed([0, -200, 0], 20, &mut log);
        feed([2000, -4000, 1500], 3, &mut log);
        feed([0, 0, 1000], 300, &mut log);
        let e = log.explain();
        assert_eq!(e.falls, 1);
        assert_eq!(e.why_no_fall, None);
        let c = e.candidates[0];
        assert_eq!(c.stage, Stage::Accepted);
        assert!(c.opened_ms <= c.peak_ms && c.peak_ms < c.judged_ms, "{c:?}");
        assert_eq!(c.peak_ms, 170 * 20);
    }
}
