//! The button's power model: cell, consumers and an exactly integrated battery.
//!
//! Sans-IO like the rest of the device model: no clock, no RNG, no I/O. Time is
//! passed in as `now_us` (microseconds on the simulation's virtual clock).
//!
//! * [`CellProfile`] describes the cell: capacity, open-circuit voltage as a
//!   piecewise-linear function of state of charge (SoC), internal resistance
//!   (rising at low SoC, as coin cells do), the brown-out cut-off and the
//!   self-discharge, with the public datasheets the numbers come from.
//! * [`PowerProfile`] describes the consumers: sleep floor, accelerometer,
//!   advertising and connection events (average currents derived analytically
//!   from the charge of one radio event and the interval), radio packets,
//!   vibration motor and microphone streaming.
//! * [`Battery`] integrates the charge drawn between events **analytically**
//!   (charge = current × Δt, never by ticking), answers the Battery Level
//!   (0x2A19) value, the loaded voltage, whether a load pulse browns the button
//!   out, and when the SoC will cross a threshold, so a discrete-event simulator
//!   can schedule the 20 % / 10 % warnings without polling.
//!
//! # Numbers and determinism
//!
//! Profiles are written in engineering units (`f64`: µA, µC, ms, mV, Ω) because
//! that is how datasheets state them. A [`Battery`] converts every current to
//! an integer number of nanoamperes once, at construction (`(µA × 1000).round()`,
//! an exactly specified IEEE operation), and from then on accounts charge as an
//! integer number of nanoampere-microseconds (nA·µs, i.e. femtocoulombs) in a
//! `u128`. Integration is therefore exact and associative: advancing to `t1`
//! then `t2` gives the same charge, bit for bit, as advancing to `t2` at once.
//! Only the voltage estimate (interpolation of the tables, `OCV − I·R`) uses
//! floating point, and only IEEE basic operations (`+ − × ÷`, `round`), which
//! are deterministic on every platform; no `powf`, `ln` or `exp`.
//!
//! The derivation of the default figures (connected idle ≈ 1.24 % of the
//! CR2032's capacity a week, lifetime ≈ 540 days at 2 presses a day) is in
//! `docs/battery.md`.

use serde::{Deserialize, Serialize};

/// Charge unit used internally: nanoampere × microsecond (= 1 fC).
const NAUS_PER_UAH: u128 = 1_000 * 3_600_000_000;
/// Microseconds in a year of 365.25 days (for self-discharge).
const US_PER_YEAR: f64 = 365.25 * 24.0 * 3600.0 * 1e6;

/// One point of a cell's open-circuit-voltage curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcvPoint {
    /// State of charge, percent of the usable capacity (0–100).
    pub soc_percent: f64,
    /// Open-circuit (rest) voltage at that state of charge, millivolts.
    pub mv: f64,
}

/// One point of a cell's internal-resistance curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResistancePoint {
    /// State of charge, percent of the usable capacity (0–100).
    pub soc_percent: f64,
    /// Effective DC internal resistance at that state of charge, ohms.
    pub ohms: f64,
}

/// A battery cell: capacity, voltage curve, internal resistance, cut-off.
///
/// Between table points values are interpolated linearly; outside they are
/// clamped. Tables must start at 0 % and end at 100 % SoC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellProfile {
    /// Short identifier, e.g. `"cr2032"`.
    pub name: String,
    /// Electrochemical system, free text (e.g. `"Li/MnO2 primary"`).
    pub chemistry: String,
    /// Whether the cell can be recharged (informational).
    pub rechargeable: bool,
    /// Usable capacity at the button's loads, mAh (0 % to 100 % SoC).
    pub capacity_mah: f64,
    /// Open-circuit voltage against SoC, ascending SoC, 0 % to 100 %.
    pub ocv: Vec<OcvPoint>,
    /// Internal resistance against SoC, ascending SoC, 0 % to 100 %.
    pub resistance: Vec<ResistancePoint>,
    /// The button stops (brown-out reset / regulator drop-out) below this
    /// terminal voltage, millivolts.
    pub cutoff_mv: f64,
    /// Self-discharge, percent of the capacity lost per year at rest.
    pub self_discharge_percent_per_year: f64,
    /// Public sources the numbers come from (datasheets, application notes).
    pub sources: Vec<String>,
}

fn ocv(soc: f64, mv: f64) -> OcvPoint {
    OcvPoint {
        soc_percent: soc,
        mv,
    }
}

fn res(soc: f64, ohms: f64) -> ResistancePoint {
    ResistancePoint {
        soc_percent: soc,
        ohms,
    }
}

/// Piecewise-linear interpolation over `(x, y)` points sorted by ascending x,
/// clamped at both ends. Uses only IEEE basic operations.
/// Piecewise-linear interpolation over `points` (x non-decreasing), clamped at both
/// ends; 0 without points. Takes an iterator: the battery asks at every radio pulse, so
/// no table is collected.
fn interpolate(mut points: impl Iterator<Item = (f64, f64)>, x: f64) -> f64 {
    let Some((mut xa, mut ya)) = points.next() else {
        return 0.0;
    };
    if x <= xa {
        return ya;
    }
    for (xb, yb) in points {
        if x <= xb {
            if xb <= xa {
                return yb;
            }
            return ya + (yb - ya) * (x - xa) / (xb - xa);
        }
        (xa, ya) = (xb, yb);
    }
    ya
}

/// Checks a table of `(soc_percent, value)` points; the message names the point, the
/// caller prefixes which table (formatted only on error: profiles are validated at
/// every world's creation).
fn check_table<P>(
    points: &[P],
    xy: impl Fn(&P) -> (f64, f64),
    allow_zero_y: bool,
) -> Result<(), String> {
    let [first, .., last] = points else {
        return Err("at least two points are needed".into());
    };
    if xy(first).0 != 0.0 || xy(last).0 != 100.0 {
        return Err("the table must start at soc_percent 0 and end at soc_percent 100".into());
    }
    let mut prev_x = f64::NEG_INFINITY;
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(p);
        if !x.is_finite() || !y.is_finite() {
            return Err(format!("point {i} is not a finite number"));
        }
        if y < 0.0 || (!allow_zero_y && y == 0.0) {
            return Err(format!("point {i} has a value out of range ({y})"));
        }
        if x <= prev_x {
            return Err(format!(
                "soc_percent must increase strictly (point {i}: {x})"
            ));
        }
        prev_x = x;
    }
    Ok(())
}

impl CellProfile {
    /// The default cell: a CR2032 lithium coin cell (Li/MnO2), 220 mAh usable.
    ///
    /// Energizer rates the CR2032 at 235 mAh to 2.0 V on a 15 kΩ load
    /// (≈ 0.19 mA continuous); Panasonic at 225 mAh (0.2 mA standard
    /// discharge). With the button's radio pulses (≈ 7 mA) the usable charge is
    /// lower, so the model uses 220 mAh. The internal resistance (10 Ω fresh,
    /// inside the typical 10–40 Ω range, rising to 200 Ω when empty) is what makes a
    /// 70 mA vibration-motor pulse brown the button out at ≈ 14 % SoC and below,
    /// while the cell would still carry the µA sleep load for weeks.
    /// Cut-off: 1.8 V, the nRF52832's 1.7 V minimum supply plus a 100 mV margin.
    pub fn cr2032() -> Self {
        CellProfile {
            name: "cr2032".into(),
            chemistry: "Li/MnO2 primary coin cell".into(),
            rechargeable: false,
            capacity_mah: 220.0,
            ocv: vec![
                ocv(0.0, 2000.0),
                ocv(5.0, 2450.0),
                ocv(10.0, 2650.0),
                ocv(15.0, 2750.0),
                ocv(20.0, 2800.0),
                ocv(30.0, 2860.0),
                ocv(50.0, 2900.0),
                ocv(70.0, 2940.0),
                ocv(90.0, 2990.0),
                ocv(95.0, 3050.0),
                ocv(100.0, 3200.0),
            ],
            resistance: vec![
                res(0.0, 200.0),
                res(5.0, 60.0),
                res(10.0, 20.0),
                res(15.0, 12.0),
                res(20.0, 11.0),
                res(50.0, 10.5),
                res(100.0, 10.0),
            ],
            cutoff_mv: 1800.0,
            self_discharge_percent_per_year: 1.0,
            sources: vec![
                "Energizer CR2032 product datasheet (data.energizer.com/pdfs/cr2032.pdf): \
                 Li/MnO2, 3.0 V nominal, typical capacity 235 mAh to 2.0 V on a 15 kohm \
                 continuous load at 21 C; capacity falls at higher and pulsed drains"
                    .into(),
                "Panasonic Lithium Coin Battery CR2032 datasheet: nominal 3 V, nominal \
                 capacity 225 mAh, standard discharge current 0.2 mA; Li/MnO2 coin cells \
                 self-discharge about 1 % a year at 20 C"
                    .into(),
                "CR2032 typical internal resistance 10-40 ohm, maximum pulse discharge \
                 about 15 mA (en.wikipedia.org/wiki/CR2032_battery and manufacturers' \
                 application notes on pulse loads); resistance rises steeply near the \
                 end of discharge"
                    .into(),
                "Nordic Semiconductor nRF52832 Product Specification v1.4: supply range \
                 VDD 1.7-3.6 V (cut-off here 1.8 V = minimum + 100 mV margin)"
                    .into(),
            ],
        }
    }

    /// A rechargeable 100 mAh lithium-polymer cell (LiCoO2, 3.7 V nominal).
    ///
    /// OCV from 3.0 V (empty, protection/regulator limit) to 4.18 V (full),
    /// internal resistance 0.5 Ω including the protection circuit, rising when
    /// nearly empty; self-discharge about 3 % a month with a protection circuit.
    pub fn lipo_100mah() -> Self {
        CellProfile {
            name: "lipo_100mah".into(),
            chemistry: "Li-ion polymer (LiCoO2), rechargeable".into(),
            rechargeable: true,
            capacity_mah: 100.0,
            ocv: vec![
                ocv(0.0, 3000.0),
                ocv(5.0, 3450.0),
                ocv(10.0, 3600.0),
                ocv(20.0, 3700.0),
                ocv(30.0, 3750.0),
                ocv(40.0, 3790.0),
                ocv(50.0, 3830.0),
                ocv(60.0, 3870.0),
                ocv(70.0, 3930.0),
                ocv(80.0, 4000.0),
                ocv(90.0, 4080.0),
                ocv(100.0, 4180.0),
            ],
            resistance: vec![
                res(0.0, 2.0),
                res(10.0, 0.9),
                res(20.0, 0.6),
                res(100.0, 0.5),
            ],
            cutoff_mv: 3000.0,
            self_discharge_percent_per_year: 36.0,
            sources: vec![
                "Adafruit product 1570, Lithium Ion Polymer Battery 3.7 V 100 mAh \
                 (datasheet linked from the product page): 3.7 V nominal, 4.2 V charge, \
                 protection circuit cuts off near 3.0 V"
                    .into(),
                "Battery University BU-409 (Charging Lithium-ion): 4.20 V/cell full \
                 charge; BU-802b (Elevated self-discharge): Li-ion loses 1-2 % a month, \
                 a protection circuit adds up to about 3 % a month"
                    .into(),
                "Nordic Semiconductor nRF52832 Product Specification v1.4: supply range \
                 VDD 1.7-3.6 V, so a LiPo powers it through a regulator whose input \
                 must stay above about 3.0 V"
                    .into(),
            ],
        }
    }

    /// Checks that the profile is physically meaningful.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("cell profile: name is empty".into());
        }
        self.check()
            .map_err(|m| format!("cell profile {:?}: {m}", self.name))
    }

    /// [`CellProfile::validate`]'s checks, their messages without the profile's name.
    fn check(&self) -> Result<(), String> {
        if !(self.capacity_mah.is_finite() && self.capacity_mah > 0.0) {
            return Err("capacity_mah must be a positive number".into());
        }
        check_table(&self.ocv, |p| (p.soc_percent, p.mv), false)
            .map_err(|m| format!("ocv: {m}"))?;
        if self.ocv.windows(2).any(|w| w[1].mv < w[0].mv) {
            return Err("ocv: the voltage must not fall as the state of charge rises".into());
        }
        check_table(&self.resistance, |p| (p.soc_percent, p.ohms), true)
            .map_err(|m| format!("resistance: {m}"))?;
        // A cell's internal resistance grows as it discharges: with the OCV rule above,
        // the voltage under a given load never rises as charge is drawn (what lets a
        // host check a brown-out once for a whole level band, `Battery::browns_out_in_band`).
        if self.resistance.windows(2).any(|w| w[1].ohms > w[0].ohms) {
            return Err(
                "resistance: the internal resistance must not rise as the state of charge rises"
                    .into(),
            );
        }
        if !(self.cutoff_mv.is_finite() && self.cutoff_mv > 0.0) {
            return Err("cutoff_mv must be a positive number".into());
        }
        if self.cutoff_mv >= self.ocv_mv(100.0) {
            return Err(format!(
                "cutoff_mv ({}) must be below the full cell's open-circuit voltage ({})",
                self.cutoff_mv,
                self.ocv_mv(100.0)
            ));
        }
        let sd = self.self_discharge_percent_per_year;
        if !(sd.is_finite() && (0.0..100.0).contains(&sd)) {
            return Err("self_discharge_percent_per_year must be in 0..100".into());
        }
        if self.sources.iter().all(|s| s.trim().is_empty()) {
            return Err("sources must cite at least one reference".into());
        }
        Ok(())
    }

    /// Open-circuit voltage at `soc_percent`, millivolts.
    pub fn ocv_mv(&self, soc_percent: f64) -> f64 {
        interpolate(self.ocv.iter().map(|p| (p.soc_percent, p.mv)), soc_percent)
    }

    /// Internal resistance at `soc_percent`, ohms.
    pub fn resistance_ohms(&self, soc_percent: f64) -> f64 {
        interpolate(
            self.resistance.iter().map(|p| (p.soc_percent, p.ohms)),
            soc_percent,
        )
    }

    /// The state of charge (percent) whose open-circuit voltage is `mv`
    /// (inverse of [`CellProfile::ocv_mv`]; on a flat segment, the lowest SoC).
    /// Useful to set the charge from a trace's `battery_mv` record.
    pub fn soc_percent_for_ocv(&self, mv: f64) -> f64 {
        let pts: Vec<(f64, f64)> = self.ocv.iter().map(|p| (p.mv, p.soc_percent)).collect();
        if let Some(first) = pts.first() {
            if mv <= first.0 {
                return first.1;
            }
        }
        // OCV is non-decreasing: find the first segment reaching `mv`.
        for pair in pts.windows(2) {
            let (va, sa) = pair[0];
            let (vb, sb) = pair[1];
            if mv <= vb {
                if vb <= va {
                    return sa;
                }
                return sa + (sb - sa) * (mv - va) / (vb - va);
            }
        }
        pts.last().map_or(0.0, |p| p.1)
    }

    /// Usable capacity in µAh.
    pub fn capacity_uah(&self) -> f64 {
        self.capacity_mah * 1000.0
    }
}

impl Default for CellProfile {
    fn default() -> Self {
        CellProfile::cr2032()
    }
}

/// The button's consumers, in engineering units.
///
/// State currents are *derived* (see [`PowerProfile::state_current_ua`]): the
/// sleep floor (MCU sleeping with RTC and RAM retention) plus the accelerometer
/// run in every state but [`PowerState::Off`]; advertising and connected idle
/// add the charge of one radio event divided by the event period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerProfile {
    /// MCU asleep (System ON, RTC running, RAM retained), regulator and
    /// board leakage, µA. nRF52832: about 1.9–2 µA.
    pub sleep_ua: f64,
    /// Button off or held in reset (System OFF, accelerometer powered down), µA.
    pub off_ua: f64,
    /// Accelerometer sampling at [`PowerProfile::accel_odr_hz`], µA
    /// (LIS3DH low-power mode at 50 Hz: 6 µA).
    pub accel_ua: f64,
    /// Accelerometer output data rate, Hz (informational: `accel_ua` is the
    /// datasheet current at this rate).
    pub accel_odr_hz: f64,
    /// Charge of one connectable advertising event on the three advertising
    /// channels (wake-up, HFXO start, 3 × TX + RX window, CPU), µC above sleep.
    pub adv_event_uc: f64,
    /// Advertising interval right after a disconnection, ms (100 ms for 30 s).
    pub adv_fast_interval_ms: f64,
    /// Advertising interval afterwards, ms (1 s, forever).
    pub adv_slow_interval_ms: f64,
    /// Mean of the random advDelay the link layer adds to each advertising
    /// interval (0–10 ms, so 5 ms), ms.
    pub adv_delay_mean_ms: f64,
    /// Charge of one empty connection event as a peripheral (wake-up, HFXO,
    /// RX of the central's packet, TX of an empty packet, CPU), µC above sleep.
    pub conn_event_uc: f64,
    /// Connection interval, ms.
    pub conn_interval_ms: f64,
    /// Peripheral (slave) latency: connection events the button may skip
    /// when it has nothing to send.
    pub slave_latency: u16,
    /// Mean current during a radio event carrying data (TX 7.1 mA / RX 6.5 mA
    /// at 0 dBm with DC/DC, plus CPU), µA.
    pub radio_event_ua: f64,
    /// Duration of one data-carrying radio event, µs.
    pub radio_event_us: u64,
    /// Coin vibration motor running, µA (typically 60–80 mA at 3 V).
    pub motor_ua: f64,
    /// Microphone, PDM interface, encoder and radio while streaming audio,
    /// µA on top of the sleep floor and accelerometer.
    pub mic_streaming_ua: f64,
}

impl Default for PowerProfile {
    /// The default nRF52832 button; see `docs/battery.md` for the sources.
    fn default() -> Self {
        PowerProfile {
            sleep_ua: 2.0,
            off_ua: 0.8,
            accel_ua: 6.0,
            accel_odr_hz: 50.0,
            adv_event_uc: 13.0,
            adv_fast_interval_ms: 100.0,
            adv_slow_interval_ms: 1000.0,
            adv_delay_mean_ms: 5.0,
            conn_event_uc: 8.0,
            conn_interval_ms: 100.0,
            slave_latency: 9,
            radio_event_ua: 7000.0,
            radio_event_us: 1500,
            motor_ua: 70_000.0,
            mic_streaming_ua: 2500.0,
        }
    }
}

fn positive(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(format!("power profile: {name} must be a positive number"))
    }
}

fn non_negative(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(format!("power profile: {name} must be zero or more"))
    }
}

impl PowerProfile {
    /// Checks that every figure is finite and in range.
    pub fn validate(&self) -> Result<(), String> {
        positive("sleep_ua", self.sleep_ua)?;
        non_negative("off_ua", self.off_ua)?;
        non_negative("accel_ua", self.accel_ua)?;
        non_negative("accel_odr_hz", self.accel_odr_hz)?;
        non_negative("adv_event_uc", self.adv_event_uc)?;
        positive("adv_fast_interval_ms", self.adv_fast_interval_ms)?;
        positive("adv_slow_interval_ms", self.adv_slow_interval_ms)?;
        non_negative("adv_delay_mean_ms", self.adv_delay_mean_ms)?;
        non_negative("conn_event_uc", self.conn_event_uc)?;
        if !(self.conn_interval_ms.is_finite() && (7.5..=4000.0).contains(&self.conn_interval_ms)) {
            return Err("power profile: conn_interval_ms must be within 7.5..4000 ms (BLE)".into());
        }
        if self.slave_latency > 499 {
            return Err("power profile: slave_latency must be at most 499 (BLE)".into());
        }
        non_negative("radio_event_ua", self.radio_event_ua)?;
        non_negative("motor_ua", self.motor_ua)?;
        non_negative("mic_streaming_ua", self.mic_streaming_ua)?;
        Ok(())
    }

    /// Average current of the connection alone (events only, above sleep), µA:
    /// `conn_event_uc / (conn_interval × (1 + slave_latency))`.
    pub fn connection_events_ua(&self) -> f64 {
        let period_s = self.conn_interval_ms / 1000.0 * (1.0 + f64::from(self.slave_latency));
        self.conn_event_uc / period_s
    }

    /// Average current of advertising alone at `interval_ms` (plus the mean
    /// advDelay), µA.
    pub fn advertising_ua(&self, interval_ms: f64) -> f64 {
        self.adv_event_uc / ((interval_ms + self.adv_delay_mean_ms) / 1000.0)
    }

    /// The average current drawn in `state`, µA, derived from the profile.
    pub fn state_current_ua(&self, state: PowerState) -> f64 {
        let floor = self.sleep_ua + self.accel_ua;
        match state {
            PowerState::Off => self.off_ua,
            PowerState::Sleep => floor,
            PowerState::AdvertisingFast => floor + self.advertising_ua(self.adv_fast_interval_ms),
            PowerState::AdvertisingSlow => floor + self.advertising_ua(self.adv_slow_interval_ms),
            PowerState::ConnectedIdle => floor + self.connection_events_ua(),
            PowerState::MicStreaming => floor + self.mic_streaming_ua,
        }
    }

    /// One data-carrying radio event (a notification, an indication or its
    /// confirmation, a write), above the state's average.
    pub fn radio_pulse(&self) -> Pulse {
        Pulse {
            kind: PulseKind::Radio,
            current_ua: self.radio_event_ua,
            duration_us: self.radio_event_us,
        }
    }

    /// The vibration motor running for `duration_us`.
    pub fn motor_pulse(&self, duration_us: u64) -> Pulse {
        Pulse {
            kind: PulseKind::Motor,
            current_ua: self.motor_ua,
            duration_us,
        }
    }
}

/// The button's steady power states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PowerState {
    /// Neither advertising nor connected; MCU asleep, accelerometer on.
    Sleep,
    /// Advertising at the fast interval (after a disconnection).
    AdvertisingFast,
    /// Advertising at the slow interval.
    AdvertisingSlow,
    /// Connected, nothing to send: one connection event per
    /// `conn_interval × (1 + slave_latency)`.
    ConnectedIdle,
    /// Connected and streaming the microphone.
    MicStreaming,
    /// Off, browned out or held in reset.
    Off,
}

impl PowerState {
    /// Every state, in a fixed order.
    pub const ALL: [PowerState; 6] = [
        PowerState::Sleep,
        PowerState::AdvertisingFast,
        PowerState::AdvertisingSlow,
        PowerState::ConnectedIdle,
        PowerState::MicStreaming,
        PowerState::Off,
    ];

    fn index(self) -> usize {
        match self {
            PowerState::Sleep => 0,
            PowerState::AdvertisingFast => 1,
            PowerState::AdvertisingSlow => 2,
            PowerState::ConnectedIdle => 3,
            PowerState::MicStreaming => 4,
            PowerState::Off => 5,
        }
    }
}

/// What a transient load is (for the consumption breakdown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PulseKind {
    /// A data-carrying radio event.
    Radio,
    /// The vibration motor.
    Motor,
}

/// A transient load on top of the state's average current.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pulse {
    /// What draws the current.
    pub kind: PulseKind,
    /// Current during the pulse, µA (in addition to the state's current).
    pub current_ua: f64,
    /// Duration, µs.
    pub duration_us: u64,
}

/// Where the charge went, for the consumption breakdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Consumer {
    /// Time spent in [`PowerState::Sleep`].
    Sleep,
    /// Time spent in [`PowerState::AdvertisingFast`].
    AdvertisingFast,
    /// Time spent in [`PowerState::AdvertisingSlow`].
    AdvertisingSlow,
    /// Time spent in [`PowerState::ConnectedIdle`].
    ConnectedIdle,
    /// Time spent in [`PowerState::MicStreaming`].
    MicStreaming,
    /// Time spent in [`PowerState::Off`].
    Off,
    /// Radio pulses.
    Radio,
    /// Vibration-motor pulses.
    Motor,
    /// The cell's self-discharge.
    SelfDischarge,
}

impl Consumer {
    /// Every consumer, in the order of the breakdown.
    pub const ALL: [Consumer; 9] = [
        Consumer::Sleep,
        Consumer::AdvertisingFast,
        Consumer::AdvertisingSlow,
        Consumer::ConnectedIdle,
        Consumer::MicStreaming,
        Consumer::Off,
        Consumer::Radio,
        Consumer::Motor,
        Consumer::SelfDischarge,
    ];

    /// Stable snake_case name (used in reports and JSON).
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Sleep => "sleep",
            Consumer::AdvertisingFast => "advertising_fast",
            Consumer::AdvertisingSlow => "advertising_slow",
            Consumer::ConnectedIdle => "connected_idle",
            Consumer::MicStreaming => "mic_streaming",
            Consumer::Off => "off",
            Consumer::Radio => "radio_events",
            Consumer::Motor => "vibration_motor",
            Consumer::SelfDischarge => "self_discharge",
        }
    }

    fn index(self) -> usize {
        match self {
            Consumer::Sleep => 0,
            Consumer::AdvertisingFast => 1,
            Consumer::AdvertisingSlow => 2,
            Consumer::ConnectedIdle => 3,
            Consumer::MicStreaming => 4,
            Consumer::Off => 5,
            Consumer::Radio => 6,
            Consumer::Motor => 7,
            Consumer::SelfDischarge => 8,
        }
    }

    fn of_state(state: PowerState) -> Consumer {
        match state {
            PowerState::Sleep => Consumer::Sleep,
            PowerState::AdvertisingFast => Consumer::AdvertisingFast,
            PowerState::AdvertisingSlow => Consumer::AdvertisingSlow,
            PowerState::ConnectedIdle => Consumer::ConnectedIdle,
            PowerState::MicStreaming => Consumer::MicStreaming,
            PowerState::Off => Consumer::Off,
        }
    }
}

/// µA (f64) to whole nA, once, deterministically. Negative or NaN gives 0.
fn to_na(ua: f64) -> u64 {
    let na = (ua * 1000.0).round();
    if na.is_nan() || na <= 0.0 {
        0
    } else {
        na as u64
    }
}

/// The button's cell, drained by the power states and pulses.
///
/// Charge is integrated exactly (integer nA·µs) from one call to the next at
/// the current state's constant current plus the cell's self-discharge. Calls
/// with a time earlier than the last one integrate nothing (time never runs
/// backwards). Queries (`soc_permille`, `voltage_mv`, …) take `&self` and
/// project the charge to `now_us` without changing the battery.
///
/// A new battery is in [`PowerState::ConnectedIdle`] at time 0 (the
/// simulation starts with the button connected).
#[derive(Clone, Debug)]
pub struct Battery {
    cell: CellProfile,
    power: PowerProfile,
    capacity: u128,
    remaining: u128,
    state: PowerState,
    since_us: u64,
    state_na: [u64; 6],
    self_discharge_na: u64,
    consumed: [u128; 9],
    time_in_state_us: [u64; 6],
}

impl Battery {
    /// A battery of `cell` at `soc_percent` (clamped to 0–100) feeding a
    /// button with `power`, at time 0, connected idle.
    ///
    /// Call [`CellProfile::validate`] and [`PowerProfile::validate`] first:
    /// nonsense figures are clamped (negative currents count as 0).
    pub fn new(cell: CellProfile, power: PowerProfile, soc_percent: f64) -> Self {
        let capacity = to_na(cell.capacity_uah()) as u128 * 3_600_000_000;
        let state_na = PowerState::ALL.map(|s| to_na(power.state_current_ua(s)));
        let self_discharge_na = to_na(
            cell.capacity_uah() * 3_600_000_000.0 * cell.self_discharge_percent_per_year
                / 100.0
                / US_PER_YEAR,
        );
        let mut battery = Battery {
            cell,
            power,
            capacity,
            remaining: capacity,
            state: PowerState::ConnectedIdle,
            since_us: 0,
            state_na,
            self_discharge_na,
            consumed: [0; 9],
            time_in_state_us: [0; 6],
        };
        battery.remaining = battery.charge_for_percent(soc_percent);
        battery
    }

    fn charge_for_percent(&self, soc_percent: f64) -> u128 {
        let p = if soc_percent.is_nan() {
            0.0
        } else {
            soc_percent.clamp(0.0, 100.0)
        };
        // Parts per billion of the capacity, then exact integer scaling.
        let ppb = (p * 10_000_000.0).round() as u128;
        self.capacity / 1_000_000_000 * ppb + self.capacity % 1_000_000_000 * ppb / 1_000_000_000
    }

    /// The cell profile.
    pub fn cell(&self) -> &CellProfile {
        &self.cell
    }

    /// The power profile.
    pub fn power(&self) -> &PowerProfile {
        &self.power
    }

    /// The current power state.
    pub fn state(&self) -> PowerState {
        self.state
    }

    /// The time up to which charge has been integrated, µs.
    pub fn integrated_until_us(&self) -> u64 {
        self.since_us
    }

    /// Average current of `state` as the battery integrates it (whole nA), µA.
    pub fn state_current_ua(&self, state: PowerState) -> f64 {
        self.state_na[state.index()] as f64 / 1000.0
    }

    /// Self-discharge expressed as a constant current (whole nA), µA.
    pub fn self_discharge_ua(&self) -> f64 {
        self.self_discharge_na as f64 / 1000.0
    }

    /// Drain rate now: the state's current plus self-discharge, in nA.
    fn rate_na(&self) -> u128 {
        u128::from(self.state_na[self.state.index()]) + u128::from(self.self_discharge_na)
    }

    /// Integrates the charge drawn from the last call up to `now_us`.
    pub fn advance(&mut self, now_us: u64) {
        if now_us <= self.since_us {
            return;
        }
        let dt = now_us - self.since_us;
        let state_charge = u128::from(self.state_na[self.state.index()]) * u128::from(dt);
        let self_charge = u128::from(self.self_discharge_na) * u128::from(dt);
        let demand = state_charge + self_charge;
        let (s, d) = if demand <= self.remaining {
            (state_charge, self_charge)
        } else {
            // The cell runs dry inside this interval: split what was left.
            let s = state_charge * self.remaining / demand;
            (s, self.remaining - s)
        };
        self.consumed[Consumer::of_state(self.state).index()] += s;
        self.consumed[Consumer::SelfDischarge.index()] += d;
        self.remaining -= s + d;
        self.time_in_state_us[self.state.index()] += dt;
        self.since_us = now_us;
    }

    /// Integrates up to `now_us`, then switches to `state`.
    pub fn set_state(&mut self, now_us: u64, state: PowerState) {
        self.advance(now_us);
        self.state = state;
    }

    /// Integrates up to `now_us`, then sets the state of charge (e.g. from a
    /// scenario's `the button battery is at {n}%`, or a trace's voltage via
    /// [`CellProfile::soc_percent_for_ocv`]).
    pub fn set_soc_percent(&mut self, now_us: u64, soc_percent: f64) {
        self.advance(now_us);
        self.remaining = self.charge_for_percent(soc_percent);
    }

    /// Draws a transient load starting at `now_us` (its whole charge is
    /// booked at `now_us`; the state's own drain continues underneath).
    /// Returns whether the load browned the button out (see
    /// [`Battery::brownout_during`], evaluated before the charge is drawn).
    pub fn pulse(&mut self, now_us: u64, load: Pulse) -> bool {
        self.advance(now_us);
        let browned_out = self.brownout_during(now_us, load);
        self.draw(load);
        browned_out
    }

    /// Books `load`'s charge (the state's drain integrated up to `now_us` first),
    /// already known not to brown the cell out (e.g. by
    /// [`Battery::browns_out_in_band`]).
    pub fn pulse_unchecked(&mut self, now_us: u64, load: Pulse) {
        self.advance(now_us);
        self.draw(load);
    }

    /// `count` pulses of `load`, the first at `first_us` and one every `period_us`
    /// after it, booked exactly as that many [`Battery::pulse_unchecked`] calls
    /// would (the drain between them is linear, so integrating it once to the last
    /// one gives the same charge); none may brown out or empty the cell (see
    /// [`Battery::browns_out_in_band`] and [`Battery::pulses_above`]).
    pub fn periodic_pulses_unchecked(
        &mut self,
        first_us: u64,
        period_us: u64,
        count: u64,
        load: Pulse,
    ) {
        let Some(n) = count.checked_sub(1) else {
            return;
        };
        self.advance(first_us.saturating_add(n.saturating_mul(period_us)));
        let charge = u128::from(to_na(load.current_ua)) * u128::from(load.duration_us);
        match charge.checked_mul(u128::from(count)) {
            // None of them meets an empty cell: `count` draws of `charge` each.
            Some(total) if total <= self.remaining => self.book(load.kind, total),
            _ => {
                for _ in 0..count {
                    self.draw(load);
                }
            }
        }
    }

    /// Of pulses of `load` at `first_us` and every `period_us` after it, how many go
    /// before the state of charge reaches `target_permille`, as a host sees it that
    /// asks [`Battery::time_until_soc`] after each pulse and stops at the first pulse
    /// due at or after that time: the first always goes (`u64::MAX`: the charge never
    /// gets there). Exact integer arithmetic, no loop.
    pub fn pulses_above(
        &self,
        first_us: u64,
        period_us: u64,
        load: Pulse,
        target_permille: u16,
    ) -> u64 {
        let rate = self.rate_na();
        if rate == 0 {
            return u64::MAX;
        }
        let q = u128::from(to_na(load.current_ua)) * u128::from(load.duration_us);
        let threshold = u128::from(target_permille) * self.capacity / 1000;
        // After pulse i the charge is R - (i+1)q - i·P·rate; pulse i+1 goes while
        // that is above threshold + P·rate (time_until_soc > P).
        let per_period = u128::from(period_us) * rate;
        let room = self
            .remaining_at(first_us)
            .checked_sub(threshold + per_period + q);
        match room {
            Some(n) if n > 0 => {
                let more = n.div_ceil(q + per_period);
                u64::try_from(more).map_or(u64::MAX, |m| m.saturating_add(1))
            }
            _ => 1,
        }
    }

    fn draw(&mut self, load: Pulse) {
        let charge = u128::from(to_na(load.current_ua)) * u128::from(load.duration_us);
        self.book(load.kind, charge.min(self.remaining));
    }

    /// Take `charge` (at most what remains) from the cell, on `kind`'s account.
    fn book(&mut self, kind: PulseKind, charge: u128) {
        let who = match kind {
            PulseKind::Radio => Consumer::Radio,
            PulseKind::Motor => Consumer::Motor,
        };
        self.consumed[who.index()] += charge;
        self.remaining -= charge;
    }

    /// Whether `load` on top of the current state's drain would brown the cell out
    /// anywhere in the level band it is in at `now_us` (state of charge above
    /// `level_percent(now_us) − 1` %), judged at the band's floor: with a validated
    /// cell (the loaded voltage never rises as charge is drawn), `false` means no such
    /// load browns out ([`Battery::brownout_during`]) before the level drops.
    pub fn browns_out_in_band(&self, now_us: u64, load: Pulse) -> bool {
        let level = self.level_percent(now_us);
        if level <= 1 {
            return true;
        }
        let floor = f64::from(level - 1);
        let total = self.power.state_current_ua(self.state) + load.current_ua;
        let mv = self.cell.ocv_mv(floor) - total * self.cell.resistance_ohms(floor) / 1000.0;
        mv < self.cell.cutoff_mv
    }

    /// Remaining charge at `now_us`, nA·µs.
    fn remaining_at(&self, now_us: u64) -> u128 {
        if now_us <= self.since_us {
            return self.remaining;
        }
        let drain = self.rate_na() * u128::from(now_us - self.since_us);
        self.remaining.saturating_sub(drain)
    }

    /// State of charge at `now_us` in per mille, rounded up (0 only when empty;
    /// `soc_permille(t) <= 200` exactly when SoC ≤ 20 %).
    pub fn soc_permille(&self, now_us: u64) -> u16 {
        let r = self.remaining_at(now_us) * 1000;
        r.div_ceil(self.capacity.max(1)) as u16
    }

    /// The Battery Level (0x2A19) value at `now_us`: SoC in percent, rounded
    /// up (0 only when empty; `<= 20` exactly when SoC ≤ 20 %).
    pub fn level_percent(&self, now_us: u64) -> u8 {
        let r = self.remaining_at(now_us) * 100;
        r.div_ceil(self.capacity.max(1)) as u8
    }

    /// State of charge at `now_us` as a percentage (not rounded).
    pub fn soc_percent(&self, now_us: u64) -> f64 {
        self.remaining_at(now_us) as f64 * 100.0 / self.capacity.max(1) as f64
    }

    /// Whether the cell is empty at `now_us`.
    pub fn is_depleted(&self, now_us: u64) -> bool {
        self.remaining_at(now_us) == 0
    }

    fn loaded_mv(&self, now_us: u64, load_ua: f64) -> f64 {
        let soc = self.soc_percent(now_us);
        self.cell.ocv_mv(soc) - load_ua * self.cell.resistance_ohms(soc) / 1000.0
    }

    /// Terminal voltage at `now_us` under a total load of `load_ua`:
    /// `OCV(SoC) − I·R(SoC)`, millivolts (rounded, never below 0).
    pub fn voltage_mv(&self, now_us: u64, load_ua: f64) -> u32 {
        let mv = self.loaded_mv(now_us, load_ua).round();
        if mv.is_nan() || mv <= 0.0 {
            0
        } else {
            mv as u32
        }
    }

    /// Whether `load`, on top of the current state's average current, would
    /// sag the terminal voltage below the cell's cut-off at `now_us` (or the
    /// cell is empty). A coin cell near empty browns out under the vibration
    /// motor long before its charge is spent.
    pub fn brownout_during(&self, now_us: u64, load: Pulse) -> bool {
        if self.is_depleted(now_us) {
            return true;
        }
        let total = self.power.state_current_ua(self.state) + load.current_ua;
        self.loaded_mv(now_us, total) < self.cell.cutoff_mv
    }

    /// How long from `now_us`, in µs, until `soc_permille` drops to
    /// `target_permille` or below at the current state's drain: `Some(0)` if
    /// it already has, `None` if nothing drains the cell. Exact: at
    /// `now_us + d` the SoC is at or below the target, at `now_us + d − 1`
    /// it is not. `time_until_soc(now, 0)` is when the cell runs dry.
    pub fn time_until_soc(&self, now_us: u64, target_permille: u16) -> Option<u64> {
        let r0 = self.remaining_at(now_us);
        // soc_permille <= target  <=>  remaining * 1000 <= target * capacity
        let threshold = u128::from(target_permille) * self.capacity / 1000;
        if r0 <= threshold {
            return Some(0);
        }
        let rate = self.rate_na();
        if rate == 0 {
            return None;
        }
        let d = (r0 - threshold).div_ceil(rate);
        Some(u64::try_from(d).unwrap_or(u64::MAX))
    }

    /// Charge drawn by `consumer` since the battery was created, µAh.
    pub fn consumed_uah(&self, consumer: Consumer) -> f64 {
        self.consumed[consumer.index()] as f64 / NAUS_PER_UAH as f64
    }

    /// Total charge drawn since the battery was created, µAh.
    pub fn consumed_total_uah(&self) -> f64 {
        self.consumed.iter().sum::<u128>() as f64 / NAUS_PER_UAH as f64
    }

    /// Charge drawn per consumer since creation, µAh, in [`Consumer::ALL`] order.
    pub fn breakdown(&self) -> Vec<(Consumer, f64)> {
        Consumer::ALL
            .iter()
            .map(|&c| (c, self.consumed_uah(c)))
            .collect()
    }

    /// Time integrated in `state` since creation, µs.
    pub fn time_in_state_us(&self, state: PowerState) -> u64 {
        self.time_in_state_us[state.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;
    const DAY: u64 = 86_400 * S;

    fn default_battery(soc: f64) -> Battery {
        Battery::new(CellProfile::cr2032(), PowerProfile::default(), soc)
    }

    #[test]
    fn built_in_profiles_are_valid() {
        CellProfile::cr2032().validate().unwrap();
        CellProfile::lipo_100mah().validate().unwrap();
        PowerProfile::default().validate().unwrap();
    }

    #[test]
    fn validation_rejects_nonsense() {
        let mut c = CellProfile::cr2032();
        c.capacity_mah = -1.0;
        assert!(c.validate().is_err());
        let mut c = CellProfile::cr2032();
        c.ocv.swap(1, 2);
        assert!(c.validate().is_err());
        let mut c = CellProfile::cr2032();
        c.cutoff_mv = 5000.0;
        assert!(c.validate().is_err());
        let mut c = CellProfile::cr2032();
        c.sources.clear();
        assert!(c.validate().is_err());
        let p = PowerProfile {
            sleep_ua: f64::NAN,
            ..PowerProfile::default()
        };
        assert!(p.validate().is_err());
        let p = PowerProfile {
            conn_interval_ms: 5.0,
            ..PowerProfile::default()
        };
        assert!(p.validate().is_err());
    }

    #[test]
    fn cell_json_round_trips_and_rejects_unknown_fields() {
        let c = CellProfile::cr2032();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<CellProfile>(&json).unwrap(), c);
        let bad = json.replacen('{', "{\"colour\":\"red\",", 1);
        assert!(serde_json::from_str::<CellProfile>(&bad).is_err());
        let p = PowerProfile::default();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<PowerProfile>(&json).unwrap(), p);
    }

    #[test]
    fn scenario_cell_files_equal_the_built_ins() {
        let cr = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/profiles/cells/cr2032.json"
        ));
        let lipo = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/profiles/cells/lipo_100mah.json"
        ));
        let cr: CellProfile = serde_json::from_str(cr).unwrap();
        let lipo: CellProfile = serde_json::from_str(lipo).unwrap();
        assert_eq!(cr, CellProfile::cr2032());
        assert_eq!(lipo, CellProfile::lipo_100mah());
    }

    #[test]
    fn derived_state_currents() {
        let p = PowerProfile::default();
        // 8 µC every 100 ms × (1 + 9) = 1 s → 8 µA, on a floor of 2 + 6 µA.
        assert_eq!(p.connection_events_ua(), 8.0);
        assert_eq!(p.state_current_ua(PowerState::ConnectedIdle), 16.0);
        assert_eq!(p.state_current_ua(PowerState::Sleep), 8.0);
        let fast = p.state_current_ua(PowerState::AdvertisingFast);
        assert!((fast - (8.0 + 13.0 / 0.105)).abs() < 1e-9, "{fast}");
        let b = default_battery(100.0);
        // 220 mAh × 1 %/year = 0.251 µA.
        assert_eq!(b.self_discharge_ua(), 0.251);
    }

    #[test]
    fn connected_idle_drain_is_half_to_two_percent_a_week() {
        let mut b = default_battery(100.0);
        b.advance(7 * DAY);
        let drained = 100.0 - b.soc_percent(7 * DAY);
        assert!((0.5..=2.0).contains(&drained), "{drained} % a week");
        // The hand calculation of docs/battery.md: 16.251 µA × 168 h / 220 mAh.
        let hand = 16.251 * 168.0 / 220_000.0 * 100.0;
        assert!((drained - hand).abs() < 1e-3, "{drained} vs {hand}");
    }

    #[test]
    fn integration_is_exact_across_splits() {
        let mut one = default_battery(87.5);
        let mut two = one.clone();
        one.advance(123_456_789_012);
        two.advance(1);
        two.advance(55_555_555_555);
        two.advance(123_456_789_012);
        assert_eq!(one.remaining, two.remaining);
        assert_eq!(one.consumed, two.consumed);
        // Going back in time integrates nothing.
        two.advance(5);
        assert_eq!(one.remaining, two.remaining);
        // Charge is conserved.
        let start = one.charge_for_percent(87.5);
        assert_eq!(one.consumed.iter().sum::<u128>() + one.remaining, start);
    }

    #[test]
    fn integration_matches_current_times_time() {
        let mut b = default_battery(100.0);
        b.set_state(0, PowerState::AdvertisingFast);
        b.advance(10 * S);
        b.set_state(10 * S, PowerState::ConnectedIdle);
        b.advance(3600 * S);
        let fast = b.state_current_ua(PowerState::AdvertisingFast);
        let expect_fast = fast * 10.0 / 3600.0;
        assert!((b.consumed_uah(Consumer::AdvertisingFast) - expect_fast).abs() < 1e-9);
        let expect_idle = 16.0 * 3590.0 / 3600.0;
        assert!((b.consumed_uah(Consumer::ConnectedIdle) - expect_idle).abs() < 1e-9);
        assert_eq!(b.time_in_state_us(PowerState::ConnectedIdle), 3590 * S);
    }

    #[test]
    fn time_until_soc_is_consistent_with_advancing() {
        for (soc, state, target) in [
            (100.0, PowerState::ConnectedIdle, 200u16),
            (25.0, PowerState::AdvertisingFast, 100),
            (20.05, PowerState::MicStreaming, 200),
            (3.0, PowerState::Sleep, 0),
        ] {
            let mut b = default_battery(soc);
            b.set_state(1_000, state);
            let d = b.time_until_soc(1_000, target).unwrap();
            assert!(d > 0);
            let t = 1_000 + d;
            assert!(b.soc_permille(t) <= target);
            assert!(b.soc_permille(t - 1) > target);
            let mut stepped = b.clone();
            stepped.advance(t - 1);
            assert!(stepped.soc_permille(t - 1) > target);
            stepped.advance(t);
            assert!(stepped.soc_permille(t) <= target);
            assert_eq!(stepped.time_until_soc(t, target), Some(0));
        }
        let mut off = default_battery(50.0);
        off.cell.self_discharge_percent_per_year = 0.0;
        off.self_discharge_na = 0;
        off.state_na[PowerState::Off.index()] = 0;
        off.set_state(0, PowerState::Off);
        assert_eq!(off.time_until_soc(0, 100), None);
    }

    #[test]
    fn level_rounds_up_and_reports_percent() {
        let b = default_battery(100.0);
        assert_eq!(b.level_percent(0), 100);
        assert_eq!(b.soc_permille(0), 1000);
        let b = default_battery(20.0);
        assert_eq!(b.level_percent(0), 20);
        assert_eq!(b.level_percent(1), 20);
        let d = b.time_until_soc(0, 190).unwrap();
        assert_eq!(b.level_percent(d), 19);
        let b = default_battery(0.0);
        assert_eq!(b.level_percent(0), 0);
        assert!(b.is_depleted(0));
    }

    #[test]
    fn coin_cell_browns_out_under_the_motor_only_when_low() {
        let p = PowerProfile::default();
        let motor = p.motor_pulse(200_000);
        for soc in [100.0, 60.0, 30.0, 20.0, 15.0] {
            let b = default_battery(soc);
            assert!(!b.brownout_during(0, motor), "no brown-out at {soc} %");
            assert!(!b.brownout_during(0, p.radio_pulse()));
        }
        for soc in [13.0, 10.0, 5.0, 1.0] {
            let b = default_battery(soc);
            assert!(b.brownout_during(0, motor), "brown-out at {soc} %");
            // ... while the cell still holds days of connected idle.
            assert!(b.time_until_soc(0, 0).unwrap() > DAY);
        }
        // A radio packet still goes through down to 5 %, not when nearly empty.
        assert!(!default_battery(5.0).brownout_during(0, p.radio_pulse()));
        assert!(default_battery(1.0).brownout_during(0, p.radio_pulse()));
        let mut b = default_battery(10.0);
        assert!(b.pulse(0, motor));
        assert!(b.consumed_uah(Consumer::Motor) > 3.8);
    }

    #[test]
    fn lipo_does_not_brown_out_under_the_motor_until_nearly_empty() {
        let p = PowerProfile::default();
        let motor = p.motor_pulse(200_000);
        let b = Battery::new(CellProfile::lipo_100mah(), p.clone(), 5.0);
        assert!(!b.brownout_during(0, motor));
        let b = Battery::new(CellProfile::lipo_100mah(), p, 0.0);
        assert!(b.brownout_during(0, motor));
    }

    #[test]
    fn voltage_is_ocv_minus_ir() {
        let b = default_battery(50.0);
        assert_eq!(b.voltage_mv(0, 0.0), 2900);
        // 70 mA × 10.5 Ω = 735 mV.
        assert_eq!(b.voltage_mv(0, 70_000.0), 2165);
        let c = CellProfile::cr2032();
        assert_eq!(c.soc_percent_for_ocv(2900.0), 50.0);
        assert_eq!(c.soc_percent_for_ocv(2000.0), 0.0);
        assert_eq!(c.soc_percent_for_ocv(4000.0), 100.0);
        assert!((c.soc_percent_for_ocv(2700.0) - 12.5).abs() < 1e-12);
    }

    #[test]
    fn thirty_days_of_idle_in_constant_events() {
        // One call integrates 30 days: no ticking, so it is instant, and
        // matches 30 × 24 h of 16.251 µA.
        let mut b = default_battery(100.0);
        b.advance(30 * DAY);
        let expect = 16.251 * 24.0 * 30.0;
        assert!((b.consumed_total_uah() - expect).abs() < 1e-6);
        // Same result in 720 hourly calls.
        let mut h = default_battery(100.0);
        for i in 1..=720 {
            h.advance(i * 3600 * S);
        }
        assert_eq!(h.remaining, b.remaining);
    }

    #[test]
    fn set_soc_and_pulses_account_charge() {
        let mut b = default_battery(100.0);
        b.set_soc_percent(0, 42.0);
        assert_eq!(b.level_percent(0), 42);
        b.pulse(0, PowerProfile::default().radio_pulse());
        // 7 mA × 1.5 ms = 10.5 µC = 10.5 / 3600 µAh.
        assert!((b.consumed_uah(Consumer::Radio) - 10.5 / 3600.0).abs() < 1e-12);
    }

    proptest::proptest! {
        #[test]
        fn any_split_integrates_the_same(
            soc in 0.0f64..=100.0,
            cuts in proptest::collection::vec(0u64..(400 * DAY), 0..20),
            end in 0u64..(400 * DAY),
            state in 0usize..6,
        ) {
            let mut one = default_battery(soc);
            one.set_state(0, PowerState::ALL[state]);
            let mut many = one.clone();
            let mut cuts = cuts;
            cuts.sort_unstable();
            for &t in cuts.iter().filter(|&&t| t <= end) {
                many.advance(t);
                proptest::prop_assert_eq!(many.soc_permille(end), one.soc_permille(end));
            }
            one.advance(end);
            many.advance(end);
            proptest::prop_assert_eq!(one.remaining, many.remaining);
            proptest::prop_assert_eq!(one.consumed, many.consumed);
        }
    }
}
