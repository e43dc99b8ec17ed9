//! The GATT-client port's conformance suite, against the simulator's virtual central
//! (always) and against a real button through btleplug (only with the `hil` feature and
//! `HIL_DEVICE=ADDR` set: `HIL_DEVICE=AA:BB:CC:DD:EE:FF cargo test -p sim --features hil
//! --test conformance -- --nocapture`).

use protocol::BondKey;
use sim::conformance::{report, run_suite, Outcome, CHECKS};
use sim::virtual_client::VirtualGattClient;

#[test]
fn virtual_client_conforms() {
    for seed in [1, 2, 3] {
        let mut client = VirtualGattClient::new(BondKey([7; 16]), seed);
        let device = client.device().clone();
        let results = run_suite(&mut client, &device, &mut |c, d| c.pump(d));
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
    let profile = device_model::DeviceProfile {
        test_service: false,
        ..Default::default()
    };
    let mut client = VirtualGattClient::with_profile(
        profile,
        sim::link::LinkParams::default(),
        BondKey([7; 16]),
        1,
    );
    let device = client.device().clone();
    let results = run_suite(&mut client, &device, &mut |c, d| c.pump(d));
    let r = results
        .iter()
        .find(|r| r.name == "indications in order, acknowledged")
        .expect("the indication check is reported");
    assert_eq!(r.outcome, Outcome::Fail, "{}", report(&results));
}

#[test]
fn hardware_client_conforms() {
    let Ok(addr) = std::env::var("HIL_DEVICE") else {
        println!("HIL_DEVICE not set: hardware conformance run skipped");
        return;
    };
    hardware(&addr);
}

#[cfg(feature = "hil")]
fn hardware(addr: &str) {
    let mut client = match sim::hil::BtleClient::new() {
        Ok(c) => c,
        Err(e) => panic!("HIL_DEVICE={addr} but no usable adapter: {e}"),
    };
    let device = phone::DeviceId(addr.to_string());
    let results = run_suite(&mut client, &device, &mut |c, d| c.pump(d));
    let text = report(&results);
    println!("{text}");
    assert!(results.iter().all(|r| r.passed()), "{text}");
}

#[cfg(not(feature = "hil"))]
fn hardware(addr: &str) {
    println!("HIL_DEVICE={addr} set but the `hil` feature is off: hardware run skipped");
}
