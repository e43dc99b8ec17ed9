//! [`BluezPeripheral`]: the [`Peripheral`] port of the served button over BlueZ's D-Bus
//! API, through `bluer` (BlueZ's own Rust binding): the GATT application is registered
//! with `GattManager1.RegisterApplication` (the protocol's services, at the protocol's
//! fixed handles when BlueZ accepts them), the advertisement with
//! `LEAdvertisingManager1.RegisterAdvertisement`; values go out as `PropertiesChanged`
//! of the event characteristic once the central has started notifications; writes come
//! in as `WriteValue` calls and are answered when the firmware has taken them.
//!
//! The BlueZ side runs on its own tokio runtime; the paced loop on the caller's thread
//! talks to it through channels. Connections are seen by polling the adapter's devices
//! (every [`POLL`]) and at the first write of a new central.
//!
//! Limits of BlueZ's API, not of the firmware: the advertised address is the adapter's
//! (the firmware's rotating private address cannot be set per advertisement), and for a
//! characteristic that may both notify and indicate, BlueZ sends what the central's CCCD
//! asked for, whatever the firmware chose.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use bluer::adv::{Advertisement, AdvertisementHandle};
use bluer::gatt::local::{
    characteristic_control, Application, ApplicationHandle, Characteristic, CharacteristicControl,
    CharacteristicControlEvent, CharacteristicNotify, CharacteristicNotifyMethod,
    CharacteristicRead, CharacteristicWrite, CharacteristicWriteMethod, ReqError, Service,
};
use bluer::gatt::CharacteristicWriter;
use bluer::{Adapter, Address, Session};
use futures::{FutureExt as _, StreamExt as _};
use protocol::gatt::{
    CharDef, ServiceDef, BATTERY_LEVEL_CHAR, FIRMWARE_REV_CHAR, GATT_TABLE, MANUFACTURER_CHAR,
    TEST_STATE_CHAR,
};
use protocol::Uuid;
use tokio::sync::oneshot;

use super::client::to_uuid;
use super::HilError;
use crate::serve::{HostInput, Peripheral, ReadState};

/// How often the adapter's devices are looked at for connections.
pub const POLL: Duration = Duration::from_millis(50);
/// How long a write waits for the firmware's answer.
const WRITE_ANSWER: Duration = Duration::from_secs(5);
/// Manufacturer Name String (0x2A29).
pub const MANUFACTURER: &str = "alarm-button simulator";

/// What the loop asks of the BlueZ side.
#[derive(Debug)]
enum Out {
    Advertise,
    StopAdvertising,
    Send(Uuid, Vec<u8>),
    Disconnect,
}

/// State shared with the D-Bus callbacks.
struct Shared {
    inbox: mpsc::Sender<HostInput>,
    state: Mutex<ReadState>,
    writes: Mutex<BTreeMap<u64, oneshot::Sender<bool>>>,
    next_write: AtomicU64,
    central: Mutex<Option<Address>>,
    started: Instant,
}

impl Shared {
    fn log(&self, line: &str) {
        eprintln!(
            "{:10.3} s  serve: {line}",
            self.started.elapsed().as_secs_f64()
        );
    }

    /// A central is connected (first seen now): tell the button.
    fn seen(&self, addr: Address) {
        let Ok(mut c) = self.central.lock() else {
            return;
        };
        if c.is_none() {
            *c = Some(addr);
            let _ = self.inbox.send(HostInput::Connected);
        }
    }

    fn gone(&self, addr: Address) {
        let Ok(mut c) = self.central.lock() else {
            return;
        };
        if *c == Some(addr) {
            *c = None;
            let _ = self.inbox.send(HostInput::Disconnected);
        }
    }

    async fn write(
        self: Arc<Self>,
        char: Uuid,
        value: Vec<u8>,
        from: Address,
    ) -> Result<(), ReqError> {
        self.seen(from);
        let id = self.next_write.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.writes.lock() {
            w.insert(id, tx);
        }
        self.inbox
            .send(HostInput::Write { id, char, value })
            .map_err(|_| ReqError::Failed)?;
        match tokio::time::timeout(WRITE_ANSWER, rx).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(ReqError::NotPermitted),
            _ => Err(ReqError::Failed),
        }
    }
}

/// The served button's radio: BlueZ on one adapter.
pub struct BluezPeripheral {
    rt: tokio::runtime::Runtime,
    out: tokio::sync::mpsc::UnboundedSender<Out>,
    shared: Arc<Shared>,
    /// The adapter's address (what centrals see).
    pub address: String,
}

impl std::fmt::Debug for BluezPeripheral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BluezPeripheral")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The adapter whose address is `want` (any adapter when `None`, the first by name).
async fn pick_adapter(session: &Session, want: Option<&str>) -> Result<Adapter, HilError> {
    let names = session
        .adapter_names()
        .await
        .map_err(|e| HilError::NoAdapter(format!("cannot list adapters ({e})")))?;
    let mut seen = Vec::new();
    for name in names {
        let Ok(a) = session.adapter(&name) else {
            continue;
        };
        let Ok(addr) = a.address().await else {
            continue;
        };
        if want.is_none_or(|w| w.eq_ignore_ascii_case(&addr.to_string())) {
            return Ok(a);
        }
        seen.push(format!("{name} {addr}"));
    }
    Err(HilError::NoAdapter(match want {
        Some(w) => format!("no adapter has address {w} (adapters: {})", seen.join(", ")),
        None => "BlueZ reports no adapter".into(),
    }))
}

impl BluezPeripheral {
    /// Publish the button's GATT application on the adapter with address `adapter`
    /// (the first one when `None`); inputs (connections, writes) go to `inbox`.
    /// `test_service`: whether the Test service is published too.
    pub fn start(
        adapter: Option<&str>,
        test_service: bool,
        firmware: &str,
        inbox: mpsc::Sender<HostInput>,
    ) -> Result<Self, HilError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| HilError::Runtime(e.to_string()))?;
        let shared = Arc::new(Shared {
            inbox,
            state: Mutex::new(ReadState::default()),
            writes: Mutex::new(BTreeMap::new()),
            next_write: AtomicU64::new(1),
            central: Mutex::new(None),
            started: Instant::now(),
        });
        let (notifier_tx, notifier_rx) = tokio::sync::mpsc::unbounded_channel();
        let (adapter, app, address) = rt.block_on(async {
            let session = Session::new().await.map_err(|e| {
                HilError::NoAdapter(format!("cannot connect to the system D-Bus ({e})"))
            })?;
            let adapter = pick_adapter(&session, adapter).await?;
            adapter
                .set_powered(true)
                .await
                .map_err(|e| HilError::Bluetooth(format!("cannot power the adapter on: {e}")))?;
            let address = adapter
                .address()
                .await
                .map_err(|e| HilError::Bluetooth(format!("adapter address: {e}")))?
                .to_string();
            let app = register(&adapter, &shared, test_service, firmware, &notifier_tx).await?;
            Ok::<_, HilError>((adapter, app, address))
        })?;
        let (out, out_rx) = tokio::sync::mpsc::unbounded_channel();
        let s = Arc::clone(&shared);
        rt.spawn(radio_task(adapter, app, s, out_rx, notifier_rx));
        let s = Arc::clone(&shared);
        rt.spawn(async move {
            stop_signal().await;
            let _ = s.inbox.send(HostInput::Stop);
        });
        Ok(BluezPeripheral {
            rt,
            out,
            shared,
            address,
        })
    }

    /// Stop: unregister everything and close the D-Bus connection.
    pub fn shutdown(self) {
        self.rt.shutdown_timeout(Duration::from_secs(1));
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}

/// Register the application: the fixed handles of `protocol::gatt` first, BlueZ's own
/// if it refuses them (a handle already taken on this adapter).
async fn register(
    adapter: &Adapter,
    shared: &Arc<Shared>,
    test_service: bool,
    firmware: &str,
    notifiers: &tokio::sync::mpsc::UnboundedSender<(Uuid, CharacteristicControl)>,
) -> Result<ApplicationHandle, HilError> {
    let build = |fixed: bool| Application {
        services: GATT_TABLE
            .iter()
            .filter(|s| test_service || !s.test_only)
            .map(|s| service(s, fixed, shared, firmware, notifiers))
            .collect(),
        ..Default::default()
    };
    match adapter.serve_gatt_application(build(true)).await {
        Ok(h) => Ok(h),
        Err(e) => {
            shared.log(&format!(
                "BlueZ refused the fixed handles ({e}); registering with handles BlueZ chooses"
            ));
            adapter
                .serve_gatt_application(build(false))
                .await
                .map_err(|e| HilError::Bluetooth(format!("RegisterApplication: {e}")))
        }
    }
}

fn service(
    s: &ServiceDef,
    fixed: bool,
    shared: &Arc<Shared>,
    firmware: &str,
    notifiers: &tokio::sync::mpsc::UnboundedSender<(Uuid, CharacteristicControl)>,
) -> Service {
    let first = s.chars.first().map_or(0, |c| c.value_handle);
    Service {
        uuid: to_uuid(s.uuid),
        handle: fixed.then(|| NonZeroU16::new(first & 0xFFF0)).flatten(),
        primary: true,
        characteristics: s
            .chars
            .iter()
            .map(|c| characteristic(c, fixed, shared, firmware, notifiers))
            .collect(),
        ..Default::default()
    }
}

fn characteristic(
    c: &CharDef,
    fixed: bool,
    shared: &Arc<Shared>,
    firmware: &str,
    notifiers: &tokio::sync::mpsc::UnboundedSender<(Uuid, CharacteristicControl)>,
) -> Characteristic {
    let uuid = c.uuid;
    let read = c.props.read.then(|| {
        let shared = Arc::clone(shared);
        let firmware = firmware.to_string();
        CharacteristicRead {
            read: true,
            fun: Box::new(move |_req| {
                let v = read_value(uuid, &shared, &firmware);
                async move { v }.boxed()
            }),
            ..Default::default()
        }
    });
    let write = c.props.write.then(|| {
        let shared = Arc::clone(shared);
        CharacteristicWrite {
            write: true,
            method: CharacteristicWriteMethod::Fun(Box::new(move |value, req| {
                Arc::clone(&shared)
                    .write(uuid, value, req.device_address)
                    .boxed()
            })),
            ..Default::default()
        }
    });
    // Notification sessions through a socket (`AcquireNotify`): one per subscription,
    // the previous one closed, so a central that subscribes again gets each value once.
    let (control, control_handle) = characteristic_control();
    let notify = (c.props.notify || c.props.indicate).then(|| {
        let _ = notifiers.send((uuid, control));
        CharacteristicNotify {
            notify: c.props.notify,
            indicate: c.props.indicate,
            method: CharacteristicNotifyMethod::Io,
            ..Default::default()
        }
    });
    Characteristic {
        uuid: to_uuid(c.uuid),
        handle: fixed.then(|| NonZeroU16::new(c.value_handle)).flatten(),
        read,
        write,
        notify,
        control_handle,
        ..Default::default()
    }
}

fn read_value(uuid: Uuid, shared: &Shared, firmware: &str) -> Result<Vec<u8>, ReqError> {
    let state = shared
        .state
        .lock()
        .map(|s| *s)
        .map_err(|_| ReqError::Failed)?;
    match uuid {
        BATTERY_LEVEL_CHAR if state.running => Ok(vec![state.battery_pct]),
        TEST_STATE_CHAR if state.running => Ok(state.test_state_bytes()),
        MANUFACTURER_CHAR => Ok(MANUFACTURER.as_bytes().to_vec()),
        FIRMWARE_REV_CHAR => Ok(firmware.as_bytes().to_vec()),
        _ => Err(ReqError::NotPermitted),
    }
}

/// The BlueZ side: advertising, values out, connections seen, until the loop is gone.
async fn radio_task(
    adapter: Adapter,
    app: ApplicationHandle,
    shared: Arc<Shared>,
    mut out: tokio::sync::mpsc::UnboundedReceiver<Out>,
    mut notifier_rx: tokio::sync::mpsc::UnboundedReceiver<(Uuid, CharacteristicControl)>,
) {
    let _app = app;
    let mut adv: Option<AdvertisementHandle> = None;
    let mut notifiers: BTreeMap<Uuid, CharacteristicWriter> = BTreeMap::new();
    let mut controls = futures::stream::SelectAll::new();
    while let Ok((uuid, c)) = notifier_rx.try_recv() {
        controls.push(c.map(move |ev| (uuid, ev)));
    }
    let mut tick = tokio::time::interval(POLL);
    let mut adv_count = 0u16;
    let mut retired = Vec::new();
    // Values sent before the notification session's socket arrived: BlueZ answers the
    // central's StartNotify before it hands the socket over, so the firmware's answer
    // to the central's first write can come first. Sent when the socket arrives.
    let mut pending: BTreeMap<Uuid, Vec<Vec<u8>>> = BTreeMap::new();
    loop {
        tokio::select! {
            o = out.recv() => {
                let Some(o) = o else { return };
                match o {
                    Out::Advertise if adv.is_none() => {
                        adv_count = adv_count.wrapping_add(1);
                        adv = advertise(&adapter, &shared, adv_count).await;
                    }
                    Out::Advertise => {}
                    Out::StopAdvertising => adv = None,
                    Out::Send(char, value) => {
                        send(&mut notifiers, &mut pending, char, value, &shared).await;
                    }
                    Out::Disconnect => disconnect_all(&adapter, &shared).await,
                }
            }
            Some((char, ev)) = controls.next() => {
                if let CharacteristicControlEvent::Notify(w) = ev {
                    shared.log(&format!("central subscribed to {char}"));
                    // The previous session's socket is kept open, not closed: the mock
                    // (bluezoo 1.0.2) stops reading the *new* socket when an old one
                    // closes. BlueZ closes its end at disconnection anyway.
                    if let Some(old) = notifiers.insert(char, w) {
                        retired.push(old);
                        if retired.len() > MAX_RETIRED {
                            retired.remove(0);
                        }
                    }
                    for value in pending.remove(&char).unwrap_or_default() {
                        send(&mut notifiers, &mut pending, char, value, &shared).await;
                    }
                }
            }
            _ = tick.tick() => {
                poll_connections(&adapter, &shared).await;
                // Values held for a connection that ended are not for the next one.
                if shared.central.lock().is_ok_and(|c| c.is_none()) {
                    pending.clear();
                }
            }
        }
    }
}

/// Advertise; the service data of the Alert service carries a count of advertising
/// starts, so every new
/// advertising set differs from the last one (a stack that reports only changes — the
/// mock does — then reports the button again to a central that scans anew).
async fn advertise(adapter: &Adapter, shared: &Shared, count: u16) -> Option<AdvertisementHandle> {
    let a = Advertisement {
        service_uuids: BTreeSet::from([to_uuid(protocol::gatt::ALERT_SERVICE)]),
        service_data: BTreeMap::from([(
            to_uuid(protocol::gatt::ALERT_SERVICE),
            count.to_le_bytes().to_vec(),
        )]),
        discoverable: Some(true),
        local_name: Some("alarm button (sim)".into()),
        ..Default::default()
    };
    match adapter.advertise(a).await {
        Ok(h) => Some(h),
        Err(e) => {
            shared.log(&format!("RegisterAdvertisement failed: {e}"));
            None
        }
    }
}

/// Notification sockets of earlier subscriptions kept open (see `radio_task`).
const MAX_RETIRED: usize = 1024;
/// Most confirmations taken off a notification socket at a time.
const MAX_CONFIRMATIONS: usize = 64;

/// Most values held for a notification session not yet handed over.
const MAX_PENDING: usize = 64;

async fn send(
    notifiers: &mut BTreeMap<Uuid, CharacteristicWriter>,
    pending: &mut BTreeMap<Uuid, Vec<Vec<u8>>>,
    char: Uuid,
    value: Vec<u8>,
    shared: &Shared,
) {
    let Some(w) = notifiers.get_mut(&char) else {
        let held = pending.entry(char).or_default();
        if held.len() < MAX_PENDING {
            held.push(value);
        } else {
            shared.log(&format!(
                "value of {char} dropped: the central has not subscribed"
            ));
        }
        return;
    };
    // BlueZ writes a byte on the socket for each confirmed indication: take them off so
    // the socket never fills (bluer's `is_closed` reads one).
    for _ in 0..MAX_CONFIRMATIONS {
        if !w.is_closed().unwrap_or(false) {
            break;
        }
    }
    if let Err(e) = w.send(&value).await {
        shared.log(&format!("value of {char} not sent: {e}"));
        notifiers.remove(&char);
    }
}

async fn disconnect_all(adapter: &Adapter, shared: &Shared) {
    let Ok(addrs) = adapter.device_addresses().await else {
        return;
    };
    for a in addrs {
        if let Ok(d) = adapter.device(a) {
            if d.is_connected().await.unwrap_or(false) {
                if let Err(e) = d.disconnect().await {
                    shared.log(&format!("disconnect {a}: {e}"));
                }
            }
        }
        shared.gone(a);
    }
}

async fn poll_connections(adapter: &Adapter, shared: &Shared) {
    let Ok(addrs) = adapter.device_addresses().await else {
        return;
    };
    let mut connected = Vec::new();
    for a in addrs {
        if let Ok(d) = adapter.device(a) {
            if d.is_connected().await.unwrap_or(false) {
                connected.push(a);
            }
        }
    }
    let current = shared.central.lock().ok().and_then(|c| *c);
    match (current, connected.first()) {
        (Some(c), _) if !connected.contains(&c) => shared.gone(c),
        (None, Some(&a)) => shared.seen(a),
        _ => {}
    }
}

impl Peripheral for BluezPeripheral {
    fn advertise(&mut self, _interval_ms: u32) {
        let _ = self.out.send(Out::Advertise);
    }
    fn stop_advertising(&mut self) {
        let _ = self.out.send(Out::StopAdvertising);
    }
    fn send(&mut self, char: Uuid, value: Vec<u8>, _indicate: bool) {
        let _ = self.out.send(Out::Send(char, value));
    }
    fn answer_write(&mut self, id: u64, ok: bool) {
        let tx = self
            .shared
            .writes
            .lock()
            .ok()
            .and_then(|mut w| w.remove(&id));
        if let Some(tx) = tx {
            let _ = tx.send(ok);
        }
    }
    fn disconnect(&mut self) {
        let _ = self.out.send(Out::Disconnect);
    }
    fn state(&mut self, state: ReadState) {
        if let Ok(mut s) = self.shared.state.lock() {
            *s = state;
        }
    }
    fn log(&mut self, at_us: u64, line: String) {
        eprintln!("{:10.3} s  button: {line}", at_us as f64 / 1e6);
    }
}
