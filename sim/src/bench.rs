//! The measurements behind `cargo xtask bench` (run in a release build as the hidden
//! `sim bench`): each figure is the median of several runs, printed, never asserted.
//!
//! (a) simulated seconds per wall second replaying 1 hour of a 100 Hz accelerometer
//! trace through button, link and phone; (b) wall time of 30 days of a connected idle
//! button, per world (100 worlds, each connected with its session open first, timed
//! together); (b') the same 30 days from power-on, the connection's set-up timed too
//! (b' − b is what one connection costs); (c) wall time of the bundled feature
//! suite; (d) fleet throughput, 10,000 wearers × 24 h; (e) resident memory per
//! simulated button+phone pair (1,000 pairs
//! kept alive after a simulated day); (f) the fall detector's cost per sample; (m…) the
//! firmware core's memory: `size_of` of its whole state and of each part, and the
//! serialized flash image (computed, not timed; `--only m` selects them all). The
//! maximum stack depth of one `Button::handle` call (m7, m8) is not measured here but by
//! `cargo xtask bench` itself (`xtask/src/stack.rs`: a static analysis that needs
//! `cargo +nightly`, skipped with a notice without it).

use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use device_model::Button;
use serde::Serialize;

use crate::runner::{self, RunOptions};
use crate::sched::SECOND;
use crate::simulation::{Setup, Simulation};
use crate::trace::{Record, TraceFormat, TraceReader};
use crate::tracegen::{generate, Activity};
use crate::SimError;

/// One figure.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// Short id (a–f).
    pub id: &'static str,
    /// What it measures.
    pub what: &'static str,
    /// Median value.
    pub value: f64,
    /// Unit.
    pub unit: &'static str,
    /// The goal, as text.
    pub goal: &'static str,
    /// Whether the median meets the goal.
    pub met: bool,
    /// Every run's value.
    pub runs: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

/// One hour of 100 Hz walking, as native JSON Lines.
pub fn hour_of_walking() -> String {
    let walk = generate(Activity::Walking, 7);
    let mut s = String::from("{\"trace\":\"alarm-button\",\"version\":1,\"source\":\"bench: 120 x 30 s of sim::tracegen walking\",\"rate\":100}\n");
    let period = walk.len() as u64;
    for k in 0..(3600 * 100) as u64 {
        let (_, g) = walk[(k % period) as usize];
        s.push_str(&format!(
            "{{\"t_ms\":{},\"acc_g\":[{:.4},{:.4},{:.4}]}}\n",
            k * 10,
            g[0],
            g[1],
            g[2]
        ));
    }
    s
}

fn replay_hour(trace: &str) -> Result<f64, SimError> {
    let mut sim = Simulation::new(Setup::default())?;
    let reader = TraceReader::from_reader(
        Path::new("hour.jsonl"),
        TraceFormat::Jsonl,
        Box::new(Cursor::new(trace.as_bytes().to_vec())),
    )?;
    let (wall, ()) = timed(|| {
        sim.start_replay_reader("hour.jsonl".into(), reader);
        let far = sim.now() + 2 * 3600 * SECOND;
        sim.run_until_cond(far, &|s| !s.replay_active());
    });
    Ok(3600.0 / wall)
}

fn replay_hour_decoded(trace: &str) -> Result<f64, SimError> {
    let reader = TraceReader::from_reader(
        Path::new("hour.jsonl"),
        TraceFormat::Jsonl,
        Box::new(Cursor::new(trace.as_bytes().to_vec())),
    )?;
    let records: Vec<Record> = reader.collect::<Result<_, _>>()?;
    let mut sim = Simulation::new(Setup::default())?;
    let (wall, ()) = timed(|| {
        sim.start_replay_records(
            "hour (decoded)".into(),
            Box::new(records.into_iter().map(Ok)),
        );
        let far = sim.now() + 2 * 3600 * SECOND;
        sim.run_until_cond(far, &|s| !s.replay_active());
    });
    Ok(3600.0 / wall)
}

/// Worlds whose months are timed together (figures b, b'): one month takes
/// microseconds, too short for one cold run to time.
const IDLE_WORLDS: u64 = 100;

/// How long a new world is given to connect and open its session before figure b's
/// month starts (both are done well within it: at about 0.5 s).
const SET_UP: u64 = SECOND;

const MONTH: u64 = 30 * 86_400 * SECOND;

/// 100 worlds, built (not timed).
fn idle_worlds() -> Result<Vec<Simulation>, SimError> {
    (0..IDLE_WORLDS)
        .map(|seed| {
            Simulation::new(Setup {
                seed,
                ..Setup::default()
            })
        })
        .collect::<Result<_, _>>()
        .map_err(SimError::from)
}

/// Figure b, wall time of 30 days of a connected idle button, per world: the worlds
/// are built and connected first ([`SET_UP`], not timed; an error if one has no
/// session by then), then each advances 30 days.
fn idle_30_days() -> Result<f64, SimError> {
    let mut sims = idle_worlds()?;
    for sim in &mut sims {
        sim.advance(SET_UP);
        if !sim.button().is_some_and(Button::session_ready) {
            return Err(SimError::Setup(format!(
                "bench world {} has no session after {} s",
                sim.seed(),
                SET_UP / SECOND
            )));
        }
    }
    Ok(time_months(&mut sims))
}

/// Figure b', the same 30 days from power-on: the connection and the session's set-up
/// (`Hello`, the offer, the signed `SetTime` and the sealed report it triggers: four
/// HMACs, one sealed frame) are timed too.
fn idle_30_days_from_power_on() -> Result<f64, SimError> {
    Ok(time_months(&mut idle_worlds()?))
}

#[inline(never)]
fn time_months(sims: &mut [Simulation]) -> f64 {
    let (wall, ()) = timed(|| {
        for sim in sims.iter_mut() {
            sim.advance(MONTH);
        }
    });
    wall * 1000.0 / sims.len().max(1) as f64
}

fn suite(features: &Path) -> Result<f64, SimError> {
    let opts = RunOptions {
        paths: vec![features.display().to_string()],
        quiet: true,
        ..Default::default()
    };
    let (wall, r) = timed(|| runner::run(&opts));
    let s = r?;
    if !s.ok() {
        return Err(SimError::Setup(format!(
            "the suite failed during the benchmark:\n{}",
            s.report()
        )));
    }
    Ok(wall)
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn memory_per_pair() -> Result<f64, SimError> {
    let before = rss_kib().unwrap_or(0);
    let mut sims = Vec::new();
    for i in 0..1000u64 {
        let mut sim = Simulation::new(Setup {
            seed: i,
            ..Setup::default()
        })?;
        sim.timeline.cap = 2_000;
        for k in 0..3 {
            let (edges, _) = sim.hand.presses((k * 8 + 1) * 3600 * SECOND, 1);
            for (t, d) in edges {
                sim.edge_at(t, d);
            }
        }
        sim.advance(86_400 * SECOND);
        sims.push(sim);
    }
    let after = rss_kib().unwrap_or(0);
    drop(sims);
    Ok(after.saturating_sub(before) as f64 / 1000.0)
}

fn detector_ns_per_sample() -> f64 {
    use device_model::accel::{AccelConfig, Resampler};
    use device_model::fall::{FallDetector, FallDetectorConfig};
    let cfg = AccelConfig::default();
    let mut samples = Vec::new();
    let mut r = Resampler::new(&cfg);
    for (i, act) in [
        Activity::Walking,
        Activity::Jogging,
        Activity::FallForward,
        Activity::LieDown,
    ]
    .into_iter()
    .enumerate()
    {
        for (t, g) in generate(act, 3) {
            r.push_with(
                (i as u64 * 60 + t as u64) * 1_000_000 + (t.fract() * 1e6) as u64,
                g,
                |_, mg| samples.push(mg),
            );
        }
    }
    let mut det = FallDetector::new(&FallDetectorConfig::default(), cfg.odr_hz);
    let reps = 200;
    let (wall, n) = timed(|| {
        let mut n = 0u64;
        for _ in 0..reps {
            for &s in &samples {
                n += u64::from(det.push(std::hint::black_box(s)).is_some());
            }
        }
        n
    });
    std::hint::black_box(n);
    wall * 1e9 / (reps as f64 * samples.len() as f64)
}

/// Wall time of a fleet of 10,000 wearers for 24 h on all cores; an error if any
/// alert was lost or duplicated.
fn fleet_day() -> Result<f64, SimError> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (wall, s) = timed(|| crate::fleet::run_fleet(10_000, 24.0, 0, threads, false));
    let s = s?;
    if s.lost != 0 || s.duplicated != 0 {
        return Err(SimError::Setup(format!(
            "fleet lost or duplicated alerts: {s:?}"
        )));
    }
    Ok(wall)
}

/// Run every measurement `runs` times, or only those whose ids are in `only` (e.g.
/// `["b", "d"]`; empty: all); `features` is the bundled suite's folder.
pub fn run(runs: usize, features: &Path, only: &[String]) -> Result<Vec<Figure>, SimError> {
    let runs = runs.max(1);
    let want = |id: &str| only.is_empty() || only.iter().any(|o| o == id);
    let trace = if want("a") || want("a'") {
        hour_of_walking()
    } else {
        String::new()
    };
    let mut m: [Vec<f64>; 8] = Default::default();
    for _ in 0..runs {
        if want("a") {
            m[0].push(replay_hour(&trace)?);
        }
        if want("a'") {
            m[1].push(replay_hour_decoded(&trace)?);
        }
        if want("b") {
            m[2].push(idle_30_days()?);
        }
        if want("b'") {
            m[3].push(idle_30_days_from_power_on()?);
        }
        if want("c") {
            m[4].push(suite(features)?);
        }
        if want("d") {
            m[5].push(fleet_day()?);
        }
        if want("f") {
            m[7].push(detector_ns_per_sample());
        }
    }
    if want("e") {
        m[6].push(memory_per_pair()?);
    }
    let mut figs: Vec<Figure> = figures(m)
        .into_iter()
        .filter(|f| !f.runs.is_empty())
        .collect();
    if only.is_empty() || only.iter().any(|o| o.starts_with('m')) {
        figs.extend(memory_figures());
    }
    Ok(figs)
}

/// The firmware core's memory figures (bytes), from `firmware::footprint`.
fn memory_figures() -> Vec<Figure> {
    let f = firmware::footprint();
    let budget = firmware::core::STATE_BUDGET_BYTES as f64;
    let fig = |id, what, bytes: usize, goal, met| Figure {
        id,
        what,
        value: bytes as f64,
        unit: "B",
        goal,
        met,
        runs: vec![bytes as f64],
    };
    vec![
        fig(
            "m",
            "firmware state, whole (size_of firmware::Core)",
            f.core,
            "< 4096 (ARCHITECTURE.md)",
            (f.core as f64) < budget,
        ),
        fig("m1", "  event queue (64 slots)", f.queue, "(figure)", true),
        fig("m2", "  fall detector", f.fall, "(figure)", true),
        fig("m3", "  gesture recogniser", f.gesture, "(figure)", true),
        fig(
            "m4",
            "  flash contents in RAM (size_of Flash)",
            f.flash,
            "(figure)",
            true,
        ),
        fig(
            "m5",
            "flash image serialized, full queue",
            f.image_full,
            "(figure)",
            true,
        ),
        fig(
            "m6",
            "flash image serialized, empty queue",
            f.image_empty,
            "(figure)",
            true,
        ),
    ]
}

/// The figures from the runs of each measurement, in table order.
fn figures([a, a2, b, b2, c, d, e, f]: [Vec<f64>; 8]) -> Vec<Figure> {
    let fig = |id, what, runs: Vec<f64>, unit, goal, ok: fn(f64) -> bool| {
        let value = median(runs.clone());
        Figure {
            id,
            what,
            value,
            unit,
            goal,
            met: ok(value),
            runs,
        }
    };
    vec![
        fig(
            "a",
            "replay 1 h of 100 Hz accelerometer through button, link, phone",
            a,
            "x real time",
            ">= 100000",
            |v| v >= 100_000.0,
        ),
        fig(
            "a'",
            "same, from decoded records (simulation alone, no JSON parsing)",
            a2,
            "x real time",
            ">= 100000",
            |v| v >= 100_000.0,
        ),
        fig(
            "b",
            "30 days of a connected idle button (per world, 100 worlds)",
            b,
            "ms",
            "< 200",
            |v| v < 200.0,
        ),
        fig(
            "b'",
            "same, from power-on (connection and session set-up timed too)",
            b2,
            "ms",
            "< 200",
            |v| v < 200.0,
        ),
        fig("c", "bundled feature suite", c, "s", "< 5", |v| v < 5.0),
        fig("d", "fleet: 10,000 wearers x 24 h", d, "s", "< 60", |v| {
            v < 60.0
        }),
        fig(
            "e",
            "resident memory per simulated pair (1,000 kept after a day)",
            e,
            "KiB",
            "< 209 (2 GiB / 10,000)",
            |v| v < 209.7,
        ),
        fig(
            "f",
            "fall detector cost",
            f,
            "ns/sample",
            "(figure)",
            |_| true,
        ),
    ]
}

/// The figures as a table.
pub fn table(figs: &[Figure]) -> String {
    let mut s = format!(
        "{:<3} {:<66} {:>14} {:<12} {:<24} {}\n",
        "", "measure", "median", "unit", "goal", "met"
    );
    for f in figs {
        s.push_str(&format!(
            "{:<3} {:<66} {:>14.3} {:<12} {:<24} {}\n",
            f.id,
            f.what,
            f.value,
            f.unit,
            f.goal,
            if f.met { "yes" } else { "NO" }
        ));
    }
    s
}
