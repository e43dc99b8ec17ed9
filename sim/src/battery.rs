//! Battery lifetime estimate behind `sim battery`.
//!
//! The estimate is not a separate formula: it runs the device model's
//! [`Battery`] over a simulated life, event by event (the battery integrates
//! exactly between events, so a life of ~540 days costs a few thousand
//! calls), under a simple usage model ([`Usage`]):
//!
//! * the button is connected and idle all day;
//! * `presses_per_day` presses, evenly spread, each costing the indication
//!   exchange (radio events) and, one second later, the phone's `sent`
//!   vibration pattern (two 200 ms motor pulses 200 ms apart);
//! * `reconnections_per_day` short link losses, each costing 2 s of fast
//!   advertising and the radio events of the reconnection.
//!
//! It reports the days until the cell is empty, until the 20 % and 10 %
//! warnings, until the first `sent` vibration that browns the button out,
//! and where the charge went. `docs/battery.md` holds the hand calculation
//! this must agree with.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use device_model::power::{Battery, CellProfile, PowerProfile, PowerState};
use serde::Serialize;

const S: u64 = 1_000_000;
const DAY_US: u64 = 86_400 * S;
/// The simulation stops after 100 years even if the cell is not empty.
const HORIZON_DAYS: u64 = 36_525;

/// How the wearer and the link use the button, for the estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Usage {
    /// Presses a day (each raising an alert), evenly spread over the day.
    pub presses_per_day: f64,
    /// Data-carrying radio events per press: the event indication, its
    /// confirmation, the phone's vibrate command.
    pub radio_events_per_press: u32,
    /// Delay from the press to the `sent` vibration (SMS handed over), µs.
    pub sent_delay_us: u64,
    /// The `sent` pattern: motor pulse lengths, µs.
    pub sent_pattern_pulses_us: Vec<u64>,
    /// Pause between the pattern's pulses, µs.
    pub sent_pattern_gap_us: u64,
    /// Short link losses a day (walking out of range and back).
    pub reconnections_per_day: u32,
    /// Fast advertising before each reconnection, µs.
    pub reconnect_advertising_us: u64,
    /// Radio events of each reconnection (connection setup, clock set,
    /// queue check).
    pub reconnect_radio_events: u32,
}

impl Usage {
    /// The default usage with `presses_per_day` presses a day.
    pub fn with_presses(presses_per_day: f64) -> Self {
        Usage {
            presses_per_day,
            ..Usage::default()
        }
    }
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            presses_per_day: 2.0,
            radio_events_per_press: 3,
            sent_delay_us: S,
            sent_pattern_pulses_us: vec![200_000, 200_000],
            sent_pattern_gap_us: 200_000,
            reconnections_per_day: 1,
            reconnect_advertising_us: 2 * S,
            reconnect_radio_events: 4,
        }
    }
}

/// One line of the consumption breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakdownRow {
    /// Consumer name ([`device_model::power::Consumer::name`]).
    pub consumer: String,
    /// Average charge a day over the simulated life, µAh.
    pub uah_per_day: f64,
    /// Share of all the charge drawn, percent.
    pub percent: f64,
}

/// The result of [`estimate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LifetimeEstimate {
    /// Cell profile name.
    pub cell: String,
    /// Usable capacity, mAh.
    pub capacity_mah: f64,
    /// Presses a day assumed.
    pub presses_per_day: f64,
    /// Days from full until the cell is empty (capped at 100 years).
    pub days: f64,
    /// Days from full until the 20 % low-battery warning.
    pub days_to_20_percent: Option<f64>,
    /// Days from full until the 10 % low-battery warning.
    pub days_to_10_percent: Option<f64>,
    /// Days from full until the first `sent` vibration that browns the
    /// button out (the practical end of life of a coin cell).
    pub days_to_motor_brownout: Option<f64>,
    /// State of charge at that first brown-out, percent.
    pub motor_brownout_soc_percent: Option<f64>,
    /// Average current over the life, µA.
    pub average_current_ua: f64,
    /// Average charge a day, µAh.
    pub uah_per_day: f64,
    /// Connected-idle current including self-discharge, µA.
    pub connected_idle_ua: f64,
    /// Share of the capacity a week of connected idle drains, percent.
    pub idle_drain_percent_per_week: f64,
    /// Where the charge went.
    pub breakdown: Vec<BreakdownRow>,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Radio(u32),
    Motor(u64),
    State(PowerState),
}

/// Thresholds crossed during the run, as absolute times (µs).
#[derive(Default)]
struct Marks {
    p20: Option<u64>,
    p10: Option<u64>,
    empty: Option<u64>,
}

impl Marks {
    /// Records the thresholds the battery crosses between `now` and `until`
    /// at its current drain.
    fn scan(&mut self, b: &Battery, now: u64, until: u64) {
        for (slot, permille) in [
            (&mut self.p20, 200u16),
            (&mut self.p10, 100),
            (&mut self.empty, 0),
        ] {
            if slot.is_none() {
                if let Some(d) = b.time_until_soc(now, permille) {
                    if now.saturating_add(d) <= until {
                        *slot = Some(now + d);
                    }
                }
            }
        }
    }
}

fn schedule_day(
    usage: &Usage,
    day: u64,
    press_index: &mut u64,
    events: &mut BTreeMap<(u64, u64), Ev>,
    seq: &mut u64,
) {
    let mut push = |t: u64, ev: Ev, events: &mut BTreeMap<(u64, u64), Ev>| {
        events.insert((t, *seq), ev);
        *seq += 1;
    };
    let start = day * DAY_US;
    let end = start + DAY_US;
    let n = usage.reconnections_per_day;
    for j in 0..n {
        // Reconnections a quarter of the way into their slot of the day.
        let t = start + (DAY_US * (4 * u64::from(j) + 1)) / (4 * u64::from(n));
        push(t, Ev::State(PowerState::AdvertisingFast), events);
        let up = t + usage.reconnect_advertising_us;
        push(up, Ev::State(PowerState::ConnectedIdle), events);
        push(up, Ev::Radio(usage.reconnect_radio_events), events);
    }
    let ppd = usage.presses_per_day;
    if ppd.is_finite() && ppd > 0.0 {
        loop {
            // Press i happens at (i + 0.5) / ppd days.
            let t = ((*press_index as f64 + 0.5) / ppd * DAY_US as f64).round() as u64;
            if t >= end {
                break;
            }
            *press_index += 1;
            push(t, Ev::Radio(usage.radio_events_per_press), events);
            let mut m = t + usage.sent_delay_us;
            for &len in &usage.sent_pattern_pulses_us {
                push(m, Ev::Motor(len), events);
                m += len + usage.sent_pattern_gap_us;
            }
        }
    }
}

/// Estimates the lifetime of a full `cell` in a button with `power`, used
/// with the default [`Usage`] and `presses_per_day` presses a day.
pub fn estimate(
    cell: &CellProfile,
    power: &PowerProfile,
    presses_per_day: f64,
) -> LifetimeEstimate {
    estimate_with(cell, power, &Usage::with_presses(presses_per_day))
}

/// One usage event on the battery at `now`; the first motor brown-out is noted.
fn apply(
    b: &mut Battery,
    power: &PowerProfile,
    now: u64,
    ev: Ev,
    brownout: &mut Option<(u64, f64)>,
) {
    match ev {
        Ev::Radio(n) => {
            for _ in 0..n {
                b.pulse(now, power.radio_pulse());
            }
        }
        Ev::Motor(len) => {
            let soc = b.soc_percent(now);
            if b.pulse(now, power.motor_pulse(len)) && brownout.is_none() {
                *brownout = Some((now, soc));
            }
        }
        Ev::State(s) => b.set_state(now, s),
    }
}

/// Charge per consumer, per day and as a share of the total.
fn breakdown(b: &Battery, days: f64) -> Vec<BreakdownRow> {
    let total = b.consumed_total_uah();
    b.breakdown()
        .into_iter()
        .map(|(c, uah)| BreakdownRow {
            consumer: c.name().to_string(),
            uah_per_day: uah / days,
            percent: if total > 0.0 {
                uah * 100.0 / total
            } else {
                0.0
            },
        })
        .collect()
}

/// Estimates the lifetime of a full `cell` in a button with `power` under
/// `usage`, by running the [`Battery`] model over the simulated life.
pub fn estimate_with(cell: &CellProfile, power: &PowerProfile, usage: &Usage) -> LifetimeEstimate {
    let mut b = Battery::new(cell.clone(), power.clone(), 100.0);
    let mut marks = Marks::default();
    let mut brownout: Option<(u64, f64)> = None;
    let mut events: BTreeMap<(u64, u64), Ev> = BTreeMap::new();
    let (mut seq, mut press_index, mut now) = (0u64, 0u64, 0u64);
    let horizon = HORIZON_DAYS * DAY_US;

    'life: for day in 0..HORIZON_DAYS {
        schedule_day(usage, day, &mut press_index, &mut events, &mut seq);
        let day_end = (day + 1) * DAY_US;
        while let Some(entry) = events.first_entry() {
            let (t, _) = *entry.key();
            if t >= day_end {
                break;
            }
            let ev = entry.remove();
            let t = t.max(now);
            marks.scan(&b, now, t);
            if marks.empty.is_some() {
                break 'life;
            }
            now = t;
            apply(&mut b, power, now, ev, &mut brownout);
            // A pulse may have crossed a threshold on the spot.
            marks.scan(&b, now, now);
            if marks.empty.is_some() {
                break 'life;
            }
        }
        marks.scan(&b, now, day_end);
        if marks.empty.is_some() {
            break;
        }
        b.advance(day_end);
        now = day_end;
    }
    let end = marks.empty.unwrap_or(horizon);
    b.advance(end);

    let days = end as f64 / DAY_US as f64;
    let to_days = |t: Option<u64>| t.map(|t| t as f64 / DAY_US as f64);
    let total = b.consumed_total_uah();
    let breakdown = breakdown(&b, days);

    let mut idle = Battery::new(cell.clone(), power.clone(), 100.0);
    idle.advance(7 * DAY_US);
    let idle_drain_percent_per_week = 100.0 - idle.soc_percent(7 * DAY_US);

    LifetimeEstimate {
        cell: cell.name.clone(),
        capacity_mah: cell.capacity_mah,
        presses_per_day: usage.presses_per_day,
        days,
        days_to_20_percent: to_days(marks.p20),
        days_to_10_percent: to_days(marks.p10),
        days_to_motor_brownout: to_days(brownout.map(|(t, _)| t)),
        motor_brownout_soc_percent: brownout.map(|(_, soc)| soc),
        average_current_ua: total / (days * 24.0),
        uah_per_day: total / days,
        connected_idle_ua: b.state_current_ua(PowerState::ConnectedIdle) + b.self_discharge_ua(),
        idle_drain_percent_per_week,
        breakdown,
    }
}

impl LifetimeEstimate {
    /// A human-readable report.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let opt = |d: Option<f64>| d.map_or_else(|| "never".to_string(), |d| format!("day {d:.1}"));
        let _ = writeln!(
            out,
            "Battery lifetime estimate: {} ({} mAh), {} presses/day",
            self.cell, self.capacity_mah, self.presses_per_day
        );
        let _ = writeln!(
            out,
            "  lifetime (to empty)      {:.1} days ({:.2} years)",
            self.days,
            self.days / 365.25
        );
        let _ = writeln!(
            out,
            "  20 % warning             {}",
            opt(self.days_to_20_percent)
        );
        let _ = writeln!(
            out,
            "  10 % warning             {}",
            opt(self.days_to_10_percent)
        );
        let brownout = match (self.days_to_motor_brownout, self.motor_brownout_soc_percent) {
            (Some(d), Some(soc)) => format!("day {d:.1} (SoC {soc:.1} %)"),
            _ => "never".to_string(),
        };
        let _ = writeln!(out, "  first motor brown-out    {brownout}");
        let _ = writeln!(
            out,
            "  average current          {:.2} uA ({:.2} uAh/day)",
            self.average_current_ua, self.uah_per_day
        );
        let _ = writeln!(
            out,
            "  connected idle           {:.3} uA, {:.2} % of capacity a week",
            self.connected_idle_ua, self.idle_drain_percent_per_week
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "  {:<20} {:>12} {:>8}", "consumer", "uAh/day", "%");
        for row in self.breakdown.iter().filter(|r| r.uah_per_day > 0.0) {
            let _ = writeln!(
                out,
                "  {:<20} {:>12.3} {:>8.2}",
                row.consumer, row.uah_per_day, row.percent
            );
        }
        out
    }

    /// The estimate as one JSON object (the fields of [`LifetimeEstimate`]).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand calculation of docs/battery.md for the default profile at
    /// 2 presses a day: 405.673 µAh/day → 220 000 / 405.673 = 542.31 days.
    const HAND_UAH_PER_DAY: f64 = 390.024 + 15.573 + 0.076;
    const HAND_DAYS: f64 = 220_000.0 / HAND_UAH_PER_DAY;

    #[test]
    fn default_profile_agrees_with_the_hand_calculation() {
        let e = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 2.0);
        let rel = (e.days - HAND_DAYS).abs() / HAND_DAYS;
        assert!(
            rel < 0.05,
            "model {} days vs hand {} days",
            e.days,
            HAND_DAYS
        );
        // In fact much closer than 5 %.
        assert!(
            rel < 0.002,
            "model {} days vs hand {} days",
            e.days,
            HAND_DAYS
        );
        assert!((e.uah_per_day - HAND_UAH_PER_DAY).abs() / HAND_UAH_PER_DAY < 0.002);
        assert!((0.5..=2.0).contains(&e.idle_drain_percent_per_week));
    }

    #[test]
    fn warnings_and_brownout_come_in_order() {
        let e = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 2.0);
        let d20 = e.days_to_20_percent.unwrap();
        let d10 = e.days_to_10_percent.unwrap();
        let dbo = e.days_to_motor_brownout.unwrap();
        let soc = e.motor_brownout_soc_percent.unwrap();
        assert!(d20 < dbo && dbo < e.days, "{d20} {dbo} {}", e.days);
        assert!(d10 < e.days);
        assert!((10.0..=15.0).contains(&soc), "brown-out at {soc} %");
    }

    #[test]
    fn breakdown_adds_up() {
        let e = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 2.0);
        let pct: f64 = e.breakdown.iter().map(|r| r.percent).sum();
        assert!((pct - 100.0).abs() < 1e-9);
        let per_day: f64 = e.breakdown.iter().map(|r| r.uah_per_day).sum();
        assert!((per_day - e.uah_per_day).abs() < 1e-9);
        // Full capacity consumed by the end.
        assert!((e.uah_per_day * e.days - 220_000.0).abs() < 1e-3);
        let motor = e
            .breakdown
            .iter()
            .find(|r| r.consumer == "vibration_motor")
            .unwrap();
        // 2 × 2 × 70 mA × 0.2 s = 56 mC = 15.556 µAh a day.
        assert!(
            (motor.uah_per_day - 15.556).abs() < 0.05,
            "{}",
            motor.uah_per_day
        );
    }

    #[test]
    fn more_presses_shorten_life_and_lipo_is_shorter() {
        let cell = CellProfile::cr2032();
        let p = PowerProfile::default();
        let quiet = estimate(&cell, &p, 0.0);
        let busy = estimate(&cell, &p, 20.0);
        assert!(busy.days < quiet.days);
        let lipo = estimate(&CellProfile::lipo_100mah(), &p, 2.0);
        assert!(lipo.days < quiet.days);
        assert!(lipo.days_to_motor_brownout.is_some());
    }

    #[test]
    fn report_formats() {
        let e = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 2.0);
        let t = e.to_table();
        assert!(t.contains("cr2032"), "{t}");
        assert!(t.contains("connected_idle"), "{t}");
        let j = e.to_json();
        assert_eq!(j["cell"], "cr2032");
        assert!(j["days"].as_f64().unwrap() > 500.0);
        assert!(j["breakdown"].as_array().unwrap().len() == 9);
    }

    #[test]
    fn estimate_is_deterministic() {
        let a = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 3.7);
        let b = estimate(&CellProfile::cr2032(), &PowerProfile::default(), 3.7);
        assert_eq!(a.to_json().to_string(), b.to_json().to_string());
    }
}
