//! `Simulation::pair_over_air`: a new bond over the air, the old keys gone on both sides.

use sim_world::sched::SECOND;
use sim_world::simulation::{Setup, Simulation};

#[test]
fn pairing_over_the_air_gives_a_new_bond_and_a_session_under_it() {
    let mut sim = Simulation::new(Setup {
        seed: 3,
        ..Setup::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    sim.advance(5 * SECOND);
    let old = sim.durable().bond.as_ref().map(|b| b.key);
    sim.pair_over_air().unwrap_or_else(|e| panic!("{e}"));
    let new = sim.durable().bond.as_ref().map(|b| b.key);
    assert!(new.is_some() && new != old);
    assert_eq!(sim.button().and_then(|b| b.flash().bond).map(|k| k.0), new);
    assert!(sim.phone().is_some_and(|p| p.has_session()));
    sim.advance(300 * SECOND);
    assert!(
        sim.phone().is_some_and(|p| p.has_session()),
        "heartbeats keep it alive"
    );
    assert_eq!(sim.durable().rejected, 0);
    assert_eq!(sim.button_rejected_commands(), 0);
}
