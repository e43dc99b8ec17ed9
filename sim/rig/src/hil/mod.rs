//! Hardware in the loop (cargo feature `hil`): the same phone-side logic against a real
//! button over a real Bluetooth adapter.
//!
//! - [`client`]: [`BtleClient`], the btleplug implementation of the GATT-client port
//!   (and of [`RigLink`]);
//! - [`scan`]: list the buttons in range (`sim hil scan`);
//! - [`run()`]: run the `@hil` scenarios of feature files in real time against one button
//!   (`sim hil run PATHS --device ADDR`): the generic rig runner ([`crate::rig`]) on
//!   this client and the wall clock.
//!
//! None of this has been run against real hardware by its authors: it is built and
//! linted in CI, and the port it implements is checked by the conformance suite against
//! the simulator only. See `docs/hil.md`.

pub mod client;

use std::time::Duration;

use btleplug::api::{Central as _, Peripheral as _, ScanFilter};
use phone::DeviceId;
use protocol::gatt::{ALERT_SERVICE, BATTERY_LEVEL_CHAR};

pub use crate::rig::{HilOptions, HilReport, ScenarioResult, ScenarioStatus};
use crate::rig::{RigLink, WallClock};
pub use crate::HilError;
pub use client::BtleClient;

impl RigLink for BtleClient {
    fn pump(&mut self, d: Duration) {
        BtleClient::pump(self, d);
    }

    fn has_characteristic(&self, device: &DeviceId, char: protocol::Uuid) -> bool {
        BtleClient::has_characteristic(self, device, char)
    }
}

/// Run the `@hil` scenarios (tagged on the scenario, its rule or its feature) of the
/// feature files under `paths` against the button at `device`, one after the other, in
/// real time.
///
/// Errors (one line each) when the features cannot be read, when none is tagged `@hil`,
/// or when there is no usable adapter; scenario failures are in the report.
pub fn run(paths: &[String], device: &str, opts: &HilOptions) -> Result<HilReport, HilError> {
    let planned = crate::rig::plan(paths)?;
    if planned.is_empty() {
        return Err(HilError::Usage(format!(
            "no scenario tagged @hil under {}",
            paths.join(" ")
        )));
    }
    let mut client = BtleClient::new()?;
    let mut clock = WallClock::start();
    let device = DeviceId(device.to_string());
    Ok(crate::rig::run_scenarios(
        &mut client,
        &mut clock,
        &device,
        opts,
        &planned,
    ))
}

/// One device advertising the Alert service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRow {
    /// Address (as BlueZ prints it).
    pub address: String,
    /// Last RSSI (dBm), if reported.
    pub rssi: Option<i16>,
    /// Advertised or GAP name.
    pub name: Option<String>,
    /// Battery level (percent) read from 0x2A19, when a short connection allowed it.
    pub battery_pct: Option<u8>,
}

impl std::fmt::Display for ScanRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rssi = self.rssi.map_or("-".to_string(), |r| format!("{r} dBm"));
        let batt = self
            .battery_pct
            .map_or("-".to_string(), |b| format!("{b}%"));
        write!(
            f,
            "{}  {:>8}  {:>5}  {}",
            self.address,
            rssi,
            batt,
            self.name.as_deref().unwrap_or("-")
        )
    }
}

/// Scan for `seconds` and list the devices advertising the Alert service, sorted by
/// address. Each is then connected for a moment to read its battery level (left `None`
/// when that fails). Errors name what is missing, in one line.
pub fn scan(seconds: u64) -> Result<Vec<ScanRow>, HilError> {
    let (rt, adapter) = client::open_adapter()?;
    rt.block_on(async move {
        let filter = ScanFilter {
            services: vec![client::to_uuid(ALERT_SERVICE)],
        };
        adapter
            .start_scan(filter)
            .await
            .map_err(|e| HilError::Bluetooth(format!("cannot scan: {e}")))?;
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let _ = adapter.stop_scan().await;
        let peripherals = adapter
            .peripherals()
            .await
            .map_err(|e| HilError::Bluetooth(format!("cannot list devices: {e}")))?;
        let mut rows = Vec::new();
        for p in peripherals {
            let Ok(Some(props)) = p.properties().await else {
                continue;
            };
            if !props.services.contains(&client::to_uuid(ALERT_SERVICE)) {
                continue;
            }
            let battery_pct = read_battery(&p).await;
            rows.push(ScanRow {
                address: p.address().to_string(),
                rssi: props.rssi,
                name: props.local_name.or(props.advertisement_name),
                battery_pct,
            });
        }
        rows.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(rows)
    })
}

async fn read_battery(p: &btleplug::platform::Peripheral) -> Option<u8> {
    let was_connected = p.is_connected().await.ok()?;
    let read = async {
        if !was_connected {
            p.connect().await.ok()?;
        }
        p.discover_services().await.ok()?;
        let c = client::characteristic(p, BATTERY_LEVEL_CHAR)?;
        p.read(&c).await.ok()?.first().copied()
    };
    let pct = tokio::time::timeout(client::CONNECT_TIMEOUT, read)
        .await
        .ok()
        .flatten();
    if !was_connected {
        let _ = p.disconnect().await;
    }
    pct
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_adapter_is_one_clear_line() {
        // On a machine without a system bus or BlueZ (CI), the error names what is missing.
        if let Err(e) = BtleClient::new() {
            let s = e.to_string();
            println!("{s}");
            assert!(s.starts_with("no Bluetooth adapter: "), "{s}");
            assert!(!s.contains('\n'));
        }
    }
}
