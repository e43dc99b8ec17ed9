//! The GATT-client port's conformance suite against the virtual central: the same air
//! the features run over (`sim_world::air`). The same suite runs against a real button
//! in `sim/rig/tests/conformance.rs`.

use protocol::BondKey;
use sim_world::conformance::{report, run_suite, Outcome, CHECKS};
use sim_world::virtual_client::VirtualGattClient;

#[test]
fn virtual_client_conforms() {
    for seed in [1, 2, 3] {
        let mut client = VirtualGattClient::new(BondKey([7; 16]), seed);
        let results = run_suite(&mut client, BondKey([7; 16]), &mut |c, d| c.pump(d));
        let text = report(&results);
        println!("seed {seed}:\n{text}");
        assert_eq!(results.len(), CHECKS.len(), "{text}");
        assert!(
            results.iter().all(|r| r.outcome == Outcome::Pass),
            "seed {seed}:\n{text}"
        );
        assert!(!client.button().is_connected());
        assert!(
            client.button().flash().queue.is_empty(),
            "every event acked"
        );
    }
}

#[test]
fn virtual_client_suite_fails_honestly_without_test_service() {
    // The product's default profile has no test service.
    let profile = device_model::DeviceProfile::default();
    let mut client = VirtualGattClient::with_profile(
        profile,
        sim_world::link::LinkParams::default(),
        BondKey([7; 16]),
        1,
    );
    let results = run_suite(&mut client, BondKey([7; 16]), &mut |c, d| c.pump(d));
    let r = results
        .iter()
        .find(|r| r.name == "indications in order, acknowledged")
        .expect("the indication check is reported");
    assert_eq!(r.outcome, Outcome::Fail, "{}", report(&results));
}
