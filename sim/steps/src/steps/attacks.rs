//! Attacker steps (SPEC §4): a second central in range, without the key, connects to the
//! button (jamming the phone's connection), writes what it can build — acknowledgements,
//! clock settings, vibrations, test-service clicks — and disconnects; a sniffer listens
//! to a pairing over the air and the attacker forges a press from what it heard. The
//! checks `the button has rejected {n} commands` and `the button has vibrated {n} times`.
//!
//! On the simulator they drive [`crate::attacker`] through the `Simulation`'s attacker
//! verbs; a rig has no attacker radio and answers `NotOnThisBench`.

use protocol::VibrationPattern;

use super::typed::{Check, When};
use super::{AlarmWorld, Args, StepDef};
use crate::sched::{MILLI, SECOND};
use sim_world::attacker::{self, AttackWrite};

type Built = Result<When, String>;

/// The attacker's steps.
pub const STEPS: &[StepDef] = &[
    step!(
        When,
        "attacks",
        "an attacker connects to the button",
        "an attacker connects to the button",
        |_| -> Built { Ok(When::AttackerConnects) }
    ),
    step!(
        When,
        "attacks",
        "the attacker disconnects",
        "the attacker disconnects",
        |_| -> Built { Ok(When::AttackerDisconnects) }
    ),
    step!(
        When,
        "attacks",
        "the attacker acknowledges every queued event",
        "the attacker acknowledges every queued event",
        |_| -> Built { Ok(When::AttackerAcksAll) }
    ),
    step!(
        When,
        "attacks",
        "the attacker sets the button's clock to {n}",
        "the attacker sets the button's clock to 0",
        |a: &Args| -> Built { Ok(When::AttackerSetsClock(utc_ms(a)?)) }
    ),
    step!(
        When,
        "attacks",
        "the attacker makes the button vibrate the {text} pattern",
        "the attacker makes the button vibrate the \"sent\" pattern",
        |a: &Args| -> Built {
            Ok(When::AttackerVibrates {
                pattern: pattern(a.text(0)?)?,
                times: 1,
            })
        }
    ),
    step!(
        When,
        "attacks",
        "the attacker makes the button vibrate the {text} pattern {n} times",
        "the attacker makes the button vibrate the \"failed\" pattern 8000 times",
        |a: &Args| -> Built {
            Ok(When::AttackerVibrates {
                pattern: pattern(a.text(0)?)?,
                times: a.int(1, 1, 100_000)? as u32,
            })
        }
    ),
    step!(
        When,
        "attacks",
        "the attacker clicks the button {n} times through the test service",
        "the attacker clicks the button 3 times through the test service",
        |a: &Args| -> Built { Ok(When::AttackerTestClicks(a.int(0, 1, 100)? as u32)) }
    ),
    step!(
        When,
        "attacks",
        "the button and the phone pair over the air while an attacker listens",
        "the button and the phone pair over the air while an attacker listens",
        |_| -> Built { Ok(When::PairWhileListening) }
    ),
    step!(
        When,
        "attacks",
        "the attacker forges a press with what it heard",
        "the attacker forges a press with what it heard",
        |_| -> Built { Ok(When::AttackerForgesPress) }
    ),
    step!(
        Then,
        "attacks",
        "the button has rejected {n} commands",
        "the button has rejected 128 commands",
        |a: &Args| -> Result<Check, String> {
            Ok(Check::RejectedCommands(a.int(0, 0, 10_000_000)? as u32))
        }
    ),
    step!(
        Then,
        "attacks",
        "the button has vibrated {n} times",
        "the button has vibrated 0 times",
        |a: &Args| -> Result<Check, String> {
            Ok(Check::VibratedTimes(a.int(0, 0, 10_000_000)? as usize))
        }
    ),
];

/// Milliseconds since 1970 UTC, read exactly (beyond 2^53 too) from the step's text.
fn utc_ms(a: &Args) -> Result<u64, String> {
    let t = a.text(0)?;
    t.parse::<u64>().map_err(|_| {
        format!(
            "expected milliseconds since 1970 from 0 to {}, found {t}",
            u64::MAX
        )
    })
}

fn pattern(name: &str) -> Result<VibrationPattern, String> {
    VibrationPattern::from_name(name).ok_or_else(|| {
        format!(
            "unknown vibration pattern {name:?}: expected \"sent\", \"failed\" or \"countdown\""
        )
    })
}

/// On the simulator: the attacker connects to the button (no time passes).
pub(super) fn connect(w: &mut AlarmWorld) -> Result<(), String> {
    let sim = w.sim()?;
    sim.attacker_connect()
        .map_err(|e| format!("the attacker cannot connect: {e} (the button is off)"))?;
    w.when_done();
    Ok(())
}

/// On the simulator: the attacker disconnects (no time passes).
pub(super) fn disconnect(w: &mut AlarmWorld) -> Result<(), String> {
    w.sim()?.attacker_disconnect();
    w.when_done();
    Ok(())
}

/// On the simulator: the attacker's writes, one after another, until the last is
/// answered (or its link ends); then `after` more (a click window).
fn writes(w: &mut AlarmWorld, what: String, list: Vec<AttackWrite>, after: u64) -> StepOk {
    let sim = w.sim()?;
    if !sim.attacker_connected() {
        return Err(format!(
            "{what}: the attacker is not connected (add \"When an attacker connects to the button\")"
        ));
    }
    let n = list.len() as u64;
    sim.attack_note(format!("the attacker {what} ({n} writes)"));
    sim.attacker_writes(list)
        .map_err(|e| format!("{what}: {e}"))?;
    // Two connection events per write; a generous bound.
    let deadline = sim.now() + n * SECOND + 10 * SECOND;
    sim.run_attacker(deadline);
    let now = sim.now();
    sim.run_until(now + after);
    w.when_done();
    Ok(())
}

type StepOk = Result<(), String>;

/// On the simulator: `Ack{seq}` for every seq 1..=64, in every form.
pub(super) fn ack_all(w: &mut AlarmWorld) -> StepOk {
    let list = attacker::ack_every_queued();
    writes(w, "acknowledges every queued event".into(), list, 0)
}

/// On the simulator: one clock write.
pub(super) fn set_clock(w: &mut AlarmWorld, utc_ms: u64) -> StepOk {
    let v2 = w.sim()?.button_speaks_v2();
    let list = vec![attacker::set_clock(utc_ms, v2)];
    writes(w, format!("sets the button's clock to {utc_ms}"), list, 0)
}

/// On the simulator: `times` vibrate writes.
pub(super) fn vibrate(w: &mut AlarmWorld, pattern: VibrationPattern, times: u32) -> StepOk {
    let v2 = w.sim()?.button_speaks_v2();
    let list = vec![attacker::vibrate(pattern, v2); times as usize];
    let what = format!("makes the button vibrate the {:?} pattern", pattern.name());
    writes(w, what, list, 0)
}

/// On the simulator: clicks through the test service, then the click window.
pub(super) fn test_clicks(w: &mut AlarmWorld, clicks: u32) -> StepOk {
    let list = attacker::test_clicks(clicks);
    let what = format!("clicks the button {clicks} times through the test service");
    let window = 400 * MILLI;
    writes(w, what, list, window)
}

/// On the simulator: the sniffer listens while the button and the phone pair over the
/// air (factory reset, the wearer's pairing action, X25519, codes compared, reconnect).
pub(super) fn pair_while_listening(w: &mut AlarmWorld) -> StepOk {
    let sim = w.sim()?;
    sim.sniffer_start();
    sim.pair_over_air().map_err(|e| e.to_string())?;
    w.when_done();
    Ok(())
}

/// On the simulator: the attacker forges a press from what it heard and sends it.
pub(super) fn forge(w: &mut AlarmWorld) -> StepOk {
    let sim = w.sim()?;
    sim.attacker_forge_press();
    let now = sim.now();
    sim.run_until(now);
    w.when_done();
    Ok(())
}
