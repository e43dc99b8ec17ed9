//! Time passing: `{n} seconds pass` and its minutes, hours and days.

use std::time::Duration;

use super::typed::When;
use super::{AlarmWorld, Args, StepDef};

/// The time steps.
pub const STEPS: &[StepDef] = &[
    step!(When, "time", "{n} seconds pass", "30 seconds pass", |a| {
        pass(a, 1.0)
    }),
    step!(When, "time", "{n} minutes pass", "15 minutes pass", |a| {
        pass(a, 60.0)
    }),
    step!(When, "time", "{n} hours pass", "2 hours pass", |a| pass(
        a, 3600.0
    )),
    step!(When, "time", "{n} days pass", "30 days pass", |a| pass(
        a, 86_400.0
    )),
];

fn pass(a: &Args, unit_s: f64) -> Result<When, String> {
    let d = a.duration(0, unit_s, 366.0 * 86_400.0, "a duration from 0 to 366 days")?;
    Ok(When::Pass(d))
}

/// On the simulator: let the time pass.
pub(super) fn run(w: &mut AlarmWorld, d: Duration) -> Result<(), String> {
    w.sim()?.advance(super::sim_bench::micros(d));
    w.when_done();
    Ok(())
}
