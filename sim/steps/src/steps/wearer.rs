//! The wearer's actions on the button: presses drawn from the hand model, exact raw
//! presses and holds. A press or a group of presses ends when its grouping window has
//! closed; a hold ends at release; a replayed trace ends at its last record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sim_bench::micros;
use super::typed::When;
use super::{AlarmWorld, Args, StepDef};
use crate::sched::{Micros, MILLI, SECOND};
use crate::timeline::Layer;

type Built = Result<When, String>;

/// The wearer steps.
pub const STEPS: &[StepDef] = &[
    step!(
        When,
        "wearer",
        "the wearer presses the button",
        "the wearer presses the button",
        |_| -> Built { Ok(When::Presses(1)) }
    ),
    step!(
        When,
        "wearer",
        "the wearer double-presses the button",
        "the wearer double-presses the button",
        |_| -> Built { Ok(When::Presses(2)) }
    ),
    step!(
        When,
        "wearer",
        "the wearer triple-presses the button",
        "the wearer triple-presses the button",
        |_| -> Built { Ok(When::Presses(3)) }
    ),
    step!(
        When,
        "wearer",
        "the wearer presses the button {n} times",
        "the wearer presses the button 70 times",
        |a: &Args| -> Built { Ok(When::SeparatePresses(a.int(0, 1, 10_000)? as u32)) }
    ),
    step!(
        When,
        "wearer",
        "the wearer holds the button for {n} s",
        "the wearer holds the button for 3 s",
        |a: &Args| -> Built {
            Ok(When::Hold(a.duration(
                0,
                1.0,
                3600.0,
                "a hold of 0 to 3600 s",
            )?))
        }
    ),
    step!(
        When,
        "wearer",
        "the wearer presses the button for {n} ms",
        "the wearer presses the button for 30 ms",
        |a: &Args| -> Built {
            Ok(When::RawPress(a.duration(
                0,
                1e-3,
                3600.0,
                "a press of 0 to 3600000 ms",
            )?))
        }
    ),
    step!(
        When,
        "wearer",
        "the trace {text} is replayed",
        "the trace \"traces/fall_forward.jsonl\" is replayed",
        |a: &Args| -> Built { Ok(When::ReplayTrace(a.text(0)?.to_string())) }
    ),
];

fn gap_us(w: &mut AlarmWorld) -> Result<Micros, String> {
    Ok(u64::from(
        w.sim()?
            .button()
            .map_or(400, |b| b.profile().gesture.group_gap_ms),
    ) * MILLI)
}

/// On the simulator: `n` presses of the hand model, until the click window closes.
pub(super) fn presses(w: &mut AlarmWorld, n: u32) -> Result<(), String> {
    let gap = gap_us(w)?;
    let sim = w.sim()?;
    let start = sim.now();
    let (edges, last_release) = sim.hand.presses(start, n);
    let what = crate::observed::Observed::Note(format!("presses the button {n}×"));
    sim.timeline.push(start, Layer::Wearer, what);
    for (t, down) in edges {
        sim.edge_at(t, down);
    }
    sim.run_until(last_release + gap);
    w.when_done();
    Ok(())
}

/// On the simulator: one exact press (a hold ends at release, a click when its window
/// has closed).
fn exact_press(w: &mut AlarmWorld, dur: Micros, label: String) -> Result<(), String> {
    let gap = gap_us(w)?;
    let long = u64::from(
        w.sim()?
            .button()
            .map_or(2000, |b| b.profile().gesture.long_ms),
    ) * MILLI;
    let sim = w.sim()?;
    let start = sim.now();
    sim.timeline
        .push(start, Layer::Wearer, crate::observed::Observed::Note(label));
    sim.edge_at(start, true);
    sim.edge_at(start + dur, false);
    let end = if dur >= long {
        start + dur
    } else {
        start + dur + gap
    };
    sim.run_until(end);
    w.when_done();
    Ok(())
}

/// On the simulator: `holds the button for {n} s`.
pub(super) fn hold(w: &mut AlarmWorld, d: Duration) -> Result<(), String> {
    let s = micros(d) as f64 / SECOND as f64;
    exact_press(w, micros(d), format!("holds the button for {s} s"))
}

/// On the simulator: `presses the button for {n} ms`.
pub(super) fn raw_press(w: &mut AlarmWorld, d: Duration) -> Result<(), String> {
    let ms = micros(d) as f64 / MILLI as f64;
    exact_press(w, micros(d), format!("presses the button for {ms} ms"))
}

/// Where a trace named in a step is: an absolute path, or relative to `scenarios/`
/// (looked up from the working directory, then beside the feature's folder, then in
/// this repository).
pub(crate) fn resolve_trace(name: &str, feature_file: &str) -> Result<PathBuf, String> {
    let p = Path::new(name);
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let mut candidates = vec![PathBuf::from("scenarios").join(p)];
    if let Some(dir) = Path::new(feature_file).parent() {
        candidates.push(dir.join("..").join("scenarios").join(p));
        candidates.push(dir.join("scenarios").join(p));
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("scenarios")
            .join(p),
    );
    candidates.push(p.to_path_buf());
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .ok_or_else(|| format!("trace {name:?} not found (looked in {candidates:?})"))
}

/// On the simulator: replay a trace to its last record.
pub(super) fn replay(w: &mut AlarmWorld, name: &str) -> Result<(), String> {
    let path = resolve_trace(name, &w.meta.file)?;
    let sim = w.sim()?;
    sim.start_replay(&path)
        .map_err(|e| format!("cannot replay: {e}"))?;
    let far = sim.now() + 400 * 86_400 * SECOND;
    sim.run_until_cond(far, &|s| !s.replay_active());
    w.when_done();
    match w.sim()?.replay_error.take() {
        Some(e) => Err(format!("the trace cannot be read: {e}")),
        None => Ok(()),
    }
}
