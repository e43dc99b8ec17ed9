//! [`RigLink`]: what the rig needs of a BLE central besides the phone's port
//! ([`GattClient`]): letting time pass on it, and knowing whether the button exposes the
//! test service. Implemented by the btleplug central (feature `hil`) and by the
//! simulator's virtual central, which the dry-run test uses.

use std::time::Duration;

use phone::{DeviceId, GattClient};
use protocol::gatt::TEST_INJECT_CHAR;
use protocol::Uuid;
use sim_world::virtual_client::VirtualGattClient;

/// A BLE central the rig can drive.
pub trait RigLink: GattClient {
    /// Let `d` pass on the link (hardware: real time; virtual: virtual time).
    fn pump(&mut self, d: Duration);
    /// Whether the connected `device` exposes characteristic `char`.
    fn has_characteristic(&self, device: &DeviceId, char: Uuid) -> bool;
}

impl RigLink for VirtualGattClient {
    fn pump(&mut self, d: Duration) {
        VirtualGattClient::pump(self, d);
    }

    fn has_characteristic(&self, device: &DeviceId, char: Uuid) -> bool {
        device == self.device()
            && (char != TEST_INJECT_CHAR || self.button().profile().test_service)
    }
}
