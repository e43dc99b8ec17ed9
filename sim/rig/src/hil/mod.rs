//! Hardware in the loop (cargo feature `hil`): the same phone-side logic against a real
//! button over a real Bluetooth adapter.
//!
//! - [`client`]: [`BtleClient`], the btleplug implementation of the GATT-client port
//!   (and of [`RigLink`]);
//! - [`scan`]: list the buttons in range (`sim hil scan`);
//! - [`run()`]: run the `@hil` scenarios of feature files in real time against one button
//!   (`sim hil run PATHS --device ADDR`): the generic rig runner ([`crate::rig`]) on
//!   this client and the wall clock;
//! - [`serve()`] and [`serve::BluezPeripheral`]: the simulated button published through
//!   BlueZ (`sim hil serve`), the other half of a rig.
//!
//! None of this has been run against real hardware by its authors: it is built and
//! linted in CI, and the port it implements is checked by the conformance suite against
//! the simulator only. See `docs/hil.md`.

pub mod client;
pub mod serve;

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
pub fn run(
    paths: &[String],
    device: &str,
    adapter: Option<&str>,
    opts: &HilOptions,
) -> Result<HilReport, HilError> {
    let planned = crate::rig::plan(paths)?;
    if planned.is_empty() {
        return Err(HilError::Usage(format!(
            "no scenario tagged @hil under {}",
            paths.join(" ")
        )));
    }
    let mut client = BtleClient::on_adapter(adapter)?;
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
pub fn scan(seconds: u64, adapter: Option<&str>) -> Result<Vec<ScanRow>, HilError> {
    let (rt, adapter) = client::open_adapter(adapter)?;
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

/// How `sim hil serve` is set up.
#[derive(Debug)]
pub struct ServeConfig {
    /// The adapter to publish on, by address (the first one when `None`).
    pub adapter: Option<String>,
    /// The button, its bond, its trace.
    pub button: crate::serve::ServeOptions,
    /// Where control commands come from: a Unix socket, else standard input.
    pub control_socket: Option<std::path::PathBuf>,
}

/// What a serve run did.
#[derive(Debug)]
pub struct ServeSummary {
    /// The adapter's address.
    pub address: String,
    /// How late the paced events fired.
    pub lateness: sim_world::sched::Lateness,
    /// Counts.
    pub stats: crate::serve::ServeStats,
    /// Indications per second of the last `burst` delivered (each acknowledged).
    pub burst_rate: Option<f64>,
}

/// Serve the simulated button on an adapter until `quit`, a signal, or an unreadable
/// trace. Errors in one line: no adapter, registration refused, the trace's place.
pub fn serve(cfg: ServeConfig) -> Result<ServeSummary, HilError> {
    use crate::serve::{channel, ButtonHost};
    let (tx, rx) = std::sync::mpsc::channel();
    let test_service = cfg.button.profile.test_service;
    let firmware = format!("{} {}", cfg.button.profile.name, env!("CARGO_PKG_VERSION"));
    let key = cfg.button.key;
    let mut port =
        serve::BluezPeripheral::start(cfg.adapter.as_deref(), test_service, &firmware, tx.clone())?;
    let irk = key.keys().irk;
    let resolves = protocol::Address::parse(&port.address).is_ok_and(|a| a.resolves_with(&irk));
    eprintln!(
        "serving the simulated button on adapter {}{}",
        port.address,
        if test_service { " (test firmware)" } else { "" }
    );
    if !resolves {
        eprintln!(
            "warning: {} does not resolve with the bond's key: the product's app will not connect \
             to it (it connects only to its button's private addresses; e.g. {})",
            port.address,
            crate::serve::bond_address(&key, [0x12, 0x34, 0x56])
        );
    }
    match &cfg.control_socket {
        Some(p) => {
            channel::spawn_socket(p, tx)
                .map_err(|e| HilError::Usage(format!("control socket {}: {e}", p.display())))?;
            eprintln!("control commands on {}", p.display());
        }
        None => channel::spawn_stdin(tx),
    }
    let mut host = ButtonHost::new(cfg.button);
    let mut wall = channel::InboxWall::new(rx);
    let done = host.serve(&mut port, &mut wall);
    let summary = ServeSummary {
        address: port.address.clone(),
        lateness: host.lateness.clone(),
        stats: host.stats,
        burst_rate: host.burst_rate,
    };
    port.shutdown();
    done.map_err(|e| HilError::Usage(e.to_string()))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_adapter_is_one_clear_line() {
        // On a machine without a system bus or BlueZ (CI), the error names what is missing.
        if let Err(e) = BtleClient::on_adapter(None) {
            let s = e.to_string();
            println!("{s}");
            assert!(s.starts_with("no Bluetooth adapter: "), "{s}");
            assert!(!s.contains('\n'));
        }
    }
}
