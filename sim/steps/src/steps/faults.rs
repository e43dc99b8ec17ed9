//! Faults and outside actions: the link lost, Bluetooth off and on, app restarts, button
//! resets, the network and GPS, the wearer cancelling on the phone, and attackers.

use phone::GattEvent;
use protocol::gatt::EVENT_CHAR;
use protocol::{BondKey, EventFrame, EventKind};

use super::{AlarmWorld, Args, Kind, StepDef};
use crate::sched::{Micros, SECOND};
use crate::simulation::{APP_RESTART_US, BOOT_US, STRANGER_ADDR};
use crate::timeline::Layer;

macro_rules! when {
    ($pat:expr, $ex:expr, $f:expr) => {
        StepDef {
            kind: Kind::When,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: "faults",
            run: $f,
        }
    };
}

/// The fault steps.
pub const STEPS: &[StepDef] = &[
    when!(
        "the BLE link is lost for {n} s",
        "the BLE link is lost for 90 s",
        outage
    ),
    when!(
        "Bluetooth is turned off on the phone",
        "Bluetooth is turned off on the phone",
        |w, _| bt(w, false)
    ),
    when!(
        "Bluetooth is turned on on the phone",
        "Bluetooth is turned on on the phone",
        |w, _| bt(w, true)
    ),
    when!(
        "the phone app restarts",
        "the phone app restarts",
        |w, _| act_for(w, |s| s.restart_app(), APP_RESTART_US)
    ),
    when!("the button resets", "the button resets", |w, _| act_for(
        w,
        |s| s.reset_button(),
        BOOT_US
    )),
    when!(
        "the phone regains cellular network",
        "the phone regains cellular network",
        |w, _| act(w, |s| s.set_network(true))
    ),
    when!(
        "the phone gets a location fix at {n}, {n}",
        "the phone gets a location fix at 48.8566, 2.3522",
        fix
    ),
    when!(
        "the wearer cancels on the phone",
        "the wearer cancels on the phone",
        |w, _| act(w, |s| s.user_cancel())
    ),
    when!(
        "an unpaired button sends a press",
        "an unpaired button sends a press",
        stranger
    ),
    when!(
        "an attacker replays the last alert event",
        "an attacker replays the last alert event",
        replay
    ),
    when!(
        "an attacker sends a tampered alert event",
        "an attacker sends a tampered alert event",
        tamper
    ),
];

fn act(w: &mut AlarmWorld, f: fn(&mut crate::simulation::Simulation)) -> Result<(), String> {
    act_for(w, f, 0)
}

/// Perform `f`, then let the time it takes (a reboot, an app start) pass.
fn act_for(
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

fn outage(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let s = a.num(0)?;
    if !(0.0..=30.0 * 86_400.0).contains(&s) {
        return Err(format!("expected an outage of 0 to 2592000 s, got {s}"));
    }
    let sim = w.sim()?;
    sim.outage((s * SECOND as f64).round() as Micros);
    w.when_done();
    Ok(())
}

fn bt(w: &mut AlarmWorld, on: bool) -> Result<(), String> {
    let sim = w.sim()?;
    sim.phone_bluetooth(on);
    let now = sim.now();
    sim.run_until(now);
    w.when_done();
    Ok(())
}

fn fix(w: &mut AlarmWorld, a: &Args) -> Result<(), String> {
    let (lat, lon) = (a.num(0)?, a.num(1)?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "expected latitude in -90..90 and longitude in -180..180, got {lat}, {lon}"
        ));
    }
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

fn stranger(w: &mut AlarmWorld, _: &Args) -> Result<(), String> {
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

fn replay(w: &mut AlarmWorld, _: &Args) -> Result<(), String> {
    let bytes = captured(w)?;
    let dev = w.sim()?.button_addr().clone();
    inject(w, dev, bytes, "an attacker replays the last alert event")
}

fn tamper(w: &mut AlarmWorld, _: &Args) -> Result<(), String> {
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
