//! Bond hijack, impostor, listener and app-reinstall steps (SPEC §3 "Security"): the
//! attacker tries to bond without the wearer's physical action, an impostor takes over
//! the button's address, a listener records the air (`the attacker cannot tell what the
//! wearer did`, `the button has advertised at least {n} different addresses`), and the
//! phone app is reinstalled or restored from a backup before a replay.
//!
//! On the simulator they drive the `Simulation`'s verbs; a rig answers `NotOnThisBench`.

use super::typed::{Check, When};
use super::{AlarmWorld, Args, StepDef};
use sim_world::attacker;

type Built = Result<When, String>;
type Checked = Result<Check, String>;
type StepOk = Result<(), String>;

/// The steps.
pub const STEPS: &[StepDef] = &[
    step!(
        When,
        "attacks",
        "the button is reset to its factory state",
        "the button is reset to its factory state",
        |_| -> Built { Ok(When::FactoryReset) }
    ),
    step!(
        When,
        "attacks",
        "the attacker tries to bond with the button",
        "the attacker tries to bond with the button",
        |_| -> Built { Ok(When::AttackerTriesToBond) }
    ),
    step!(
        When,
        "attacks",
        "the wearer pairs the button with the phone",
        "the wearer pairs the button with the phone",
        |_| -> Built { Ok(When::WearerPairs) }
    ),
    step!(
        When,
        "attacks",
        "an impostor takes over the button's address",
        "an impostor takes over the button's address",
        |_| -> Built { Ok(When::ImpostorTakesOver) }
    ),
    step!(
        When,
        "attacks",
        "an attacker listens on the air",
        "an attacker listens on the air",
        |_| -> Built { Ok(When::AttackerListens) }
    ),
    step!(
        When,
        "attacks",
        "the phone app is reinstalled",
        "the phone app is reinstalled",
        |_| -> Built { Ok(When::AppReinstalled) }
    ),
    step!(
        When,
        "attacks",
        "a backup of the phone app is taken",
        "a backup of the phone app is taken",
        |_| -> Built { Ok(When::BackupTaken) }
    ),
    step!(
        When,
        "attacks",
        "the phone app is restored from the backup",
        "the phone app is restored from the backup",
        |_| -> Built { Ok(When::BackupRestored) }
    ),
    step!(
        Then,
        "attacks",
        "the attacker cannot tell what the wearer did",
        "the attacker cannot tell what the wearer did",
        |_| -> Checked { Ok(Check::AttackerLearnsNothing) }
    ),
    step!(
        Then,
        "attacks",
        "the button has advertised at least {n} different addresses",
        "the button has advertised at least 4 different addresses",
        |a: &Args| -> Checked { Ok(Check::AdvertisedAddresses(a.int(0, 1, 1_000_000)? as usize)) }
    ),
    step!(
        Then,
        "attacks",
        "the phone has not warned the wearer that the button battery is low",
        "the phone has not warned the wearer that the button battery is low",
        |_| -> Checked { Ok(Check::NoBatteryWarning) }
    ),
];

/// On the simulator: the button's bond is erased and it reboots.
pub(super) fn factory_reset(w: &mut AlarmWorld) -> StepOk {
    w.sim()?.factory_reset_button();
    w.when_done();
    Ok(())
}

/// On the simulator: a pairing request with the attacker's own key; if the button
/// answers, the confirmation of that pairing.
pub(super) fn try_to_bond(w: &mut AlarmWorld) -> StepOk {
    let sim = w.sim()?;
    if !sim.attacker_connected() {
        return Err(
            "the attacker is not connected (add \"When an attacker connects to the button\")"
                .into(),
        );
    }
    sim.attack_note("the attacker tries to bond with the button".into());
    let own = protocol::PairingKeyPair::from_entropy(sim.attacker_entropy());
    let mut step = |list: Vec<attacker::AttackWrite>| -> StepOk {
        sim.attacker_writes(list).map_err(|e| e.to_string())?;
        let deadline = sim.now() + 10 * crate::sched::SECOND;
        sim.run_attacker(deadline);
        Ok(())
    };
    step(vec![attacker::pair_request(&own)])?;
    if let Some(confirm) = attacker::pair_confirm(&own, sim.attacker_heard()) {
        sim.attacker_writes(vec![confirm])
            .map_err(|e| e.to_string())?;
        let deadline = sim.now() + 10 * crate::sched::SECOND;
        sim.run_attacker(deadline);
    }
    w.when_done();
    Ok(())
}

/// On the simulator: the physical pairing action, then pairing over the air.
pub(super) fn wearer_pairs(w: &mut AlarmWorld) -> StepOk {
    w.sim()?.wearer_pairs().map_err(|e| e.to_string())?;
    w.when_done();
    Ok(())
}

/// On the simulator: the impostor takes over (no time passes).
pub(super) fn impostor(w: &mut AlarmWorld) -> StepOk {
    w.sim()?
        .impostor_take_over()
        .map_err(|e| format!("no impostor: {e} (the button is off)"))?;
    w.when_done();
    Ok(())
}

/// On the simulator: the sniffer starts (no time passes).
pub(super) fn listen(w: &mut AlarmWorld) -> StepOk {
    let sim = w.sim()?;
    sim.attack_note("an attacker listens on the air".into());
    sim.sniffer_start();
    w.when_done();
    Ok(())
}

/// On the simulator: the app loses its durable state, restarts, and the wearer pairs.
pub(super) fn reinstall(w: &mut AlarmWorld) -> StepOk {
    w.sim()?.reinstall_app().map_err(|e| e.to_string())?;
    w.when_done();
    Ok(())
}

/// On the simulator: a copy of the app's durable state (no time passes).
pub(super) fn backup(w: &mut AlarmWorld) -> StepOk {
    w.sim()?.backup_app();
    w.when_done();
    Ok(())
}

/// On the simulator: the backup replaces the app's durable state; the app restarts.
pub(super) fn restore(w: &mut AlarmWorld) -> StepOk {
    if !w.sim()?.restore_app() {
        return Err("no backup was taken (add \"When a backup of the phone app is taken\")".into());
    }
    w.when_done();
    Ok(())
}
