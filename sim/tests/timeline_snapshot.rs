//! Snapshot of one scenario's event timeline: a single press with two contacts, seed 1.
//! Any change in what the button, link, phone or platform do shows up here
//! (`cargo insta review` to accept an intended change).

use phone::Contact;
use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};

#[test]
fn single_press_timeline() {
    let setup = Setup {
        seed: 1,
        contacts: vec![
            Contact::new("Alice", "+33611111111").expect("valid"),
            Contact::new("Bob", "+33622222222").expect("valid"),
        ],
        fix: Some((48.8566, 2.3522)),
        ..Setup::default()
    };
    let mut sim = Simulation::new(setup).expect("sim");
    let (edges, last) = sim.hand.presses(SECOND, 1);
    for (t, down) in edges {
        sim.edge_at(t, down);
    }
    sim.run_until(last + 5 * SECOND);
    insta::assert_snapshot!(sim.timeline.render());
}
