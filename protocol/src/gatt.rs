//! The GATT layout of the button: services, characteristics, their UUIDs and the fixed
//! ATT handles the firmware exposes them at.
//!
//! - Alert service (vendor 128-bit UUID): the *event* characteristic (indications of
//!   [`crate::wire::ToPhone`] messages — offers, sealed event frames, pairing — and
//!   notifications of sealed heartbeats) and the *control* characteristic (written by
//!   the phone, one [`crate::wire::ToButton`] message each).
//! - Battery Service 0x180F with Battery Level 0x2A19 (read, notify; percent). Version 2
//!   firmware reports its level only inside sealed heartbeats: a plain value is
//!   unauthenticated, so the app ignores it.
//! - Device Information 0x180A (manufacturer 0x2A29, firmware revision 0x2A26).
//! - Test service (vendor UUID, present only in test firmware): inject button edges and
//!   accelerometer samples, read state. Used by hardware-in-the-loop rigs.

#[cfg(feature = "std")]
use crate::ProtocolError;

/// A 128-bit Bluetooth UUID.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(pub u128);

/// The Bluetooth SIG base UUID `00000000-0000-1000-8000-00805F9B34FB`.
const SIG_BASE: u128 = 0x0000_0000_0000_1000_8000_0080_5F9B_34FB;

impl Uuid {
    /// The full UUID of a 16-bit SIG-assigned number.
    pub const fn from_u16(short: u16) -> Self {
        Uuid(SIG_BASE | ((short as u128) << 96))
    }

    /// The 16-bit short form, when this UUID is on the SIG base.
    pub fn as_u16(&self) -> Option<u16> {
        let short = (self.0 >> 96) as u16;
        (Uuid::from_u16(short) == *self).then_some(short)
    }

    /// Little-endian bytes, as ATT carries a 128-bit UUID.
    pub fn to_le_bytes(&self) -> [u8; 16] {
        self.0.to_le_bytes()
    }

    /// Parse the canonical `8-4-4-4-12` hex form.
    #[cfg(feature = "std")]
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let bad = || ProtocolError::BadUuid(s.to_string());
        let groups: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if groups.len() != 5 || groups.iter().zip(lens).any(|(g, l)| g.len() != l) {
            return Err(bad());
        }
        let hex: String = groups.concat();
        u128::from_str_radix(&hex, 16).map(Uuid).map_err(|_| bad())
    }
}

impl core::fmt::Display for Uuid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xFFFF_FFFF_FFFF
        )
    }
}

impl core::fmt::Debug for Uuid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// Alert service (vendor UUID).
pub const ALERT_SERVICE: Uuid = Uuid(0x7a1e_0001_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Event characteristic: indications and notifications of [`crate::wire::ToPhone`] messages.
pub const EVENT_CHAR: Uuid = Uuid(0x7a1e_0002_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Control characteristic: the phone writes [`crate::wire::ToButton`] messages.
pub const CONTROL_CHAR: Uuid = Uuid(0x7a1e_0003_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Test service (only in test firmware).
pub const TEST_SERVICE: Uuid = Uuid(0x7a1e_0100_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Test injection characteristic: write [`crate::command::TestInjection`]s.
pub const TEST_INJECT_CHAR: Uuid = Uuid(0x7a1e_0101_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Test state characteristic: read the button's queue length and sequence counter.
pub const TEST_STATE_CHAR: Uuid = Uuid(0x7a1e_0102_b5a3_f393_e0a9_e50e_24dc_ca9e);
/// Battery Service.
pub const BATTERY_SERVICE: Uuid = Uuid::from_u16(0x180F);
/// Battery Level characteristic (percent, 0–100).
pub const BATTERY_LEVEL_CHAR: Uuid = Uuid::from_u16(0x2A19);
/// Device Information service.
pub const DEVICE_INFO_SERVICE: Uuid = Uuid::from_u16(0x180A);
/// Manufacturer Name String.
pub const MANUFACTURER_CHAR: Uuid = Uuid::from_u16(0x2A29);
/// Firmware Revision String.
pub const FIRMWARE_REV_CHAR: Uuid = Uuid::from_u16(0x2A26);
/// Client Characteristic Configuration descriptor.
pub const CCCD: Uuid = Uuid::from_u16(0x2902);

/// Characteristic properties (the subset this product uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Props {
    /// Readable.
    pub read: bool,
    /// Writable with response.
    pub write: bool,
    /// Notifies.
    pub notify: bool,
    /// Indicates.
    pub indicate: bool,
}

/// One characteristic of the table, with its fixed value handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CharDef {
    /// Its UUID.
    pub uuid: Uuid,
    /// The ATT handle of its value (the CCCD, when it notifies or indicates, is `+1`).
    pub value_handle: u16,
    /// Its properties.
    pub props: Props,
}

/// One service of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceDef {
    /// Its UUID.
    pub uuid: Uuid,
    /// Only present in test firmware.
    pub test_only: bool,
    /// Its characteristics.
    pub chars: &'static [CharDef],
}

const R: Props = Props {
    read: true,
    write: false,
    notify: false,
    indicate: false,
};
const W: Props = Props {
    read: false,
    write: true,
    notify: false,
    indicate: false,
};
const RN: Props = Props {
    read: true,
    write: false,
    notify: true,
    indicate: false,
};
const IN: Props = Props {
    read: false,
    write: false,
    notify: true,
    indicate: true,
};

/// The button's full attribute table.
pub const GATT_TABLE: &[ServiceDef] = &[
    ServiceDef {
        uuid: ALERT_SERVICE,
        test_only: false,
        chars: &[
            CharDef {
                uuid: EVENT_CHAR,
                value_handle: 0x0012,
                props: IN,
            },
            CharDef {
                uuid: CONTROL_CHAR,
                value_handle: 0x0015,
                props: W,
            },
        ],
    },
    ServiceDef {
        uuid: BATTERY_SERVICE,
        test_only: false,
        chars: &[CharDef {
            uuid: BATTERY_LEVEL_CHAR,
            value_handle: 0x0022,
            props: RN,
        }],
    },
    ServiceDef {
        uuid: DEVICE_INFO_SERVICE,
        test_only: false,
        chars: &[
            CharDef {
                uuid: MANUFACTURER_CHAR,
                value_handle: 0x0032,
                props: R,
            },
            CharDef {
                uuid: FIRMWARE_REV_CHAR,
                value_handle: 0x0034,
                props: R,
            },
        ],
    },
    ServiceDef {
        uuid: TEST_SERVICE,
        test_only: true,
        chars: &[
            CharDef {
                uuid: TEST_INJECT_CHAR,
                value_handle: 0x0042,
                props: W,
            },
            CharDef {
                uuid: TEST_STATE_CHAR,
                value_handle: 0x0045,
                props: R,
            },
        ],
    },
];

/// The definition of the characteristic `uuid`, if the table has it.
pub fn characteristic(uuid: Uuid) -> Option<&'static CharDef> {
    GATT_TABLE
        .iter()
        .flat_map(|s| s.chars.iter())
        .find(|c| c.uuid == uuid)
}

/// The characteristic whose value handle is `handle`.
pub fn characteristic_by_handle(handle: u16) -> Option<&'static CharDef> {
    GATT_TABLE
        .iter()
        .flat_map(|s| s.chars.iter())
        .find(|c| c.value_handle == handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_uuids_round_trip() {
        assert_eq!(
            BATTERY_SERVICE.to_string(),
            "0000180f-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(BATTERY_LEVEL_CHAR.as_u16(), Some(0x2A19));
        assert_eq!(ALERT_SERVICE.as_u16(), None);
        assert_eq!(Uuid::parse(&EVENT_CHAR.to_string()), Ok(EVENT_CHAR));
        assert!(Uuid::parse("nope").is_err());
        assert!(Uuid::parse("0000180f-0000-1000-8000-00805f9b34fz").is_err());
    }

    #[test]
    fn handles_are_unique() {
        let mut hs: Vec<u16> = GATT_TABLE
            .iter()
            .flat_map(|s| s.chars.iter())
            .map(|c| c.value_handle)
            .collect();
        let n = hs.len();
        hs.sort();
        hs.dedup();
        assert_eq!(hs.len(), n);
        assert_eq!(
            characteristic(EVENT_CHAR).map(|c| c.value_handle),
            Some(0x0012)
        );
        assert_eq!(
            characteristic_by_handle(0x0015).map(|c| c.uuid),
            Some(CONTROL_CHAR)
        );
    }
}
