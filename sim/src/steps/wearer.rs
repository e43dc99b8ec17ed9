//! The wearer's actions on the button: presses drawn from the hand model, exact raw
//! presses and holds. A press or a group of presses ends when its grouping window has
//! closed; a hold ends at release; a replayed trace ends at its last record.

use std::path::{Path, PathBuf};

use super::{AlarmWorld, Args, Kind, StepDef};
use crate::sched::{Micros, MILLI, SECOND};
use crate::timeline::Layer;

macro_rules! when {
    ($pat:expr, $ex:expr, $f:expr) => {
        StepDef {
            kind: Kind::When,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: "wearer",
            run: $f,
        }
    };
}

/// The wearer steps.
pub const STEPS: &[StepDef] = &[
    when!(
        "the wearer presses the button",
        "the wearer presses the button",
        |w, _| presses(w, 1)
    ),
    when!(
        "the wearer double-presses the button",
        "the wearer double-presses the button",
        |w, _| presses(w, 2)
    ),
    when!(
        "the wearer triple-presses the button",
        "the wearer triple-presses the button",
        |w, _| presses(w, 3)
    ),
    when!(
        "the wearer holds the button for {n} s",
        "the wearer holds the button for 3 s",
        hold
    ),
    when!(
        "the wearer presses the button for {n} ms",
        "the wearer presses the button for 30 ms",
        raw_press
    ),
];

fn gap_us(w: &mut AlarmWorld) -> Result<Micros, String> {
    Ok(u64::from(
        w.sim()?
            .button()
            .map_or(400, |b| b.profile().gesture.group_gap_ms),
    ) * MILLI)
}

fn presses(w: &mut AlarmWorld, n: u32) -> Result<(), String> {
    let gap = gap_us(w)?;
    let sim = w.sim()?;
    let start = sim.now();
    let (edges, last_release) = sim.hand.presses(start, n);
    sim.timeline
        .push(start, Layer::Wearer, format!("presses the button {n}×"));
    for (t, down) in edges {
        sim.edge_at(t, down);
    }
    sim.run_until(last_release + gap);
    w.when_done();
    Ok(())
}

fn exact_press(w: &mut AlarmWorld, dur: Micros, label: String) -> Result<(), String> {
    let gap = gap_us(w)?;
    let long = u64::from(
        w.sim()?
            .button()
            .map_or(2000, |b| b.profile().gesture.long_ms),
    ) * MILLI;
    let sim = w.sim()?;
    let start = sim.now();
    sim.timeline.push(start, Layer::Wearer, label);
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

fn hold(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let s = a.num(0)?;
    if !(0.0..=3600.0).contains(&s) {
        return Err(format!("expected a hold of 0 to 3600 s, got {s}"));
    }
    exact_press(
        w,
        (s * SECOND as f64).round() as Micros,
        format!("holds the button for {s} s"),
    )
}

fn raw_press(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let ms = a.num(0)?;
    if !(0.0..=3_600_000.0).contains(&ms) {
        return Err(format!("expected a press of 0 to 3600000 ms, got {ms}"));
    }
    exact_press(
        w,
        (ms * MILLI as f64).round() as Micros,
        format!("presses the button for {ms} ms"),
    )
}
