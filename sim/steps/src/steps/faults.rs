//! Faults and outside actions: the link lost, Bluetooth off and on, app restarts, button
//! resets, the network and GPS, the wearer cancelling on the phone, and attackers.

use std::time::Duration;

use phone::GattEvent;
use protocol::gatt::EVENT_CHAR;
use protocol::{BondKey, EventFrame, EventKind};

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
    sim.timeline
        .push(sim.now(), Layer::Harness, what.to_string());
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

/// On the simulator: an unpaired button sends a press.
pub(super) fn stranger(w: &mut AlarmWorld) -> Result<(), String> {
    let sim = w.sim()?;
    let key = BondKey(sim.random_key());
    let utc_ms = sim.utc_us() / 1000;
    let frame = EventFrame {
        kind: EventKind::Single,
        flags: 1,
        seq: 1,
        time_ms: utc_ms,
        payload: vec![],
    };
    let bytes = frame.seal(&key).map_err(|e| e.to_string())?;
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

/// On the simulator: an attacker sends a tampered alert event.
pub(super) fn tamper(w: &mut AlarmWorld) -> Result<(), String> {
    let sim = w.sim()?;
    let mut bytes = match sim.captured_event() {
        Some(b) => b.to_vec(),
        None => {
            let utc_ms = sim.utc_us() / 1000;
            let frame = EventFrame {
                kind: EventKind::Single,
                flags: 1,
                seq: 1_000,
                time_ms: utc_ms,
                payload: vec![],
            };
            frame
                .seal(&BondKey([0x5a; 16]))
                .map_err(|e| e.to_string())?
        }
    };
    // Turn the event into a double press and bump its sequence number: the tag no
    // longer matches.
    if bytes.len() > 4 {
        bytes[1] = EventKind::Double.code();
        bytes[3] = bytes[3].wrapping_add(100);
    }
    let dev = sim.button_addr().clone();
    inject(w, dev, bytes, "an attacker sends a tampered alert event")
}
