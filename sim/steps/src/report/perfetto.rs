//! A run as a Chrome trace-event JSON file, which ui.perfetto.dev and chrome://tracing
//! open (`sim replay --perfetto FILE`, `sim run --perfetto DIR`).
//!
//! Times are virtual: `ts` and `dur` are microseconds since the simulation's zero
//! (2026-01-05 09:00:00 UTC). One process; a thread (track) per layer — wearer, button,
//! link, phone, platform, harness — holding an instant (`ph: "i"`) per timeline entry,
//! named by its kind, with its typed fields and its text as `args`; spans ([`spans`]) as
//! complete slices (`ph: "X"`) on tracks of their own beside their layer's (connection,
//! outage, countdown, siren; one track per call and per recording, as those may
//! overlap); counter tracks (`ph: "C"`) for the accelerometer (front end and raw, mg:
//! x, y, z, |a|), the battery level and the link state. A counter of more than
//! [`MAX_COUNTER_POINTS`] samples keeps, per bucket, the sample of largest |a|
//! (`otherData` says so).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::capture::slug;
use super::spans::{spans, SpanKind};
use crate::sched::Micros;
use crate::simulation::Simulation;
use crate::sink::{Event, Sink};
use crate::timeline::Layer;
use crate::RunError;

/// Most points of one accelerometer counter track.
pub const MAX_COUNTER_POINTS: usize = 200_000;

const PID: u32 = 1;

const LAYERS: [Layer; 6] = [
    Layer::Wearer,
    Layer::Button,
    Layer::Link,
    Layer::Phone,
    Layer::Platform,
    Layer::Harness,
];

/// The thread id of a layer's track.
pub fn layer_tid(l: Layer) -> u64 {
    match l {
        Layer::Wearer => 1,
        Layer::Button => 2,
        Layer::Link => 3,
        Layer::Phone => 4,
        Layer::Platform => 5,
        Layer::Harness => 6,
    }
}

/// The track of a span: (thread id, track name). Calls and recordings get one track per
/// id (they may overlap).
fn span_track(kind: SpanKind, id: u64) -> (u64, String) {
    let layer = kind.layer().name();
    match kind {
        SpanKind::Press => (11, format!("{layer}: presses")),
        SpanKind::Connection => (13, format!("{layer}: connection")),
        SpanKind::Outage => (23, format!("{layer}: outages")),
        SpanKind::Countdown => (14, format!("{layer}: countdown")),
        SpanKind::Siren => (15, format!("{layer}: siren")),
        SpanKind::Call => (1_000 + id, format!("{layer}: call {id}")),
        SpanKind::Recording => (2_000 + id, format!("{layer}: recording {id}")),
    }
}

fn thread_name(tid: u64, name: &str, sort: u64) -> [Value; 2] {
    [
        json!({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name", "args": {"name": name}}),
        json!({"ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": sort}}),
    ]
}

/// The run's end: now, or the last thing recorded if later.
fn run_end(sim: &Simulation) -> Micros {
    let last = sim.timeline.entries.last().map_or(0, |e| e.t_us);
    sim.now().max(last)
}

/// The whole trace-event document of a run named `title`.
pub fn perfetto_trace(title: &str, sim: &Simulation) -> Value {
    let end = run_end(sim);
    let mut ev: Vec<Value> = Vec::new();
    ev.push(json!({"ph": "M", "pid": PID, "name": "process_name", "args": {"name": title}}));
    for l in LAYERS {
        ev.extend(thread_name(layer_tid(l), l.name(), layer_tid(l) * 10));
    }
    for e in &sim.timeline.entries {
        let mut args = e.what.fields();
        args.insert("text".into(), Value::String(e.text()));
        ev.push(json!({
            "ph": "i", "s": "t", "pid": PID, "tid": layer_tid(e.layer),
            "ts": e.t_us, "name": e.what.kind(), "cat": e.layer.name(), "args": args,
        }));
    }
    let mut named: Vec<u64> = Vec::new();
    for s in spans(sim, end) {
        let id = s.args.get("id").and_then(Value::as_u64).unwrap_or(0);
        let (tid, track) = span_track(s.kind, id);
        if !named.contains(&tid) {
            named.push(tid);
            ev.extend(thread_name(tid, &track, layer_tid(s.kind.layer()) * 10 + 1));
        }
        let mut args = match s.args {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        args.insert("open".into(), Value::Bool(s.open));
        ev.push(json!({
            "ph": "X", "pid": PID, "tid": tid, "ts": s.start_us,
            "dur": s.end_us - s.start_us, "name": s.name, "cat": s.kind.name(), "args": args,
        }));
    }
    let mut decimated = Map::new();
    if let Some(log) = sim.accel_log.as_deref() {
        let k = accel_counter(&mut ev, "acceleration, front end (mg)", log);
        decimated.insert("acceleration, front end (mg)".into(), k.into());
    }
    if let Some(log) = sim.series.raw_accel.as_deref() {
        let k = accel_counter(&mut ev, "acceleration, raw (mg)", log);
        decimated.insert("acceleration, raw (mg)".into(), k.into());
    }
    for &(t, pct) in &sim.series.battery {
        ev.push(
            json!({"ph": "C", "pid": PID, "ts": t, "name": "battery (%)", "args": {"level": pct}}),
        );
    }
    for &(t, up) in &sim.series.link {
        ev.push(json!({"ph": "C", "pid": PID, "ts": t, "name": "link up", "args": {"up": u8::from(up)}}));
    }
    json!({
        "traceEvents": ev,
        "displayTimeUnit": "ms",
        "otherData": {
            "title": title,
            "clock": "virtual time, µs since 2026-01-05 09:00:00 UTC",
            "seed": sim.seed(),
            "end_us": end,
            "samples_per_counter_point": decimated,
        },
    })
}

/// Counter events of an accelerometer log; returns how many samples each point stands
/// for (1 = every sample).
fn accel_counter(ev: &mut Vec<Value>, name: &str, log: &[(Micros, [i16; 3])]) -> usize {
    let per = log.len().div_ceil(MAX_COUNTER_POINTS).max(1);
    for chunk in log.chunks(per) {
        let mag = |s: &[i16; 3]| s.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
        let Some((t, s)) = chunk.iter().max_by(|a, b| mag(&a.1).total_cmp(&mag(&b.1))) else {
            continue;
        };
        ev.push(json!({
            "ph": "C", "pid": PID, "ts": t, "name": name,
            "args": {"x": s[0], "y": s[1], "z": s[2], "|a|": mag(s).round()},
        }));
    }
    per
}

/// Writes `DIR/<file stem>-<line>-<scenario>.json` per scenario that ran a simulation
/// (`sim run --perfetto DIR`).
pub struct PerfettoSink {
    dir: PathBuf,
}

impl PerfettoSink {
    /// Into `dir` (which must exist).
    pub fn new(dir: &Path) -> Self {
        PerfettoSink {
            dir: dir.to_path_buf(),
        }
    }
}

impl Sink for PerfettoSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        if let Event::ScenarioFinished(sc, end) = event {
            if let Some(json) = &end.perfetto {
                let file = self.dir.join(format!("{}.json", slug(&sc.meta)));
                std::fs::write(&file, json).map_err(|e| RunError::Io {
                    path: file.display().to_string(),
                    message: e.to_string(),
                })?;
            }
        }
        Ok(())
    }
}
