//! The GATT-client port's conformance suite against a real button through btleplug
//! (only with the `hil` feature and `HIL_DEVICE=ADDR` set:
//! `HIL_DEVICE=AA:BB:CC:DD:EE:FF cargo test -p sim-rig --features hil --test conformance
//! -- --nocapture`; `HIL_KEY` is the bond key, 32 hex digits). The same suite runs on every build against the virtual central
//! (`sim/world/tests/conformance.rs`).

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
    use sim_world::conformance::{report, run_suite};

    let adapter = std::env::var("HIL_ADAPTER").ok();
    let mut client = match sim_rig::hil::BtleClient::on_adapter(adapter.as_deref()) {
        Ok(c) => c,
        Err(e) => panic!("HIL_DEVICE={addr} but no usable adapter: {e}"),
    };
    // The button advertises rotating private addresses: the suite finds it by its key.
    println!("looking for the button bonded with HIL_KEY (first seen at {addr})");
    let key = std::env::var("HIL_KEY").unwrap_or_default();
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        let hex = key.get(2 * i..2 * i + 2).unwrap_or("00");
        *b = u8::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("HIL_KEY: {e}"));
    }
    let results = run_suite(&mut client, protocol::BondKey(bytes), &mut |c, d| c.pump(d));
    let text = report(&results);
    println!("{text}");
    assert!(results.iter().all(|r| r.passed()), "{text}");
}

#[cfg(not(feature = "hil"))]
fn hardware(addr: &str) {
    println!("HIL_DEVICE={addr} set but the `hil` feature is off: hardware run skipped");
}
