//! Real recordings through the whole stack: a SisFall fall replayed as worn at the waist
//! reaches the phone as a fall and ends in the "Fall detected" SMS; a daily activity
//! raises nothing. Reads `../shared/data/sisfall-dev` (or `SISFALL_DIR`); skips with a
//! notice where the data is absent.

use std::path::PathBuf;

use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SISFALL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/data/sisfall-dev"
            ))
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: SisFall data not found at {} (set SISFALL_DIR); test skipped",
            dir.display()
        );
        None
    }
}

fn replay(path: &std::path::Path) -> Simulation {
    let mut sim = Simulation::new(Setup {
        seed: 5,
        ..Setup::default()
    })
    .expect("sim");
    sim.start_replay(path).expect("open");
    let far = sim.now() + 3_600 * SECOND;
    sim.run_until_cond(far, &|s| !s.replay_active());
    assert!(sim.replay_error.is_none(), "{:?}", sim.replay_error);
    sim.advance(60 * SECOND);
    sim
}

#[test]
fn a_real_fall_ends_in_the_fall_sms_and_a_real_walk_in_nothing() {
    let Some(dir) = data_dir() else { return };
    let fall = replay(&dir.join("SA01/F01_SA01_R01.txt"));
    assert!(
        fall.durable().events.values().any(|e| e.kind == "fall"),
        "{}",
        fall.timeline.render()
    );
    assert!(
        fall.platform
            .sms_delivered
            .iter()
            .any(|m| m.text.contains("Fall detected")),
        "{}",
        fall.timeline.render()
    );
    let walk = replay(&dir.join("SA01/D01_SA01_R01.txt"));
    assert!(
        walk.platform.sms_sent.is_empty() && walk.platform.countdowns_started == 0,
        "{}",
        walk.timeline.render()
    );
}
