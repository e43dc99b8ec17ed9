//! Idle heartbeats taken in bulk (`Simulation::fast_forward`) change nothing: whole
//! worlds run both ways give the same timeline, the same button and the same phone.
//! (The bundled suite is compared the same way by `sim run --check-determinism`, whose
//! second run takes every frame the full path.)

use sim::fleet::{wearer_world, FallTrace};
use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};

/// What must not differ between the two paths.
fn state(sim: &Simulation) -> String {
    let now = sim.now();
    let button = sim.button().map(|b| {
        let cell = b.battery();
        format!(
            "level {} soc {} state {:?} radio {:.9} µAh flash {:?} rejected {}",
            b.level(),
            cell.soc_permille(now),
            cell.state(),
            cell.consumed_uah(device_model::power::Consumer::Radio),
            b.flash(),
            b.rejected_commands()
        )
    });
    format!(
        "{}\nbutton {button:?}\nphone {:?}\nseries {:?}",
        sim.timeline.render(),
        sim.durable(),
        sim.series.battery
    )
}

#[test]
fn fleet_wearers_are_the_same_in_bulk_and_frame_by_frame() {
    let trace = FallTrace::forward().expect("the fall trace");
    for i in 0..12 {
        let bulk = wearer_world(7, i, 24.0, &trace, true, true).expect("bulk");
        let full = wearer_world(7, i, 24.0, &trace, false, true).expect("full");
        assert_eq!(state(&bulk), state(&full), "wearer {i}");
        assert_eq!(full.bulk_heartbeats(), 0);
        assert!(
            bulk.bulk_heartbeats() > 1_000,
            "wearer {i}: {}",
            bulk.bulk_heartbeats()
        );
    }
}

#[test]
fn idle_weeks_with_a_draining_cell_are_the_same_in_bulk_and_frame_by_frame() {
    let run = |fast_forward: bool| {
        let mut sim = Simulation::new(Setup {
            seed: 3,
            // Just above the first low-battery warning: the levels and the warning
            // fall inside the weeks.
            battery_pct: Some(21.0001),
            fast_forward,
            ..Setup::default()
        })
        .expect("world");
        sim.advance(5 * 86_400 * SECOND);
        sim.outage(90 * SECOND);
        sim.advance(86_400 * SECOND);
        sim.restart_app();
        sim.advance(9 * 86_400 * SECOND);
        sim
    };
    let (bulk, full) = (run(true), run(false));
    assert!(
        full.timeline.render().contains("battery"),
        "the weeks cross a battery level:\n{}",
        full.timeline.render()
    );
    assert_eq!(state(&bulk), state(&full));
    assert!(
        bulk.bulk_heartbeats() > 15_000,
        "{}",
        bulk.bulk_heartbeats()
    );
}
