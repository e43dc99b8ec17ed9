//! Explainable replays: `sim replay --json` prints `{"timeline": [...], "detector": {...}}`
//! where `detector` is the fall detector's typed explanation (thresholds, every candidate
//! with its deciding stage and measurements, why no fall was raised, its signals); the
//! HTML report plots those signals with the thresholds and each candidate's stage. Also:
//! FallAllD `.dat` traces (here generated from the physical model, written in FallAllD's
//! format) replay and validate like any other trace.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run `sim ARGS` in the repository: exit code and stdout.
fn sim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run sim");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn replay_json(trace: &str) -> Value {
    let (code, out) = sim(&["replay", trace, "--json", "--after", "5"]);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).expect("one JSON object")
}

fn stages(d: &Value) -> Vec<&str> {
    d["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["stage"].as_str().expect("stage"))
        .collect()
}

/// What every explanation holds, whatever the trace.
fn check_common(v: &Value) -> &Value {
    assert!(!v["timeline"].as_array().expect("timeline").is_empty());
    let d = &v["detector"];
    assert_eq!(d["odr_hz"], 50);
    assert_eq!(d["block_ms"], 100);
    assert_eq!(d["thresholds"]["trigger_mg"], 1800);
    assert_eq!(d["thresholds"]["off_body_mg"], 8);
    let s = &d["signals"];
    for (k, n) in [
        ("samples", "mag_max_mg"),
        ("blocks", "tilt_from_upright_deg"),
    ] {
        let pts = s[k].as_array().expect(k);
        assert!(!pts.is_empty() && pts.len() <= 4_000, "{k}: {}", pts.len());
        assert!(pts[0][n].is_u64(), "{k}[0].{n}");
    }
    assert!(!s["raw"].as_array().expect("raw").is_empty());
    d
}

#[test]
fn a_fall_replay_explains_the_accepted_candidate() {
    let v = replay_json("scenarios/traces/fall_forward.jsonl");
    let d = check_common(&v);
    assert_eq!(d["falls"], 1);
    assert!(d["why_no_fall"].is_null());
    let c = d["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .find(|c| c["stage"] == "accepted")
        .expect("an accepted candidate");
    assert_eq!(c["fall"], true);
    let f = &c["features"];
    assert!(f["peak_mg"].as_u64().expect("peak") >= 3000, "{f}");
    assert!(f["tilt_deg"].as_u64().expect("tilt") >= 50, "{f}");
    assert!(f["still_mg"].as_u64().expect("still") <= 250, "{f}");
    let (o, p, j) = (&c["opened_ms"], &c["peak_ms"], &c["judged_ms"]);
    assert!(o.as_u64() <= p.as_u64() && p.as_u64() < j.as_u64(), "{c}");
    // The signals show the impact: a sample at the peak's magnitude, while open.
    let peak = f["peak_mg"].as_u64();
    let at_peak = d["signals"]["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .find(|s| s["t_ms"] == *p)
        .expect("the peak's sample");
    assert_eq!(at_peak["mag_max_mg"].as_u64(), peak);
    assert_eq!(at_peak["candidate_open"], true);
}

#[test]
fn daily_activity_replays_say_why_no_fall_was_raised() {
    let walk = replay_json("scenarios/traces/walking.jsonl");
    let d = check_common(&walk);
    assert_eq!(d["falls"], 0);
    assert_eq!(d["why_no_fall"], "trigger");
    assert!(stages(d).is_empty());
    let jog = replay_json("scenarios/traces/jogging.jsonl");
    let d = check_common(&jog);
    assert_eq!(d["falls"], 0);
    let st = stages(d);
    assert!(!st.is_empty() && !st.contains(&"accepted"), "{st:?}");
    let order = [
        "violence",
        "off_body",
        "posture",
        "stillness",
        "upright_before",
    ];
    let latest = st
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("a stage"))
        .max()
        .expect("one");
    assert_eq!(d["why_no_fall"], order[latest]);
}

#[test]
fn the_html_report_plots_the_detector_with_thresholds_and_stages() {
    let out = std::env::temp_dir().join(format!("sim-explain-{}.html", std::process::id()));
    let o = out.display().to_string();
    let (code, text) = sim(&[
        "replay",
        "scenarios/traces/fall_forward.jsonl",
        "--html",
        &o,
        "--after",
        "5",
    ]);
    assert_eq!(code, 0, "{text}");
    let html = std::fs::read_to_string(&out).expect("report");
    let _ = std::fs::remove_file(&out);
    // The report's data: the detector's plots with their thresholds, its candidates.
    let at = html.find("id=\"report-data\">").expect("data") + "id=\"report-data\">".len();
    let end = at + html[at..].find("</script>").expect("end of data");
    let data: Value = serde_json::from_str(&html[at..end]).expect("JSON");
    let det = &data["detector"];
    let plots: Vec<&str> = det["plots"]
        .as_array()
        .expect("plots")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    for id in ["detector-magnitude", "detector-tilt", "detector-stillness"] {
        assert!(plots.contains(&id), "{id}");
    }
    let thresholds: Vec<&str> = det["plots"]
        .as_array()
        .expect("plots")
        .iter()
        .flat_map(|p| p["thresholds"].as_array().expect("thresholds").iter())
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    for name in [
        "trigger_mg",
        "strong_impact_mg",
        "min_tilt_deg",
        "still_max_mg",
        "off_body_mg",
    ] {
        assert!(thresholds.contains(&name), "{name}");
    }
    let stages: Vec<&Value> = det["explanation"]["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| &c["stage"])
        .collect();
    assert!(stages.contains(&&Value::from("accepted")));
}

/// The generated fall as a FallAllD `.dat` file: 238 Hz, x up the trunk (reads +1 g
/// standing), counts of 0.244 mg.
fn write_dat(path: &Path) {
    let fall = sim::tracegen::generate(sim::tracegen::Activity::FallForward, 1);
    let mut text = String::new();
    let end = fall.last().map_or(0.0, |s| s.0);
    let mut k = 0usize;
    let mut i = 0u32;
    loop {
        let t = f64::from(i) * 1000.0 / 238.0;
        if t > end {
            break;
        }
        while k + 1 < fall.len() && fall[k + 1].0 <= t {
            k += 1;
        }
        let g = fall[k].1;
        let dat = [-g[1], g[0], g[2]].map(|v| (v / 0.000_244).round() as i64);
        text.push_str(&format!("{},{},{}\n", dat[0], dat[1], dat[2]));
        i += 1;
    }
    std::fs::write(path, text).expect("write .dat");
}

#[test]
fn fallalld_dat_traces_replay_and_validate() {
    let dir = std::env::temp_dir().join(format!("sim-dat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let p = dir.join("S99_D3_A101_T01_A.dat");
    write_dat(&p);
    let path = p.display().to_string();
    let v = replay_json(&path);
    assert_eq!(v["detector"]["falls"], 1, "{}", v["detector"]["candidates"]);
    let (code, out) = sim(&["validate", &path]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(dir.join("S99_D3_A101_T02_A.dat"), "1,2,3\n4,five,6\n").expect("write");
    let bad = dir.join("S99_D3_A101_T02_A.dat").display().to_string();
    let (code, _) = sim(&["validate", &bad]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
