//! The interactive reports and the Perfetto trace, checked on their structure:
//! - a replayed fall's report embeds its data built from typed observations (every
//!   timeline entry with kind and fields, the countdown as a 30 s span, every
//!   accelerometer sample of the trace and of the front end, the detector's plots with
//!   their thresholds), its timeline table matches the timeline row for row, it refers
//!   to no outside resource and fetches nothing, and the same run gives the same bytes;
//! - a suite report keeps the sections in the order given, says when, which `sim` and
//!   which command, each scenario's wall and virtual time, and has a failed-only filter;
//! - a fall scenario's Perfetto trace has a track per layer, spans for the connection and
//!   the countdown, counters for the acceleration and the battery, and times in virtual
//!   microseconds.
//!
//! That the pages draw in a browser is `cargo xtask browser-test`'s job (CI).

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use sim::report::perfetto::perfetto_trace;
use sim::report::{replay_report, suite_report, ScenarioSection, SuiteMeta};
use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/traces/fall_forward.jsonl"
);

fn replayed() -> Simulation {
    let mut sim = Simulation::new(Setup::default()).expect("simulation");
    sim.record_accel();
    sim.explain_falls();
    sim.start_replay(Path::new(TRACE)).expect("trace");
    sim.advance(60 * SECOND);
    sim
}

/// The JSON of the first `<script type="application/json" …>` element after `marker`.
fn embedded(html: &str, marker: &str) -> Value {
    let at = html.find(marker).expect("data element");
    let rest = &html[at..];
    let start = rest.find('>').expect("element") + 1;
    let end = rest.find("</script>").expect("end of data");
    serde_json::from_str(&rest[start..end]).expect("the data is JSON")
}

/// Nothing is loaded from elsewhere: no `src` or `href` outside the page, no `<link>`,
/// no `@import` or `url(`, and no script API that fetches.
fn assert_self_contained(html: &str) {
    for needle in [" src=", "<link", "@import", "url(", "<iframe", "<img"] {
        assert!(!html.contains(needle), "the page contains {needle:?}");
    }
    for (i, _) in html.match_indices("href=\"") {
        assert!(html[i + 6..].starts_with('#'), "only in-page links");
    }
    let js = include_str!("../steps/src/report/report.js");
    for api in [
        "fetch(",
        "XMLHttpRequest",
        "import(",
        "WebSocket",
        "sendBeacon",
    ] {
        assert!(!js.contains(api), "report.js uses {api}");
    }
}

fn unpack(sig: &Value) -> Vec<i16> {
    let z = base64::engine::general_purpose::STANDARD
        .decode(sig["zlib_b64"].as_str().expect("b64"))
        .expect("base64");
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut raw)
        .expect("zlib");
    // Per axis, the low bytes of the deltas then their high bytes.
    let n = raw.len() / 6;
    (0..3)
        .flat_map(|a| (0..n).map(move |i| (a, i)))
        .map(|(a, i)| i16::from_le_bytes([raw[2 * a * n + i], raw[(2 * a + 1) * n + i]]))
        .collect()
}

#[test]
fn a_replay_report_embeds_typed_data_and_is_self_contained() {
    let sim = replayed();
    let html = replay_report("fall_forward <replay>", &sim);
    assert_self_contained(&html);
    assert!(html.contains("uPlot"), "uPlot is inlined");
    let data = embedded(&html, "id=\"report-data\"");
    let entries = data["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), sim.timeline.entries.len());
    for (e, t) in entries.iter().zip(&sim.timeline.entries) {
        assert_eq!(e[0], t.t_us);
        assert_eq!(e[1], t.layer.name());
        assert_eq!(e[2], t.what.kind());
        assert_eq!(e[4], t.text());
    }
    let fall = entries
        .iter()
        .find(|e| e[2] == "fall_detected")
        .expect("a fall");
    assert!(fall[3]["peak_mg"].as_u64().expect("peak") > 3000);
    assert!(fall[3]["tilt_deg"].as_u64().expect("tilt") >= 50);
    let spans = data["spans"].as_array().expect("spans");
    let countdown = spans
        .iter()
        .find(|s| s["kind"] == "countdown")
        .expect("countdown span");
    assert_eq!(
        countdown["end_us"].as_u64().unwrap() - countdown["start_us"].as_u64().unwrap(),
        30 * SECOND
    );
    assert!(spans.iter().any(|s| s["kind"] == "connection"));
    // Every sample, the trace's own and the front end's, is in the page.
    let fe = &data["accel"]["front_end"];
    let log = sim.accel_log.as_ref().expect("front end");
    assert_eq!(fe["n"], log.len());
    let planes = unpack(fe);
    let mut x = 0i16;
    for (i, s) in log.iter().enumerate() {
        x = x.wrapping_add(planes[i]);
        assert_eq!(x, s.1[0], "front-end x at {i}");
    }
    let raw = sim.series.raw_accel.as_ref().expect("raw");
    assert_eq!(data["accel"]["raw"]["n"], raw.len());
    assert_eq!(unpack(&data["accel"]["raw"]).len(), raw.len() * 3);
    let plots = data["detector"]["plots"]
        .as_array()
        .expect("detector plots");
    assert_eq!(plots.len(), 4);
    assert_eq!(plots[0]["thresholds"][0]["name"], "trigger_mg");
    assert_eq!(plots[0]["thresholds"][0]["value"], 1800);
    // The table: one row per entry, with its time, layer and kind.
    let rows: Vec<&str> = html.split("<tr class=\"layer-").skip(1).collect();
    assert_eq!(rows.len(), sim.timeline.entries.len());
    for (row, e) in rows.iter().zip(&sim.timeline.entries) {
        assert!(row.contains(&format!("data-t-us=\"{}\"", e.t_us)));
        assert!(row.contains(&format!("<td class=\"kind\">{}</td>", e.what.kind())));
    }
    assert_eq!(html, replay_report("fall_forward <replay>", &replayed()));
}

fn meta() -> sim::steps::world::ScenarioMeta {
    sim::steps::world::ScenarioMeta {
        feature: "Falls".into(),
        scenario: "A forward fall alerts the contacts".into(),
        example_row: String::new(),
        file: "features/falls.feature".into(),
        line: 12,
        run_seed: 7,
    }
}

#[test]
fn a_suite_report_keeps_order_and_says_when_what_and_how_long() {
    let sim = replayed();
    let steps = vec![
        ("Given the wearer wears the button".into(), "passed".into()),
        ("When the trace \"x\" is replayed".into(), "failed".into()),
        ("Then 1 SMS is sent".into(), "skipped".into()),
    ];
    let mut failing = ScenarioSection::from_sim(
        &meta(),
        false,
        Some("expected <1> SMS & got 2".into()),
        steps,
        Some(&sim),
    );
    failing.wall = Duration::from_millis(1234);
    let first = ScenarioSection {
        feature: "Setup".into(),
        scenario: "Nothing runs".into(),
        file: "features/setup.feature".into(),
        line: 3,
        seed: 7,
        passed: true,
        ..Default::default()
    };
    let meta = SuiteMeta {
        date: "2026-11-30 05:00:00 UTC".into(),
        version: "0.1.0".into(),
        command: "sim run features --html r.html".into(),
    };
    let html = suite_report("suite", &meta, &[first, failing.clone()]);
    assert_self_contained(&html);
    for s in [
        "2026-11-30 05:00:00 UTC",
        "<dd>0.1.0</dd>",
        "sim run features --html r.html",
        "id=\"failed-only\"",
        "1.234 s",
        &format!("{} virtual", sim::report::html::fmt_duration(sim.now())),
        "sim run features/falls.feature:12 --seed 7",
        "expected &lt;1&gt; SMS &amp; got 2",
    ] {
        assert!(html.contains(s), "the suite report says {s:?}");
    }
    // In the order given: the passed section first, then the failed one.
    let a = html
        .find("<section class=\"scenario passed\" id=\"sc-0\">")
        .expect("sc-0 passed");
    let b = html
        .find("<section class=\"scenario failed\" id=\"sc-1\">")
        .expect("sc-1 failed");
    assert!(a < b);
    let data = embedded(&html[b..], "class=\"run-data\"");
    assert_eq!(
        data["entries"].as_array().expect("entries").len(),
        sim.timeline.entries.len()
    );
    assert_eq!(failing.virtual_us, Some(sim.now()));
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["traceEvents"].as_array().expect("traceEvents")
}

#[test]
fn a_fall_scenario_as_perfetto_has_tracks_spans_and_counters_in_virtual_microseconds() {
    let sim = replayed();
    let doc = perfetto_trace("fall_forward", &sim);
    let ev = events(&doc);
    let end = sim.now();
    assert_eq!(doc["otherData"]["end_us"], end);
    let names: Vec<&str> = ev
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().expect("name"))
        .collect();
    for track in [
        "wearer",
        "button",
        "link",
        "phone",
        "platform",
        "link: connection",
        "phone: countdown",
    ] {
        assert!(names.contains(&track), "track {track} in {names:?}");
    }
    // Every event is within the run, in whole microseconds.
    for e in ev.iter().filter(|e| e["ph"] != "M") {
        let ts = e["ts"].as_u64().expect("integer ts");
        assert!(ts <= end, "{e}");
    }
    // Instants are the timeline's entries, at their microsecond.
    let instants: Vec<&Value> = ev.iter().filter(|e| e["ph"] == "i").collect();
    assert_eq!(instants.len(), sim.timeline.entries.len());
    let fall = sim
        .timeline
        .entries
        .iter()
        .find(|e| e.what.kind() == "fall_detected")
        .expect("fall");
    let fi = instants
        .iter()
        .find(|e| e["name"] == "fall_detected")
        .expect("fall instant");
    assert_eq!(fi["ts"], fall.t_us);
    assert!(fi["args"]["peak_mg"].as_u64().expect("peak") > 3000);
    assert_eq!(fi["tid"], 2, "on the button's track");
    // Spans: the countdown lasts 30 s of virtual time, the connection the whole run.
    let span = |cat: &str| {
        ev.iter()
            .find(|e| e["ph"] == "X" && e["cat"] == cat)
            .unwrap_or_else(|| panic!("a {cat} span"))
    };
    assert_eq!(span("countdown")["dur"], 30 * SECOND);
    let started = span("countdown")["ts"].as_u64().expect("ts");
    assert!(started >= fall.t_us && started < fall.t_us + SECOND);
    assert_eq!(span("connection")["args"]["open"], true);
    // Counters: acceleration (x, y, z, |a| per sample) and battery.
    let accel: Vec<&Value> = ev
        .iter()
        .filter(|e| e["ph"] == "C" && e["name"] == "acceleration, front end (mg)")
        .collect();
    assert_eq!(accel.len(), sim.accel_log.as_ref().expect("log").len());
    for k in ["x", "y", "z", "|a|"] {
        assert!(accel[0]["args"][k].is_number(), "{k}");
    }
    assert!(ev
        .iter()
        .any(|e| e["ph"] == "C" && e["name"] == "acceleration, raw (mg)"));
    assert!(ev
        .iter()
        .any(|e| e["ph"] == "C" && e["name"] == "battery (%)"));
    let text = serde_json::to_string(&doc).expect("serialises");
    let again: Value = serde_json::from_str(&text).expect("parses back");
    assert_eq!(again, doc);
}

fn sim_bin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("sim runs")
}

#[test]
fn the_cli_writes_perfetto_traces_and_typed_json() {
    let dir = std::env::temp_dir().join(format!("sim-perfetto-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("fall.json");
    let out = sim_bin(&[
        "replay",
        "scenarios/traces/fall_forward.jsonl",
        "--json",
        "--perfetto",
        &file.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json is one object");
    let fall = v["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "fall_detected")
        .expect("fall entry");
    assert!(fall["fields"]["peak_mg"].is_u64() && fall["fields"]["tilt_deg"].is_u64());
    assert!(fall["text"]
        .as_str()
        .expect("text")
        .starts_with("FALL detected"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("trace")).expect("json");
    assert!(events(&doc)
        .iter()
        .any(|e| e["ph"] == "X" && e["cat"] == "countdown"));
    let pdir = dir.join("perfetto");
    let out = sim_bin(&[
        "run",
        "features/falls.feature:13",
        "-q",
        "--perfetto",
        &pdir.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&pdir).expect("dir").collect();
    assert_eq!(files.len(), 1, "one trace per scenario");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_button_trace_has_its_presses_as_spans_and_its_gestures_as_events() {
    let mut sim = Simulation::new(Setup::default()).expect("simulation");
    let trace = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/traces/buttons_double_press.jsonl"
    );
    sim.start_replay(Path::new(trace)).expect("trace");
    sim.advance(10 * SECOND);
    let downs = sim.series.edges.iter().filter(|e| e.1).count();
    assert!(downs >= 2, "two presses at least (bounces count too)");
    let data = embedded(&replay_report("buttons", &sim), "id=\"report-data\"");
    let presses: Vec<&Value> = data["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .filter(|s| s["kind"] == "press")
        .collect();
    assert_eq!(presses.len(), downs);
    for p in &presses {
        assert!(p["end_us"].as_u64() >= p["start_us"].as_u64());
        assert_eq!(p["open"], false, "every press was released");
    }
    let gestures: Vec<&Value> = data["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e[2] == "gesture")
        .collect();
    assert_eq!(gestures.len(), 1);
    assert_eq!(gestures[0][3]["gesture"], "double");
}
