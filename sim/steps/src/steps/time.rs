//! Time passing: `{n} seconds pass` and its minutes, hours and days.

use super::{AlarmWorld, Args, Kind, StepDef};
use crate::sched::{Micros, SECOND};

macro_rules! when {
    ($pat:expr, $ex:expr, $f:expr) => {
        StepDef {
            kind: Kind::When,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: "time",
            run: $f,
        }
    };
}

/// The time steps.
pub const STEPS: &[StepDef] = &[
    when!("{n} seconds pass", "30 seconds pass", |w, a| pass(
        w, a, 1.0
    )),
    when!("{n} minutes pass", "15 minutes pass", |w, a| pass(
        w, a, 60.0
    )),
    when!("{n} hours pass", "2 hours pass", |w, a| pass(w, a, 3600.0)),
    when!("{n} days pass", "30 days pass", |w, a| pass(w, a, 86_400.0)),
];

fn pass(w: &mut AlarmWorld, a: &Args, unit_s: f64) -> Result<(), String> {
    let n = a.num(0)?;
    if !(0.0..=366.0 * 86_400.0).contains(&(n * unit_s)) {
        return Err(format!("expected a duration from 0 to 366 days, got {n}"));
    }
    let d = (n * unit_s * SECOND as f64).round() as Micros;
    w.sim()?.advance(d);
    w.when_done();
    Ok(())
}
