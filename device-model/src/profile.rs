//! The device profile: every timing and threshold of the firmware and the board, loaded
//! from JSON (`scenarios/profiles/*.json`) and validated with errors that name the file,
//! line and column, or the field, and what was expected. The firmware's part becomes a
//! plain `firmware::Config` ([`DeviceProfile::firmware_config`]); JSON stays here, on the
//! host.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::accel::AccelConfig;
use crate::fall::FallDetectorConfig;
use crate::gesture::GestureConfig;
use crate::power::{CellProfile, PowerProfile};
use crate::DeviceError;

pub use firmware::link::LinkTiming;

/// Everything configurable about the button.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceProfile {
    /// Free-form name of the profile.
    pub name: String,
    /// Debounce and gesture timings.
    pub gesture: GestureConfig,
    /// Advertising and delivery timings.
    pub link: LinkTiming,
    /// Capacity of the persistent queue of unacknowledged events (at least 64, at most
    /// the firmware's `firmware::queue::QUEUE_CAPACITY` slots).
    pub queue_capacity: u32,
    /// Whether the firmware exposes the (unauthenticated) test-injection service. Never
    /// in the product: only [`DeviceProfile::test_firmware`] (`test-firmware.json`) has it.
    pub test_service: bool,
    /// Battery levels (percent) at which a low-battery event is queued, highest first.
    pub low_battery_levels: Vec<u8>,
    /// The cell powering the button.
    pub cell: CellProfile,
    /// Currents of each state.
    pub power: PowerProfile,
    /// Accelerometer rate and range.
    pub accel: AccelConfig,
    /// Fall detector thresholds.
    pub fall: FallDetectorConfig,
}

impl Default for DeviceProfile {
    fn default() -> Self {
        Self {
            name: "default".into(),
            gesture: GestureConfig::default(),
            link: LinkTiming::default(),
            queue_capacity: firmware::queue::QUEUE_CAPACITY as u32,
            test_service: false,
            low_battery_levels: firmware::LowBatteryLevels::DEFAULT.as_slice().to_vec(),
            cell: CellProfile::cr2032(),
            power: PowerProfile::default(),
            accel: AccelConfig::default(),
            fall: FallDetectorConfig::default(),
        }
    }
}

impl DeviceProfile {
    /// The test firmware: the default profile with the test-injection service, for
    /// hardware-in-the-loop rigs, their dry run and the conformance suite only.
    pub fn test_firmware() -> Self {
        DeviceProfile {
            name: "test-firmware".into(),
            test_service: true,
            ..DeviceProfile::default()
        }
    }

    /// Check every section; the error names the field.
    pub fn validate(&self) -> Result<(), DeviceError> {
        let field = |f: &str, m: String| DeviceError::Invalid {
            field: f.to_string(),
            message: m,
        };
        let fw = |f: &str, e: firmware::ConfigError| field(f, e.to_string());
        self.gesture.validate().map_err(|e| fw("gesture", e))?;
        firmware::Config::check_queue_capacity(self.queue_capacity)
            .map_err(|e| fw("queue_capacity", e))?;
        self.link.validate().map_err(|e| {
            let f = match e {
                firmware::ConfigError::AdvSlowInterval => "link.adv_slow_interval_ms",
                firmware::ConfigError::AckTimeout => "link.ack_timeout_ms",
                _ => "link",
            };
            fw(f, e)
        })?;
        self.cell.validate().map_err(|m| field("cell", m))?;
        self.power.validate().map_err(|m| field("power", m))?;
        self.accel.validate().map_err(|m| field("accel", m))?;
        self.fall.validate().map_err(|e| fw("fall", e))?;
        firmware::LowBatteryLevels::new(&self.low_battery_levels)
            .map_err(|e| fw("low_battery_levels", e))?;
        Ok(())
    }

    /// The firmware's part of the profile, as the firmware takes it (a validated
    /// profile converts exactly; out-of-range values fall back to the defaults).
    pub fn firmware_config(&self) -> firmware::Config {
        let d = firmware::Config::DEFAULT;
        firmware::Config {
            gesture: self.gesture.clone(),
            link: self.link.clone(),
            queue_capacity: firmware::Config::check_queue_capacity(self.queue_capacity)
                .unwrap_or(d.queue_capacity),
            test_service: self.test_service,
            low_battery: firmware::LowBatteryLevels::new(&self.low_battery_levels)
                .unwrap_or(d.low_battery),
            fall: self.fall.clone(),
            odr_hz: self.accel.odr_hz,
        }
    }

    /// Parse JSON text; `origin` names the source in errors.
    pub fn from_json(origin: &str, text: &str) -> Result<Self, DeviceError> {
        let p: DeviceProfile = serde_json::from_str(text).map_err(|e| DeviceError::Parse {
            file: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        p.validate()?;
        Ok(p)
    }

    /// Load and validate a profile file.
    pub fn load(path: &Path) -> Result<Self, DeviceError> {
        let text = std::fs::read_to_string(path).map_err(|e| DeviceError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_json(&path.display().to_string(), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_default_profile_is_the_default() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/profiles/default.json"
        );
        if std::env::var_os("UPDATE_PROFILES").is_some() {
            let mut j = serde_json::to_string_pretty(&DeviceProfile::default()).unwrap();
            j.push('\n');
            std::fs::write(path, j).unwrap();
        }
        let p = DeviceProfile::load(std::path::Path::new(path)).unwrap();
        assert_eq!(
            p,
            DeviceProfile::default(),
            "run with UPDATE_PROFILES=1 to rewrite {path}"
        );
    }

    #[test]
    fn bundled_test_firmware_profile_is_the_test_firmware() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/profiles/test-firmware.json"
        );
        if std::env::var_os("UPDATE_PROFILES").is_some() {
            let mut j = serde_json::to_string_pretty(&DeviceProfile::test_firmware()).unwrap();
            j.push('\n');
            std::fs::write(path, j).unwrap();
        }
        let p = DeviceProfile::load(std::path::Path::new(path)).unwrap();
        assert_eq!(p, DeviceProfile::test_firmware());
        assert!(p.test_service && !DeviceProfile::default().test_service);
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let p = DeviceProfile::default();
        p.validate().unwrap();
        let j = serde_json::to_string(&p).unwrap();
        assert_eq!(DeviceProfile::from_json("x", &j).unwrap(), p);
    }

    #[test]
    fn errors_name_place_and_field() {
        let e = DeviceProfile::from_json("p.json", "{\n  \"gesture\": {\"noise_ms\": \"x\"}\n}")
            .unwrap_err();
        assert!(matches!(e, DeviceError::Parse { line: 2, .. }), "{e}");
        let e = DeviceProfile::from_json("p.json", "{\"bogus\": 1}").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = DeviceProfile::from_json("p.json", "{\"queue_capacity\": 3}").unwrap_err();
        assert!(e.to_string().contains("queue_capacity"), "{e}");
    }
}
