//! [`BtleClient`]: the GATT-client port ([`phone::GattClient`]) over btleplug, for a real
//! Bluetooth adapter (BlueZ over the system D-Bus on Linux).
//!
//! The client owns a tokio runtime (one worker thread). Scanning and subscribing are
//! done synchronously (`block_on`); connections, writes and disconnections are queued to
//! one worker task that performs them in order, so writes reach the button in the order
//! the phone issued them. Everything the adapter reports — advertisements of devices
//! offering the Alert service, connections lost, indications and notifications, write
//! outcomes, the adapter switched off — is sent into a channel that
//! [`GattClient::poll_event`] drains without blocking.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use btleplug::api::{
    Central as _, CentralEvent, CentralState, Characteristic, Manager as _, Peripheral as _,
    ScanFilter, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::StreamExt as _;
use phone::gatt::{DeviceId, GattClient, GattEvent};
use protocol::gatt::ALERT_SERVICE;

use super::HilError;

/// What went wrong on the adapter, for the operator (standard error: a rig run has no
/// log subscriber, and these lines explain its failures).
macro_rules! warn {
    ($($t:tt)*) => { eprintln!("central: {}", format!($($t)*)) };
}

/// How long a connection (with service discovery) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one GATT operation (write, read, subscribe) may take.
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// `protocol::Uuid` → `uuid::Uuid`.
pub fn to_uuid(u: protocol::Uuid) -> uuid::Uuid {
    uuid::Uuid::from_u128(u.0)
}

/// `uuid::Uuid` → `protocol::Uuid`.
pub fn from_uuid(u: uuid::Uuid) -> protocol::Uuid {
    protocol::Uuid(u.as_u128())
}

/// The device id the phone logic uses for a peripheral: its address as BlueZ prints it.
fn device_id(p: &Peripheral) -> DeviceId {
    DeviceId(p.address().to_string())
}

fn same_addr(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

enum Op {
    Connect(DeviceId),
    Write {
        device: DeviceId,
        char: protocol::Uuid,
        value: Vec<u8>,
        id: u64,
    },
    Disconnect(DeviceId),
}

/// Shared between the caller's thread and the runtime's tasks.
struct Shared {
    adapter: Adapter,
    events: mpsc::Sender<GattEvent>,
    scanning: AtomicBool,
    /// Connected peripherals, by address.
    connected: Mutex<BTreeMap<String, Peripheral>>,
    /// The task forwarding each connection's values, by address (upper case).
    forwarders: Mutex<BTreeMap<String, tokio::task::JoinHandle<()>>>,
}

impl Shared {
    fn send(&self, ev: GattEvent) {
        // The receiver lives as long as the client; a send after it is gone is moot.
        let _ = self.events.send(ev);
    }

    async fn find(&self, device: &DeviceId) -> Option<Peripheral> {
        if let Some(p) = self.connected_peripheral(device) {
            return Some(p);
        }
        let all = self.adapter.peripherals().await.ok()?;
        all.into_iter()
            .find(|p| same_addr(&p.address().to_string(), &device.0))
    }

    fn connected_peripheral(&self, device: &DeviceId) -> Option<Peripheral> {
        let map = self.connected.lock().ok()?;
        map.iter()
            .find(|(a, _)| same_addr(a, &device.0))
            .map(|(_, p)| p.clone())
    }

    fn stop_forwarder(&self, device: &DeviceId) {
        if let Some(old) = self
            .forwarders
            .lock()
            .ok()
            .and_then(|mut f| f.remove(&device.0.to_ascii_uppercase()))
        {
            old.abort();
        }
    }

    fn forget(&self, device: &DeviceId) -> bool {
        self.stop_forwarder(device);
        match self.connected.lock() {
            Ok(mut map) => {
                let before = map.len();
                map.retain(|a, _| !same_addr(a, &device.0));
                map.len() != before
            }
            Err(_) => false,
        }
    }

    async fn connect(self: &Arc<Self>, device: DeviceId) {
        let Some(p) = self.find(&device).await else {
            warn!("connect: {device} not known to the adapter (not seen by a scan)");
            self.send(GattEvent::Disconnected(device));
            return;
        };
        let setup = async {
            if !p.is_connected().await? {
                if let Err(e) = p.connect().await {
                    // The connection may be up all the same (another process connected
                    // it, or a mock that fails a reconnection after connecting): go on
                    // only when the stack reports it connected.
                    if !p.is_connected().await.unwrap_or(false) {
                        return Err(e);
                    }
                    warn!("connect to {device} reported an error but the link is up: {e}");
                }
            }
            p.discover_services().await?;
            let notes = p.notifications().await?;
            Ok::<_, btleplug::Error>(notes)
        };
        let notes = match tokio::time::timeout(CONNECT_TIMEOUT, setup).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                warn!("connect to {device} failed: {e}");
                self.send(GattEvent::Disconnected(device));
                return;
            }
            Err(_) => {
                warn!("connect to {device} timed out after {CONNECT_TIMEOUT:?}");
                let _ = p.disconnect().await;
                self.send(GattEvent::Disconnected(device));
                return;
            }
        };
        if let Ok(mut map) = self.connected.lock() {
            map.insert(device.0.clone(), p.clone());
        }
        // Indications and notifications of this connection, until it ends (btleplug's
        // stream of a peripheral outlives a disconnection: the previous connection's
        // forwarder is stopped, or every value would be reported twice).
        let shared = Arc::clone(self);
        let dev = device.clone();
        let forwarder = tokio::spawn(async move {
            let mut notes = notes;
            while let Some(n) = notes.next().await {
                shared.send(GattEvent::Value {
                    device: dev.clone(),
                    char: from_uuid(n.uuid),
                    value: n.value,
                });
            }
        });
        self.stop_forwarder(&device);
        if let Ok(mut f) = self.forwarders.lock() {
            f.insert(device.0.to_ascii_uppercase(), forwarder);
        }
        self.send(GattEvent::Connected(device));
    }

    async fn write(&self, device: DeviceId, char: protocol::Uuid, value: Vec<u8>, id: u64) {
        let ok = match self.connected_peripheral(&device) {
            None => false,
            Some(p) => match characteristic(&p, char) {
                None => {
                    warn!("write {id}: {device} has no characteristic {char}");
                    false
                }
                Some(c) => {
                    let w = p.write(&c, &value, WriteType::WithResponse);
                    match tokio::time::timeout(OP_TIMEOUT, w).await {
                        Ok(Ok(())) => true,
                        Ok(Err(e)) => {
                            warn!("write {id} to {char} failed: {e}");
                            false
                        }
                        Err(_) => {
                            warn!("write {id} to {char} timed out");
                            false
                        }
                    }
                }
            },
        };
        self.send(GattEvent::WriteDone { id, ok });
    }

    async fn disconnect(&self, device: DeviceId) {
        let p = self.connected_peripheral(&device);
        if let Some(p) = p {
            if let Err(e) = p.disconnect().await {
                warn!("disconnect from {device}: {e}");
            }
        }
        // The adapter's DeviceDisconnected event may come too; report once.
        if self.forget(&device) {
            self.send(GattEvent::Disconnected(device));
        }
    }

    async fn on_central_event(&self, ev: CentralEvent) {
        use CentralEvent as E;
        match ev {
            E::DeviceDiscovered(id)
            | E::DeviceUpdated(id)
            | E::ServicesAdvertisement { id, .. }
            | E::ServiceDataAdvertisement { id, .. }
            | E::ManufacturerDataAdvertisement { id, .. }
            | E::RssiUpdate { id, .. } => {
                if !self.scanning.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(p) = self.adapter.peripheral(&id).await else {
                    return;
                };
                let Ok(Some(props)) = p.properties().await else {
                    return;
                };
                if props.services.contains(&to_uuid(ALERT_SERVICE)) {
                    self.send(GattEvent::Discovered {
                        device: device_id(&p),
                        rssi: props.rssi.unwrap_or(i16::MIN),
                    });
                }
            }
            E::DeviceDisconnected(id) => {
                if let Ok(p) = self.adapter.peripheral(&id).await {
                    let device = device_id(&p);
                    if self.forget(&device) {
                        self.send(GattEvent::Disconnected(device));
                    }
                }
            }
            E::StateUpdate(state) => match state {
                CentralState::PoweredOn => self.send(GattEvent::Power(true)),
                CentralState::PoweredOff => self.send(GattEvent::Power(false)),
                _ => {}
            },
            _ => {}
        }
    }
}

/// The characteristic `char` of a connected peripheral (services discovered).
pub(crate) fn characteristic(p: &Peripheral, char: protocol::Uuid) -> Option<Characteristic> {
    let u = to_uuid(char);
    p.characteristics().into_iter().find(|c| c.uuid == u)
}

/// The btleplug-backed BLE central.
pub struct BtleClient {
    rt: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    ops: tokio::sync::mpsc::UnboundedSender<Op>,
    events: mpsc::Receiver<GattEvent>,
}

impl std::fmt::Debug for BtleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BtleClient").finish_non_exhaustive()
    }
}

/// Open the Bluetooth adapter whose address is `want` (the first one when `None`): the
/// runtime, the manager, the adapter.
pub(crate) fn open_adapter(
    want: Option<&str>,
) -> Result<(tokio::runtime::Runtime, Adapter), HilError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| HilError::Runtime(e.to_string()))?;
    let adapter = rt.block_on(async {
        let manager = Manager::new().await.map_err(|e| {
            HilError::NoAdapter(format!("cannot connect to the system D-Bus ({e})"))
        })?;
        let adapters = manager
            .adapters()
            .await
            .map_err(|e| HilError::NoAdapter(format!("cannot list adapters ({e})")))?;
        let mut seen = Vec::new();
        for a in adapters {
            let addr = a.adapter_address().await.ok().flatten();
            let addr = addr.map(|a| a.to_string()).unwrap_or_default();
            if want.is_none_or(|w| w.eq_ignore_ascii_case(&addr)) {
                return Ok(a);
            }
            seen.push(addr);
        }
        Err(HilError::NoAdapter(match want {
            Some(w) => format!("no adapter has address {w} (adapters: {})", seen.join(", ")),
            None => "BlueZ reports no adapter".into(),
        }))
    })?;
    Ok((rt, adapter))
}

impl BtleClient {
    /// Open the Bluetooth adapter with address `adapter` (the first one of the system
    /// when `None`). Fails with [`HilError::NoAdapter`] when there is no system bus, no
    /// BlueZ or no such adapter.
    pub fn on_adapter(adapter: Option<&str>) -> Result<Self, HilError> {
        let (rt, adapter) = open_adapter(adapter)?;
        let central_events = rt
            .block_on(adapter.events())
            .map_err(|e| HilError::Bluetooth(format!("cannot listen to the adapter ({e})")))?;
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            adapter,
            events: tx,
            scanning: AtomicBool::new(false),
            connected: Mutex::new(BTreeMap::new()),
            forwarders: Mutex::new(BTreeMap::new()),
        });
        let s = Arc::clone(&shared);
        rt.spawn(async move {
            let mut evs = central_events;
            while let Some(ev) = evs.next().await {
                s.on_central_event(ev).await;
            }
        });
        let (ops, mut op_rx) = tokio::sync::mpsc::unbounded_channel::<Op>();
        let s = Arc::clone(&shared);
        rt.spawn(async move {
            while let Some(op) = op_rx.recv().await {
                match op {
                    Op::Connect(d) => s.connect(d).await,
                    Op::Write {
                        device,
                        char,
                        value,
                        id,
                    } => s.write(device, char, value, id).await,
                    Op::Disconnect(d) => s.disconnect(d).await,
                }
            }
        });
        Ok(BtleClient {
            rt,
            shared,
            ops,
            events: rx,
        })
    }

    /// Let `d` of real time pass (the adapter's tasks run meanwhile).
    pub fn pump(&mut self, d: Duration) {
        self.rt.block_on(async { tokio::time::sleep(d).await });
    }

    /// Whether the connected `device` exposes characteristic `char` (e.g. the test
    /// service's injection characteristic).
    pub fn has_characteristic(&self, device: &DeviceId, char: protocol::Uuid) -> bool {
        self.shared
            .connected_peripheral(device)
            .is_some_and(|p| characteristic(&p, char).is_some())
    }

    /// Read a characteristic of the connected `device` (e.g. the battery level).
    pub fn read(&mut self, device: &DeviceId, char: protocol::Uuid) -> Result<Vec<u8>, HilError> {
        let (p, c) = self.peripheral_char(device, char)?;
        self.rt
            .block_on(async { tokio::time::timeout(OP_TIMEOUT, p.read(&c)).await })
            .map_err(|_| HilError::Bluetooth(format!("read of {char} timed out")))?
            .map_err(|e| HilError::Bluetooth(format!("read of {char}: {e}")))
    }

    /// The connected `device` and its characteristic `char`.
    fn peripheral_char(
        &self,
        device: &DeviceId,
        char: protocol::Uuid,
    ) -> Result<(Peripheral, Characteristic), HilError> {
        let p = self
            .shared
            .connected_peripheral(device)
            .ok_or_else(|| HilError::NotConnected(device.0.clone()))?;
        let c = characteristic(&p, char)
            .ok_or_else(|| HilError::Bluetooth(format!("{device} has no characteristic {char}")))?;
        Ok((p, c))
    }

    fn queue(&self, op: Op) -> Result<(), HilError> {
        self.ops
            .send(op)
            .map_err(|_| HilError::Runtime("the Bluetooth worker stopped".into()))
    }
}

impl GattClient for BtleClient {
    type Error = HilError;

    fn start_scan(&mut self) -> Result<(), HilError> {
        self.shared.scanning.store(true, Ordering::SeqCst);
        let filter = ScanFilter {
            services: vec![to_uuid(ALERT_SERVICE)],
        };
        self.rt
            .block_on(self.shared.adapter.start_scan(filter))
            .map_err(|e| HilError::Bluetooth(format!("cannot scan: {e}")))?;
        // Devices BlueZ already knows are reported only when something of theirs
        // changes: report the known ones offering the Alert service now (a connection to
        // one that is gone fails and the app scans on).
        let shared = Arc::clone(&self.shared);
        self.rt.block_on(async move {
            let Ok(known) = shared.adapter.peripherals().await else {
                return;
            };
            for p in known {
                if let Ok(Some(props)) = p.properties().await {
                    if props.services.contains(&to_uuid(ALERT_SERVICE)) {
                        shared.send(GattEvent::Discovered {
                            device: device_id(&p),
                            rssi: props.rssi.unwrap_or(i16::MIN),
                        });
                    }
                }
            }
        });
        Ok(())
    }

    fn stop_scan(&mut self) -> Result<(), HilError> {
        self.shared.scanning.store(false, Ordering::SeqCst);
        self.rt
            .block_on(self.shared.adapter.stop_scan())
            .map_err(|e| HilError::Bluetooth(format!("cannot stop scanning: {e}")))
    }

    fn connect(&mut self, device: &DeviceId) -> Result<(), HilError> {
        self.queue(Op::Connect(device.clone()))
    }

    fn subscribe(&mut self, device: &DeviceId, char: protocol::Uuid) -> Result<(), HilError> {
        let (p, c) = self.peripheral_char(device, char)?;
        self.rt
            .block_on(async { tokio::time::timeout(OP_TIMEOUT, p.subscribe(&c)).await })
            .map_err(|_| HilError::Bluetooth(format!("subscribe to {char} timed out")))?
            .map_err(|e| HilError::Bluetooth(format!("subscribe to {char}: {e}")))
    }

    fn write(
        &mut self,
        device: &DeviceId,
        char: protocol::Uuid,
        value: &[u8],
        id: u64,
    ) -> Result<(), HilError> {
        self.queue(Op::Write {
            device: device.clone(),
            char,
            value: value.to_vec(),
            id,
        })
    }

    fn disconnect(&mut self, device: &DeviceId) -> Result<(), HilError> {
        self.queue(Op::Disconnect(device.clone()))
    }

    fn poll_event(&mut self) -> Option<GattEvent> {
        self.events.try_recv().ok()
    }
}
