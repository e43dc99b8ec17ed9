//! The GATT-client port: what the phone logic needs of a BLE central, and what it hears
//! back. The simulator's virtual link implements it; so does the btleplug adapter of the
//! `hil` feature. The phone logic never calls it directly: it emits [`GattCommand`]s
//! that a driver applies to a [`GattClient`] ([`GattCommand::apply`]), and the driver
//! feeds what the client reports back as [`GattEvent`]s.

use protocol::Uuid;

/// Identifier of a peripheral (its address, as the platform prints it).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DeviceId(pub String);

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request to the BLE central.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GattCommand {
    /// Scan for devices advertising the Alert service (continuously).
    StartScan,
    /// Stop scanning.
    StopScan,
    /// Connect to a device seen advertising.
    Connect(DeviceId),
    /// Enable indications/notifications of a characteristic.
    Subscribe {
        /// Device.
        device: DeviceId,
        /// Characteristic.
        char: Uuid,
    },
    /// Write with response; the answer comes as [`GattEvent::WriteDone`] with `id`.
    Write {
        /// Device.
        device: DeviceId,
        /// Characteristic.
        char: Uuid,
        /// Bytes.
        value: Vec<u8>,
        /// Correlates the answer.
        id: u64,
    },
    /// Close the connection.
    Disconnect(DeviceId),
}

/// What the BLE central reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GattEvent {
    /// An advertisement of a device offering the Alert service.
    Discovered {
        /// Device.
        device: DeviceId,
        /// Received signal strength (dBm).
        rssi: i16,
    },
    /// Connected and services discovered.
    Connected(DeviceId),
    /// The connection ended (lost or closed), at a moment the central cannot tell
    /// better than "now".
    Disconnected(DeviceId),
    /// The connection was lost because the peer went silent (supervision timeout): the
    /// last exchange that got through was `silent_us` before this report.
    LinkLost {
        /// Device.
        device: DeviceId,
        /// How long the link had been silent when the central gave it up (µs).
        silent_us: u64,
    },
    /// An indication or notification.
    Value {
        /// Device.
        device: DeviceId,
        /// Characteristic.
        char: Uuid,
        /// Bytes.
        value: Vec<u8>,
    },
    /// A write completed (`ok`) or failed.
    WriteDone {
        /// The write's id.
        id: u64,
        /// Whether the peripheral confirmed it.
        ok: bool,
    },
    /// Bluetooth was switched on or off on the phone.
    Power(bool),
}

/// The port a BLE central implements. Calls start operations; their outcomes come back
/// later through [`GattClient::poll_event`] (or are pushed by the driver).
pub trait GattClient {
    /// Error of the implementation.
    type Error: std::fmt::Display;
    /// Start a continuous scan for the Alert service.
    fn start_scan(&mut self) -> Result<(), Self::Error>;
    /// Stop scanning.
    fn stop_scan(&mut self) -> Result<(), Self::Error>;
    /// Connect to a device and discover its services.
    fn connect(&mut self, device: &DeviceId) -> Result<(), Self::Error>;
    /// Enable indications/notifications.
    fn subscribe(&mut self, device: &DeviceId, char: Uuid) -> Result<(), Self::Error>;
    /// Write with response.
    fn write(
        &mut self,
        device: &DeviceId,
        char: Uuid,
        value: &[u8],
        id: u64,
    ) -> Result<(), Self::Error>;
    /// Disconnect.
    fn disconnect(&mut self, device: &DeviceId) -> Result<(), Self::Error>;
    /// Next event the central has to report, if any.
    fn poll_event(&mut self) -> Option<GattEvent>;
}

impl GattCommand {
    /// Apply this command to a client.
    pub fn apply<C: GattClient + ?Sized>(&self, client: &mut C) -> Result<(), C::Error> {
        match self {
            GattCommand::StartScan => client.start_scan(),
            GattCommand::StopScan => client.stop_scan(),
            GattCommand::Connect(d) => client.connect(d),
            GattCommand::Subscribe { device, char } => client.subscribe(device, *char),
            GattCommand::Write {
                device,
                char,
                value,
                id,
            } => client.write(device, *char, value, *id),
            GattCommand::Disconnect(d) => client.disconnect(d),
        }
    }
}
