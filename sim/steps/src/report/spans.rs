//! Durations of a run, from its typed observations: connections, outages, fall
//! countdowns, calls, recordings, the siren and the wearer's button presses. The
//! interactive report draws them as lanes and the Perfetto trace as slices; both take
//! them from here, and nothing here reads the timeline's text.

use serde::Serialize;
use serde_json::{json, Value};

use crate::observed::{HarnessNote, LinkNote, Observed, PlatformNote};
use crate::platform::CallState;
use crate::sched::Micros;
use crate::simulation::Simulation;
use crate::timeline::Layer;
use phone::note::AppNote;

/// What a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// The wearer holds the button down.
    Press,
    /// A BLE connection is up.
    Connection,
    /// The harness cut the link.
    Outage,
    /// A fall countdown runs on the phone.
    Countdown,
    /// A call, from dialling to its end.
    Call,
    /// A recording.
    Recording,
    /// The siren sounds.
    Siren,
}

impl SpanKind {
    /// Every kind, in lane order.
    pub const ALL: [SpanKind; 7] = [
        SpanKind::Press,
        SpanKind::Connection,
        SpanKind::Outage,
        SpanKind::Countdown,
        SpanKind::Call,
        SpanKind::Recording,
        SpanKind::Siren,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Press => "press",
            SpanKind::Connection => "connection",
            SpanKind::Outage => "outage",
            SpanKind::Countdown => "countdown",
            SpanKind::Call => "call",
            SpanKind::Recording => "recording",
            SpanKind::Siren => "siren",
        }
    }

    /// The layer whose track it belongs to.
    pub fn layer(self) -> Layer {
        match self {
            SpanKind::Press => Layer::Wearer,
            SpanKind::Connection | SpanKind::Outage => Layer::Link,
            SpanKind::Countdown => Layer::Phone,
            SpanKind::Call | SpanKind::Recording | SpanKind::Siren => Layer::Platform,
        }
    }
}

/// One duration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Span {
    /// What it is.
    pub kind: SpanKind,
    /// A label (`call to +33…`, `countdown 30 s`).
    pub name: String,
    /// Start (µs of virtual time).
    pub start_us: Micros,
    /// End (µs); the run's end when it was still going (`open`).
    pub end_us: Micros,
    /// Whether it was still going when the run ended.
    pub open: bool,
    /// Typed details (call id and number, how it ended…).
    pub args: Value,
}

/// Spans being built: one open span per key.
struct Open {
    spans: Vec<Span>,
    open: Vec<(SpanKind, u64, Span)>,
}

impl Open {
    fn start(&mut self, kind: SpanKind, key: u64, t: Micros, name: String, args: Value) {
        self.end(kind, key, t, json!("restarted"));
        let span = Span {
            kind,
            name,
            start_us: t,
            end_us: t,
            open: true,
            args,
        };
        self.open.push((kind, key, span));
    }

    fn end(&mut self, kind: SpanKind, key: u64, t: Micros, how: Value) {
        if let Some(i) = self.open.iter().position(|o| o.0 == kind && o.1 == key) {
            let (_, _, mut s) = self.open.remove(i);
            s.end_us = t;
            s.open = false;
            if let Value::Object(m) = &mut s.args {
                m.insert("ended".into(), how);
            }
            self.spans.push(s);
        }
    }

    fn whole(&mut self, kind: SpanKind, start: Micros, end: Micros, name: String, args: Value) {
        self.spans.push(Span {
            kind,
            name,
            start_us: start,
            end_us: end,
            open: false,
            args,
        });
    }
}

/// Every span of a run, sorted by start (then kind); spans still open end at `end`.
pub fn spans(sim: &Simulation, end: Micros) -> Vec<Span> {
    let mut o = Open {
        spans: Vec::new(),
        open: Vec::new(),
    };
    for &(t, down) in &sim.series.edges {
        if down {
            o.start(SpanKind::Press, 0, t, "press".into(), json!({}));
        } else {
            o.end(SpanKind::Press, 0, t, json!("released"));
        }
    }
    for e in &sim.timeline.entries {
        observe(&mut o, e.t_us, &e.what);
    }
    for (_, _, mut s) in o.open.drain(..) {
        s.end_us = end.max(s.start_us);
        o.spans.push(s);
    }
    let mut v = o.spans;
    v.sort_by_key(|a| (a.start_us, a.kind));
    v
}

fn observe(o: &mut Open, t: Micros, what: &Observed) {
    match what {
        Observed::Link(LinkNote::Connected) => {
            o.start(SpanKind::Connection, 0, t, "connected".into(), json!({}));
        }
        Observed::Link(n @ (LinkNote::ClosedByPhone | LinkNote::SupervisionLost)) => {
            o.end(SpanKind::Connection, 0, t, json!(n.text()));
        }
        Observed::Harness(HarnessNote::Outage(d)) => {
            let name = format!("outage {} s", crate::simulation::fmt_s(*d));
            o.whole(SpanKind::Outage, t, t + d, name, json!({ "dur_us": d }));
        }
        Observed::App(AppNote::FallCountdownStarted { secs }) => {
            let name = format!("countdown {secs} s");
            o.start(SpanKind::Countdown, 0, t, name, json!({ "secs": secs }));
        }
        Observed::App(AppNote::FallCountdownOver) => {
            o.end(SpanKind::Countdown, 0, t, json!("over: alerting contacts"));
        }
        Observed::App(AppNote::FallCountdownCancelled(by)) => {
            o.end(
                SpanKind::Countdown,
                0,
                t,
                json!(format!("cancelled by {by}")),
            );
        }
        Observed::Platform(p) => platform(o, t, p),
        _ => {}
    }
}

fn platform(o: &mut Open, t: Micros, p: &PlatformNote) {
    match p {
        PlatformNote::Dialling { to, id } => {
            let args = json!({ "id": id, "to": to });
            o.start(SpanKind::Call, *id, t, format!("call to {to}"), args);
        }
        PlatformNote::CallState { id, state } => {
            let over = matches!(
                state,
                CallState::Busy | CallState::Ended | CallState::Failed | CallState::HungUp
            );
            if over {
                o.end(SpanKind::Call, *id, t, json!(state.name()));
            }
        }
        PlatformNote::HungUp { id } => o.end(SpanKind::Call, *id, t, json!("hung up")),
        PlatformNote::RecordingStarted { id, button_mic } => {
            let args = json!({ "id": id, "button_mic": button_mic });
            o.start(SpanKind::Recording, *id, t, format!("recording {id}"), args);
        }
        PlatformNote::RecordingStopped { id, .. } => {
            o.end(SpanKind::Recording, *id, t, json!("stopped"));
        }
        PlatformNote::Siren {
            on: true,
            volume_pct,
            ..
        } => {
            let args = json!({ "volume_pct": volume_pct });
            o.start(SpanKind::Siren, 0, t, "siren".into(), args);
        }
        PlatformNote::Siren { on: false, .. } => o.end(SpanKind::Siren, 0, t, json!("off")),
        _ => {}
    }
}
