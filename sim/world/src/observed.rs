//! Typed observations: what each timeline entry is, as data. Every line of the timeline
//! is rendered from an [`Observed`] (its `Display` is the exact text the timeline has
//! always held), and [`Observed::kind`] and [`Observed::fields`] give the same happening
//! to machines: `sim replay --json`, the interactive report and the Perfetto trace read
//! these, never the text.
//!
//! The sources stay typed where they are born: the firmware's [`DeviceEvent`], the app's
//! [`AppNote`], the air's [`LinkNote`], the platform's [`PlatformNote`], the harness's
//! [`HarnessNote`]. The matches below are exhaustive, so a new variant anywhere is a
//! compile error here until it has a kind and fields.

use std::fmt;

use device_model::DeviceEvent;
use phone::note::{AppNote, RejectReason};
use phone::Warning;
use protocol::VibrationPattern;
use serde_json::{json, Map, Value};

use crate::platform::CallState;
use crate::sched::Micros;
use crate::simulation::fmt_s;

pub use crate::air::LinkNote;

/// Something the harness did (faults it injected, the seed).
#[derive(Clone, Debug, PartialEq)]
pub enum HarnessNote {
    /// The scenario's seed.
    Seed(u64),
    /// The BLE link is cut for this long.
    Outage(Micros),
    /// The button is moved this far from the phone (m).
    Distance(f64),
    /// Bluetooth on the phone switched on or off.
    Bluetooth(bool),
    /// The phone app restarts.
    AppRestarts,
    /// The phone app is killed (a crash); it restarts 2 s later.
    AppCrashes,
    /// The button resets.
    ButtonResets,
    /// The button is reset to its factory bond and paired over the air.
    PairOverAir,
    /// A trace could not be read to its end.
    TraceUnreadable {
        /// The trace's file name.
        name: String,
        /// Records read before the error.
        records: u64,
        /// The error.
        error: String,
    },
}

impl HarnessNote {
    /// Whether this is a fault the harness injected (the seed is not).
    pub(crate) fn is_fault(&self) -> bool {
        !matches!(self, HarnessNote::Seed(_))
    }
}

impl fmt::Display for HarnessNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessNote::Seed(s) => write!(f, "scenario seed {s}"),
            HarnessNote::Outage(d) => write!(f, "BLE link lost for {} s", fmt_s(*d)),
            HarnessNote::Distance(m) => write!(f, "button {m} m from the phone"),
            HarnessNote::Bluetooth(on) => {
                write!(f, "Bluetooth turned {} on the phone", on_off(*on))
            }
            HarnessNote::AppRestarts => f.write_str("phone app restarts"),
            HarnessNote::AppCrashes => f.write_str("phone app killed (crash); it restarts in 2 s"),
            HarnessNote::ButtonResets => f.write_str("button resets"),
            HarnessNote::PairOverAir => {
                f.write_str("button reset to its factory bond; the wearer pairs it over the air")
            }
            HarnessNote::TraceUnreadable {
                name,
                records,
                error,
            } => write!(
                f,
                "trace {name} unreadable after {records} records: {error}"
            ),
        }
    }
}

/// What the simulated platform did (SMS network, telephony, GPS, siren, recorder).
#[derive(Clone, Debug, PartialEq)]
pub enum PlatformNote {
    /// The cellular network came back or went.
    Network {
        /// Whether it is available now.
        available: bool,
    },
    /// The GPS got a fix.
    GpsFix {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// The network accepted an SMS.
    SmsSent {
        /// Number.
        to: String,
        /// Text.
        text: String,
    },
    /// The network refused an SMS (no network).
    SmsRefused {
        /// Number.
        to: String,
    },
    /// An SMS was delivered.
    SmsDelivered {
        /// Number.
        to: String,
    },
    /// A call is dialled.
    Dialling {
        /// Number.
        to: String,
        /// Call id.
        id: u64,
    },
    /// A call changed state.
    CallState {
        /// Call id.
        id: u64,
        /// Its new state.
        state: CallState,
    },
    /// The app hung a call up.
    HungUp {
        /// Call id.
        id: u64,
    },
    /// A contact joined the conference.
    ContactJoins {
        /// Number.
        who: String,
    },
    /// The wearer's phone joined the conference.
    WearerJoins {
        /// Conference address.
        url: String,
        /// Microphone on.
        mic_on: bool,
        /// Speaker muted.
        speaker_muted: bool,
    },
    /// The siren went on or off.
    Siren {
        /// On.
        on: bool,
        /// Volume (percent).
        volume_pct: u8,
        /// It overrides the silent mode.
        override_silent: bool,
    },
    /// A recording started.
    RecordingStarted {
        /// Recording id.
        id: u64,
        /// The button's microphone too.
        button_mic: bool,
    },
    /// A recording stopped.
    RecordingStopped {
        /// Recording id.
        id: u64,
        /// How long it ran.
        dur_us: Micros,
    },
    /// The countdown alarm went on or off.
    CountdownAlarm {
        /// On.
        on: bool,
        /// Seconds (when on).
        seconds: u32,
    },
    /// A warning was shown to the wearer.
    Warning(Warning),
    /// A durable write was cut short (a crash while saving): only `written` of `len`
    /// bytes reached storage slot `slot`.
    StorageTorn {
        /// Bytes that reached storage.
        written: usize,
        /// Bytes of the whole record.
        len: usize,
        /// The slot written.
        slot: usize,
    },
}

impl fmt::Display for PlatformNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformNote::StorageTorn { written, len, slot } => write!(
                f,
                "storage write torn: {written} of {len} bytes reach slot {slot}"
            ),
            PlatformNote::Network { available } => write!(
                f,
                "cellular network {}",
                if *available { "available" } else { "lost" }
            ),
            PlatformNote::GpsFix { lat, lon } => write!(f, "GPS fix {lat:.6}, {lon:.6}"),
            PlatformNote::SmsSent { to, text } => write!(f, "SMS to {to}: {text}"),
            PlatformNote::SmsRefused { to } => write!(f, "SMS to {to} refused: no network"),
            PlatformNote::SmsDelivered { to } => write!(f, "SMS delivered to {to}"),
            PlatformNote::Dialling { to, .. } => write!(f, "dialling {to}"),
            PlatformNote::CallState { id, state } => write!(f, "call {id} {}", state.name()),
            PlatformNote::HungUp { id } => write!(f, "call {id} hung up"),
            PlatformNote::ContactJoins { who } => write!(f, "{who} joins the conference"),
            PlatformNote::WearerJoins {
                url,
                mic_on,
                speaker_muted,
            } => write!(
                f,
                "wearer joins {url} (mic {}, speaker {})",
                on_off(*mic_on),
                if *speaker_muted { "muted" } else { "on" }
            ),
            PlatformNote::Siren { on: false, .. } => f.write_str("siren off"),
            PlatformNote::Siren {
                volume_pct,
                override_silent,
                ..
            } => {
                let silent = if *override_silent {
                    ", overriding silent mode"
                } else {
                    ""
                };
                write!(f, "siren on at {volume_pct} %{silent}")
            }
            PlatformNote::RecordingStarted { id, button_mic } => {
                let mic = if *button_mic { " + button mic" } else { "" };
                write!(f, "recording {id} started (phone mic{mic})")
            }
            PlatformNote::RecordingStopped { id, dur_us } => {
                write!(f, "recording {id} stopped after {} s", fmt_s(*dur_us))
            }
            PlatformNote::CountdownAlarm { on: false, .. } => {
                f.write_str("fall countdown alarm off")
            }
            PlatformNote::CountdownAlarm { seconds, .. } => {
                write!(f, "fall countdown alarm ({seconds} s)")
            }
            PlatformNote::Warning(w) => write!(f, "warning shown: {w:?}"),
        }
    }
}

/// One observation: what a timeline entry is.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// Free text (the harness's and the wearer's verbs without data of their own).
    Note(String),
    /// A log event of the button's firmware.
    Device(DeviceEvent),
    /// The button advertises.
    Advertising {
        /// Interval (ms).
        interval_ms: u32,
        /// The private address advertised.
        address: String,
    },
    /// The button vibrates.
    Vibration {
        /// Pattern.
        pattern: VibrationPattern,
        /// Total motor on-time (ms).
        on_ms: u32,
    },
    /// A link happening of the air.
    Link(LinkNote),
    /// A line of the phone app's log.
    App(AppNote),
    /// Something the platform did.
    Platform(PlatformNote),
    /// Something the harness did.
    Harness(HarnessNote),
    /// An attack by the harness's attacker (description).
    Attack(String),
    /// A trace starts replaying.
    TraceStarts {
        /// File name.
        name: String,
    },
    /// A trace ended.
    TraceEnds {
        /// File name.
        name: String,
        /// Records read.
        records: u64,
    },
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Note(s) | Observed::Attack(s) => f.write_str(s),
            Observed::Device(e) => device_text(f, e),
            Observed::Advertising {
                interval_ms,
                address,
            } => write!(f, "advertising every {interval_ms} ms as {address}"),
            Observed::Vibration { pattern, on_ms } => {
                write!(f, "vibrates {} ({on_ms} ms)", pattern.name())
            }
            Observed::Link(n) => f.write_str(n.text()),
            Observed::App(n) => n.fmt(f),
            Observed::Platform(n) => n.fmt(f),
            Observed::Harness(n) => n.fmt(f),
            Observed::TraceStarts { name } => write!(f, "trace {name} starts"),
            Observed::TraceEnds { name, records } => {
                write!(f, "trace {name} ends ({records} records)")
            }
        }
    }
}

fn device_text(f: &mut fmt::Formatter<'_>, e: &DeviceEvent) -> fmt::Result {
    match e {
        DeviceEvent::Booted { boots, queued } => {
            write!(f, "booted (boot #{boots}, {queued} events queued)")
        }
        DeviceEvent::Gesture(g) => write!(f, "gesture {}", g.event_kind().name()),
        DeviceEvent::Queued { seq, kind } => write!(f, "event #{seq} {} queued", kind.name()),
        DeviceEvent::Dropped { seq } => write!(f, "queue full: event #{seq} dropped"),
        DeviceEvent::NotQueued { kind } => write!(
            f,
            "event {} not queued: sequence numbers exhausted",
            kind.name()
        ),
        DeviceEvent::Sent { seq, attempt } => {
            write!(f, "event #{seq} indicated (attempt {attempt})")
        }
        DeviceEvent::Acked { seq } => write!(f, "event #{seq} acknowledged"),
        DeviceEvent::ClockSet { utc_ms } => write!(f, "clock set to {}", phone::text::utc(*utc_ms)),
        DeviceEvent::Bonded => f.write_str("bonded"),
        DeviceEvent::Unbonded => f.write_str("bond removed"),
        DeviceEvent::PairingMode => f.write_str("pairing mode (physical action)"),
        DeviceEvent::PairingCode(c) => write!(f, "pairing: signals code {c}"),
        DeviceEvent::Fall { peak_mg, tilt_deg } => {
            write!(f, "FALL detected (peak {peak_mg} mg, tilt {tilt_deg}°)")
        }
        DeviceEvent::BatteryLevel(l) => write!(f, "battery level {l} %"),
        DeviceEvent::BrownOut { during } => {
            write!(f, "BROWN-OUT during {during}: the button is off")
        }
        DeviceEvent::Refused { reason } => write!(f, "refused: {reason}"),
    }
}

/// A kind and its fields.
type KindFields = (&'static str, Value);

impl Observed {
    /// The kind (snake case, stable: reports and scripts key on it).
    pub fn kind(&self) -> &'static str {
        self.kind_fields().0
    }

    /// The kind's fields as a JSON object (empty for kinds without data).
    pub fn fields(&self) -> Map<String, Value> {
        match self.kind_fields().1 {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn kind_fields(&self) -> KindFields {
        match self {
            Observed::Note(_) => ("note", json!({})),
            Observed::Attack(what) => ("attack", json!({ "what": what })),
            Observed::Device(e) => device_fields(e),
            Observed::Advertising {
                interval_ms,
                address,
            } => (
                "advertising",
                json!({ "interval_ms": interval_ms, "address": address }),
            ),
            Observed::Vibration { pattern, on_ms } => (
                "vibration",
                json!({ "pattern": pattern.name(), "on_ms": on_ms }),
            ),
            Observed::Link(n) => (link_kind(*n), json!({})),
            Observed::App(n) => app_fields(n),
            Observed::Platform(n) => platform_fields(n),
            Observed::Harness(n) => harness_fields(n),
            Observed::TraceStarts { name } => ("trace_starts", json!({ "name": name })),
            Observed::TraceEnds { name, records } => {
                ("trace_ends", json!({ "name": name, "records": records }))
            }
        }
    }
}

fn link_kind(n: LinkNote) -> &'static str {
    match n {
        LinkNote::Connected => "link_connected",
        LinkNote::PhoneConnects => "link_phone_connects",
        LinkNote::AttemptFailed => "link_attempt_failed",
        LinkNote::ClosedByPhone => "link_closed_by_phone",
        LinkNote::SupervisionLost => "link_supervision_lost",
        LinkNote::PathClear => "link_path_clear",
    }
}

fn device_fields(e: &DeviceEvent) -> KindFields {
    match e {
        DeviceEvent::Booted { boots, queued } => {
            ("booted", json!({ "boots": boots, "queued": queued }))
        }
        DeviceEvent::Gesture(g) => ("gesture", json!({ "gesture": g.event_kind().name() })),
        DeviceEvent::Queued { seq, kind } => {
            ("event_queued", json!({ "seq": seq, "event": kind.name() }))
        }
        DeviceEvent::Dropped { seq } => ("event_dropped", json!({ "seq": seq })),
        DeviceEvent::NotQueued { kind } => ("event_not_queued", json!({ "kind": kind.name() })),
        DeviceEvent::Sent { seq, attempt } => {
            ("event_sent", json!({ "seq": seq, "attempt": attempt }))
        }
        DeviceEvent::Acked { seq } => ("event_acked", json!({ "seq": seq })),
        DeviceEvent::ClockSet { utc_ms } => ("clock_set", json!({ "utc_ms": utc_ms })),
        DeviceEvent::Bonded => ("bonded", json!({})),
        DeviceEvent::Unbonded => ("unbonded", json!({})),
        DeviceEvent::PairingMode => ("pairing_mode", json!({})),
        DeviceEvent::PairingCode(c) => ("pairing_code_signalled", json!({ "code": c.to_string() })),
        DeviceEvent::Fall { peak_mg, tilt_deg } => (
            "fall_detected",
            json!({ "peak_mg": peak_mg, "tilt_deg": tilt_deg }),
        ),
        DeviceEvent::BatteryLevel(l) => ("battery_level", json!({ "percent": l })),
        DeviceEvent::BrownOut { during } => ("brown_out", json!({ "during": during })),
        DeviceEvent::Refused { reason } => ("write_refused", json!({ "reason": reason })),
    }
}

fn reject_fields(r: &RejectReason) -> Value {
    let (reason, extra) = match r {
        RejectReason::UnbondedDevice(d) => ("unbonded_device", json!({ "device": d.0 })),
        RejectReason::Malformed(e) => ("malformed", json!({ "error": e.to_string() })),
        RejectReason::BadTag => ("bad_tag", json!({})),
        RejectReason::ReplayOld { seq } => ("replay_old", json!({ "seq": seq })),
        RejectReason::NoSession => ("no_session", json!({})),
        RejectReason::BadOffer => ("bad_offer", json!({})),
        RejectReason::ReplayedFrame { index } => ("replayed_frame", json!({ "index": index })),
    };
    let mut m = match extra {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("reason".into(), reason.into());
    Value::Object(m)
}

fn app_fields(n: &AppNote) -> KindFields {
    match n {
        AppNote::Started => ("app_started", json!({})),
        AppNote::NetworkBack => ("app_network_back", json!({})),
        AppNote::Connected(d) => ("app_connected", json!({ "device": d.0 })),
        AppNote::Disconnected(d) => ("app_disconnected", json!({ "device": d.0 })),
        AppNote::CannotVibrate(p) => ("cannot_vibrate", json!({ "pattern": p.name() })),
        AppNote::Rejected(r) => ("frame_rejected", reject_fields(r)),
        AppNote::Retransmission { seq } => ("retransmission", json!({ "seq": seq })),
        AppNote::AcknowledgedAgain { seq } => ("acknowledged_again", json!({ "seq": seq })),
        AppNote::StorageRecovered { slot, why } => {
            ("storage_recovered", json!({ "slot": slot, "why": why }))
        }
        AppNote::StorageLost { why } => ("storage_lost", json!({ "why": why })),
        AppNote::EventReceived {
            seq,
            kind,
            event_ms,
            late,
        } => (
            "event_received",
            json!({ "seq": seq, "event": kind.name(), "event_utc_ms": event_ms, "late": late }),
        ),
        AppNote::SafeNobodyAlerted => ("safe_nobody_alerted", json!({})),
        AppNote::FallRefractory => ("fall_refractory", json!({})),
        AppNote::FallCountdownStarted { secs } => ("countdown_started", json!({ "secs": secs })),
        AppNote::FallCountdownOver => ("countdown_over", json!({})),
        AppNote::FallCountdownCancelled(by) => (
            "countdown_cancelled",
            json!({ "by": format!("{by:?}"), "by_text": by.to_string() }),
        ),
        AppNote::BatteryLow { pct } => ("battery_low", json!({ "percent": pct })),
        AppNote::ButtonDroppedEvents { total } => {
            ("button_dropped_events", json!({ "total": total }))
        }
        AppNote::RecordingStored { bytes, sha256 } => {
            let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
            ("recording_stored", json!({ "bytes": bytes, "sha256": hex }))
        }
        AppNote::SmsNotSent { id } => ("sms_not_sent", json!({ "id": id })),
        AppNote::Call { to, update } => (
            "call_update",
            json!({ "to": to, "update": format!("{update:?}") }),
        ),
        AppNote::CallUnanswered { id } => ("call_unanswered", json!({ "id": id })),
        AppNote::ConnectTimedOut => ("connect_timed_out", json!({})),
        AppNote::SessionTimedOut => ("session_timed_out", json!({})),
        AppNote::PairingCode(c) => ("pairing_code_shown", json!({ "code": c.to_string() })),
        AppNote::Paired => ("paired", json!({})),
        AppNote::PairingFailed(why) => ("pairing_failed", json!({ "why": why })),
    }
}

fn platform_fields(n: &PlatformNote) -> KindFields {
    match n {
        PlatformNote::Network { available } => ("network", json!({ "available": available })),
        PlatformNote::StorageTorn { written, len, slot } => (
            "storage_torn",
            json!({ "written": written, "len": len, "slot": slot }),
        ),
        PlatformNote::GpsFix { lat, lon } => ("gps_fix", json!({ "lat": lat, "lon": lon })),
        PlatformNote::SmsSent { to, text } => ("sms_sent", json!({ "to": to, "text": text })),
        PlatformNote::SmsRefused { to } => ("sms_refused", json!({ "to": to })),
        PlatformNote::SmsDelivered { to } => ("sms_delivered", json!({ "to": to })),
        PlatformNote::Dialling { to, id } => ("call_dialling", json!({ "to": to, "id": id })),
        PlatformNote::CallState { id, state } => (
            "call_state",
            json!({ "id": id, "state": state.name(), "over": state.is_over() }),
        ),
        PlatformNote::HungUp { id } => ("call_hung_up", json!({ "id": id })),
        PlatformNote::ContactJoins { who } => ("conference_join", json!({ "who": who })),
        PlatformNote::WearerJoins {
            url,
            mic_on,
            speaker_muted,
        } => (
            "conference_wearer_joins",
            json!({ "url": url, "mic_on": mic_on, "speaker_muted": speaker_muted }),
        ),
        PlatformNote::Siren {
            on,
            volume_pct,
            override_silent,
        } => (
            "siren",
            json!({ "on": on, "volume_pct": volume_pct, "override_silent": override_silent }),
        ),
        PlatformNote::RecordingStarted { id, button_mic } => (
            "recording_started",
            json!({ "id": id, "button_mic": button_mic }),
        ),
        PlatformNote::RecordingStopped { id, dur_us } => {
            ("recording_stopped", json!({ "id": id, "dur_us": dur_us }))
        }
        PlatformNote::CountdownAlarm { on, seconds } => {
            ("countdown_alarm", json!({ "on": on, "seconds": seconds }))
        }
        PlatformNote::Warning(w) => match w {
            Warning::BatteryLow(p) => {
                ("warning", json!({ "warning": "battery_low", "percent": p }))
            }
            Warning::ButtonDisconnected => ("warning", json!({ "warning": "button_disconnected" })),
            Warning::StorageRecovered => ("warning", json!({ "warning": "storage_recovered" })),
            Warning::StorageLost => ("warning", json!({ "warning": "storage_lost" })),
            Warning::EventsDropped(n) => (
                "warning",
                json!({ "warning": "events_dropped", "events": n }),
            ),
        },
    }
}

fn harness_fields(n: &HarnessNote) -> KindFields {
    match n {
        HarnessNote::Seed(s) => ("seed", json!({ "seed": s })),
        HarnessNote::Outage(d) => ("outage", json!({ "dur_us": d })),
        HarnessNote::Distance(m) => ("distance", json!({ "m": m })),
        HarnessNote::Bluetooth(on) => ("bluetooth", json!({ "on": on })),
        HarnessNote::AppRestarts => ("app_restarts", json!({})),
        HarnessNote::AppCrashes => ("app_crashes", json!({})),
        HarnessNote::ButtonResets => ("button_resets", json!({})),
        HarnessNote::PairOverAir => ("pair_over_air", json!({})),
        HarnessNote::TraceUnreadable {
            name,
            records,
            error,
        } => (
            "trace_unreadable",
            json!({ "name": name, "records": records, "error": error }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fall_has_its_numbers_as_fields_and_the_old_text() {
        let o = Observed::Device(DeviceEvent::Fall {
            peak_mg: 4647,
            tilt_deg: 66,
        });
        assert_eq!(o.to_string(), "FALL detected (peak 4647 mg, tilt 66°)");
        assert_eq!(o.kind(), "fall_detected");
        assert_eq!(o.fields()["peak_mg"], 4647);
        assert_eq!(o.fields()["tilt_deg"], 66);
    }

    #[test]
    fn platform_notes_read_as_before() {
        let siren = PlatformNote::Siren {
            on: true,
            volume_pct: 100,
            override_silent: true,
        };
        assert_eq!(
            siren.to_string(),
            "siren on at 100 %, overriding silent mode"
        );
        let off = PlatformNote::CountdownAlarm {
            on: false,
            seconds: 30,
        };
        assert_eq!(off.to_string(), "fall countdown alarm off");
        let rec = Observed::Platform(PlatformNote::RecordingStopped {
            id: 3,
            dur_us: 1_500_000,
        });
        assert_eq!(rec.to_string(), "recording 3 stopped after 1.5 s");
        assert_eq!(rec.kind(), "recording_stopped");
        assert_eq!(rec.fields()["dur_us"], 1_500_000);
    }

    #[test]
    fn rejections_name_their_reason() {
        let o = Observed::App(AppNote::Rejected(RejectReason::ReplayOld { seq: 3 }));
        assert_eq!(o.kind(), "frame_rejected");
        assert_eq!(o.fields()["reason"], "replay_old");
        assert_eq!(o.fields()["seq"], 3);
    }
}
