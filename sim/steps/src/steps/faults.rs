//! Faults and outside actions: the link lost, Bluetooth off and on, app restarts, button
//! resets, the network and GPS, the wearer cancelling on the phone, and attackers.

use std::time::Duration;

use phone::GattEvent;
use protocol::gatt::EVENT_CHAR;
use protocol::{BondKey, EventFrame, EventKind, Session};

use super::sim_bench::micros;
use super::typed::When;
use super::{AlarmWorld, Args, StepDef};
use crate::sched::{Micros, SECOND};
use crate::simulation::STRANGER_ADDR;
use crate::timeline::Layer;

type Built = Result<When, String>;

/// The fault steps.
pub const STEPS: &[StepDef] = &[
    step!(
        When,
        "faults",
        "the BLE link is lost for {n} s",
        "the BLE link is lost for 90 s",
        |a: &Args| -> Built {
            Ok(When::LinkLost(a.duration(
                0,
                1.0,
                30.0 * 86_400.0,
                "an outage of 0 to 2592000 s",
            )?))
        }
    ),
    step!(
        When,
        "faults",
        "Bluetooth is turned off on the phone",
        "Bluetooth is turned off on the phone",
        |_| -> Built { Ok(When::Bluetooth { on: false }) }
    ),
    step!(
        When,
        "faults",
        "Bluetooth is turned on on the phone",
        "Bluetooth is turned on on the phone",
        |_| -> Built { Ok(When::Bluetooth { on: true }) }
    ),
    step!(
        When,
        "faults",
        "the phone app restarts",
        "the phone app restarts",
        |_| -> Built { Ok(When::AppRestarts) }
    ),
    step!(
        When,
        "faults",
        "the phone app crashes after sending {n} SMS",
        "the phone app crashes after sending 1 SMS",
        |a: &Args| -> Built {
            let n = a.int(0, 1, 1000)?;
            Ok(When::AppCrashesAfterSms(n as u32))
        }
    ),
    step!(
        When,
        "faults",
        "the phone app crashes while saving",
        "the phone app crashes while saving",
        |_| -> Built { Ok(When::AppCrashesWhileSaving) }
    ),
    step!(
        When,
        "faults",
        "the button resets",
        "the button resets",
        |_| -> Built { Ok(When::ButtonResets) }
    ),
    step!(
        When,
        "faults",
        "the phone regains cellular network",
        "the phone regains cellular network",
        |_| -> Built { Ok(When::NetworkBack) }
    ),
    step!(
        When,
        "faults",
        "the phone gets a location fix at {n}, {n}",
        "the phone gets a location fix at 48.8566, 2.3522",
        |a: &Args| -> Built {
            let (lat, lon) = a.lat_lon(0)?;
            Ok(When::LocationFix { lat, lon })
        }
    ),
    step!(
        When,
        "faults",
        "the wearer cancels on the phone",
        "the wearer cancels on the phone",
        |_| -> Built { Ok(When::CancelOnPhone) }
    ),
    step!(
        When,
        "faults",
        "an unpaired button sends a press",
        "an unpaired button sends a press",
        |_| -> Built { Ok(When::StrangerPress) }
    ),
    step!(
        When,
        "faults",
        "an attacker replays the last alert event",
        "an attacker replays the last alert event",
        |_| -> Built { Ok(When::ReplayLastEvent) }
    ),
    step!(
        When,
        "faults",
        "an attacker sends a tampered alert event",
        "an attacker sends a tampered alert event",
        |_| -> Built { Ok(When::TamperedEvent) }
    ),
];

/// On the simulator: perform `f` (no time passes).
pub(super) fn act(
    w: &mut AlarmWorld,
    f: fn(&mut crate::simulation::Simulation),
) -> Result<(), String> {
    act_for(w, f, 0)
}

/// How long a crash step waits for the SMS or the write it crashes at.
pub(super) const CRASH_WAIT_US: Micros = 600 * SECOND;

/// On the simulator: arm `plan`, let time run until the app is killed by it (at most
/// [`CRASH_WAIT_US`]), then the 2 s of its restart.
pub(super) fn crash(
    w: &mut AlarmWorld,
    plan: crate::simulation::CrashPlan,
    what: &str,
) -> Result<(), String> {
    let sim = w.sim()?;
    sim.arm_crash(plan);
    let deadline = sim.now() + CRASH_WAIT_US;
    let fired = sim.run_until_cond(deadline, &|s| !s.crash_armed());
    if !fired {
        sim.disarm_crash();
        w.when_done();
        return Err(format!(
            "the phone app never got to {what} within {} s: no crash",
            CRASH_WAIT_US / SECOND
        ));
    }
    let now = sim.now();
    sim.run_until(now + crate::simulation::APP_RESTART_US);
    w.when_done();
    Ok(())
}

/// Perform `f`, then let the time it takes (a reboot, an app start) pass.
pub(super) fn act_for(
    w: &mut AlarmWorld,
    f: fn(&mut crate::simulation::Simulation),
    takes: Micros,
) -> Result<(), String> {
    let sim = w.sim()?;
    f(sim);
    let now = sim.now();
    sim.run_until(now + takes);
    w.when_done();
    Ok(())
}

/// On the simulator: the link goes down now for `d` (no time passes).
pub(super) fn outage(w: &mut AlarmWorld, d: Duration) -> Result<(), String> {
    let sim = w.sim()?;
    sim.outage(micros(d));
    w.when_done();
    Ok(())
}

/// On the simulator: Bluetooth on the phone on or off.
pub(super) fn bt(w: &mut AlarmWorld, on: bool) -> Result<(), String> {
    let sim = w.sim()?;
    sim.phone_bluetooth(on);
    let now = sim.now();
    sim.run_until(now);
    w.when_done();
    Ok(())
}

/// On the simulator: the phone gets a location fix.
pub(super) fn fix(w: &mut AlarmWorld, lat: f64, lon: f64) -> Result<(), String> {
    let sim = w.sim()?;
    sim.gps_fix(lat, lon);
    let now = sim.now();
    sim.run_until(now);
    w.when_done();
    Ok(())
}

fn inject(
    w: &mut AlarmWorld,
    device: phone::DeviceId,
    value: Vec<u8>,
    what: &str,
) -> Result<(), String> {
    let sim = w.sim()?;
    let what = crate::observed::Observed::Attack(what.to_string());
    sim.timeline.push(sim.now(), Layer::Harness, what);
    sim.inject_to_phone(GattEvent::Value {
        device,
        char: EVENT_CHAR,
        value,
    });
    let now = sim.now();
    sim.run_until(now);
    w.when_done();
    Ok(())
}

/// A press sealed (protocol version 2) by a device holding another key, in a session of
/// its own making: what an unpaired button or a forger can put on the air.
fn forged_press(sim: &mut crate::simulation::Simulation, seq: u32) -> Result<Vec<u8>, String> {
    let keys = BondKey(sim.random_key()).keys();
    let (session, _) = Session::begin(&keys, 1, [0; 8]);
    let frame = EventFrame {
        kind: EventKind::Single,
        flags: 1,
        seq,
        time_ms: sim.utc_us() / 1000,
        payload: Default::default(),
    };
    session
        .seal(&keys, 0, &frame)
        .map(|m| m.encode())
        .map_err(|e| e.to_string())
}

/// On the simulator: an unpaired button sends a press.
pub(super) fn stranger(w: &mut AlarmWorld) -> Result<(), String> {
    let bytes = forged_press(w.sim()?, 1)?;
    inject(
        w,
        phone::DeviceId(STRANGER_ADDR.into()),
        bytes,
        "an unpaired button sends a press",
    )
}

/// Let the button get its alert across first: an attacker replays what it saw on air.
fn captured(w: &mut AlarmWorld) -> Result<Vec<u8>, String> {
    let sim = w.sim()?;
    let deadline = sim.now() + 120 * SECOND;
    sim.run_until_cond(deadline, &|s| {
        s.captured_event().is_some() && s.button().is_some_and(|b| b.flash().queue.is_empty())
    });
    sim.captured_event()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "no alert event has gone over the air yet".to_string())
}

/// On the simulator: an attacker replays the last alert event it saw on air.
pub(super) fn replay(w: &mut AlarmWorld) -> Result<(), String> {
    let bytes = captured(w)?;
    let dev = w.sim()?.button_addr().clone();
    inject(w, dev, bytes, "an attacker replays the last alert event")
}

/// On the simulator: an attacker sends a tampered alert event (a byte of the last sealed
/// frame changed; a forged one when none went out yet), as from the button's address.
pub(super) fn tamper(w: &mut AlarmWorld) -> Result<(), String> {
    let sim = w.sim()?;
    let mut bytes = match sim.captured_event() {
        Some(b) => b.to_vec(),
        None => forged_press(sim, 1_000)?,
    };
    // Flip a bit of the ciphertext: the frame no longer authenticates.
    if let Some(b) = bytes.get_mut(8) {
        *b ^= 0x40;
    }
    let dev = sim.button_addr().clone();
    inject(w, dev, bytes, "an attacker sends a tampered alert event")
}
