//! Time passing: `{n} seconds pass` and its minutes, hours and days.

use std::time::Duration;

use super::typed::{Step, When};
use super::{AlarmWorld, Args, Kind, StepDef};

macro_rules! when {
    ($pat:expr, $ex:expr, $unit_s:expr) => {
        StepDef {
            kind: Kind::When,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: "time",
            build: |a| Ok(Step::When(When::Pass(pass(a, $unit_s)?))),
        }
    };
}

/// The time steps.
pub const STEPS: &[StepDef] = &[
    when!("{n} seconds pass", "30 seconds pass", 1.0),
    when!("{n} minutes pass", "15 minutes pass", 60.0),
    when!("{n} hours pass", "2 hours pass", 3600.0),
    when!("{n} days pass", "30 days pass", 86_400.0),
];

fn pass(a: &Args, unit_s: f64) -> Result<Duration, String> {
    a.duration(0, unit_s, 366.0 * 86_400.0, "a duration from 0 to 366 days")
}

/// On the simulator: let the time pass.
pub(super) fn run(w: &mut AlarmWorld, d: Duration) -> Result<(), String> {
    w.sim()?.advance(super::sim_bench::micros(d));
    w.when_done();
    Ok(())
}
