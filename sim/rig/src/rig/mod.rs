//! Rig runs: the `@hil` scenarios of feature files, run with the phone-side logic
//! ([`phone::PhoneApp`]) against one button, through the simulator's step parser and
//! the simulator's Then checks ([`sim_steps::steps::run_step`] on a [`RigBench`]).
//!
//! What a rig can do, it does for real: the button, its firmware and the radio are the
//! link's; time is the [`Clock`]'s. The phone's platform is a dry-run recorder (SMS are
//! accepted but not sent, calls are recorded but never answered, the location service
//! answers with the scenario's position), so the Then checks look at what the phone
//! *asked for*. Presses are injected through the firmware's test service when it is
//! exposed, else asked of the operator on the terminal and awaited (bounded by
//! [`HilOptions::operator_timeout`]). A scenario with a step the rig cannot perform is
//! reported as *not run on hardware* — never as passed.
//!
//! The runner is generic over the central ([`RigLink`]) and the clock: on hardware the
//! btleplug central and the [`WallClock`] (feature `hil`), in the dry-run test the
//! simulator's virtual central and a [`VirtualClock`].

mod bench;
mod clock;
mod link;
mod plan;
mod platform;
mod report;

use std::time::Duration;

use phone::{DeviceId, GattEvent};
use sim_steps::steps::run_step;
use sim_steps::RunError;

use bench::RigBench;
pub use clock::{Clock, VirtualClock, WallClock};
pub use link::RigLink;
pub use plan::{plan, Planned, PlannedStep};
pub use report::{HilOptions, HilReport, ScenarioResult, ScenarioStatus};

/// Run planned scenarios one after the other against the button `device` on `link`,
/// with time from `clock`.
pub fn run_scenarios<L: RigLink, C: Clock>(
    link: &mut L,
    clock: &mut C,
    device: &DeviceId,
    opts: &HilOptions,
    planned: &[Planned],
) -> HilReport {
    let mut report = HilReport {
        device: device.0.clone(),
        scenarios: Vec::new(),
    };
    for sc in planned {
        eprintln!("hil: {} {}", sc.location, sc.name);
        report
            .scenarios
            .push(run_scenario(link, clock, device, opts, sc));
    }
    report
}

fn run_scenario<L: RigLink, C: Clock>(
    link: &mut L,
    clock: &mut C,
    device: &DeviceId,
    opts: &HilOptions,
    sc: &Planned,
) -> ScenarioResult {
    let mut bench = RigBench::new(&mut *link, &mut *clock, device.clone(), opts);
    let mut status = ScenarioStatus::Passed;
    for s in &sc.steps {
        let at = |e: &dyn std::fmt::Display| format!("step {:?} (line {}): {e}", s.text, s.line);
        let done = match &s.step {
            Ok(step) => run_step(&mut bench, step),
            Err(e) => Err(RunError::InvalidStep(e.clone())),
        };
        status = match done {
            Ok(()) => continue,
            Err(RunError::NotOnThisBench(why)) => ScenarioStatus::NotRunOnHardware(at(&why)),
            Err(e) => ScenarioStatus::Failed(at(&e)),
        };
        break;
    }
    let now_at = bench.device();
    let press_to_sms = bench.press_to_sms();
    let mut log = bench.take_log();
    if !matches!(status, ScenarioStatus::Passed) {
        log.extend(bench.recorded());
    }
    leave_idle(link, clock, &now_at);
    ScenarioResult {
        location: sc.location.clone(),
        name: sc.name.clone(),
        status,
        log,
        press_to_sms,
    }
}

/// Disconnect and wait (a little) for it, so the next scenario starts from an idle
/// button.
pub(crate) fn leave_idle<L: RigLink, C: Clock>(link: &mut L, clock: &mut C, device: &DeviceId) {
    let tick = Duration::from_millis(20);
    let _ = link.stop_scan();
    let _ = link.disconnect(device);
    for _ in 0..100 {
        let mut gone = false;
        while let Some(ev) = link.poll_event() {
            gone |= ev == GattEvent::Disconnected(device.clone());
        }
        if gone {
            return;
        }
        link.pump(tick);
        clock.pumped(tick);
    }
}
