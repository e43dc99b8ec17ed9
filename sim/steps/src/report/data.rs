//! The data an interactive report draws, as one JSON document built from a run's typed
//! observations: every timeline entry with its time, layer, kind, fields and text; the
//! spans ([`super::spans`]); link and battery series; the accelerometer (the trace's raw
//! samples and the front end's output) at full resolution; the fall detector's
//! explanation with the plots to draw of it (signals against their thresholds).
//!
//! Accelerometer signals are packed ([`pack_signal`]): times as runs of evenly spaced
//! samples, `[start_us, period_us, count]`, and the three axes (mg, `i16`) delta-coded,
//! in six byte planes (x low bytes, x high bytes, y low, y high, z low, z high: the high
//! bytes of small deltas are nearly all 0 or 255 and compress to little),
//! zlib-compressed, in base64. The page unpacks them with the browser's
//! own `DecompressionStream`; a 24-hour capture stays tens of megabytes rather than
//! hundreds, and the page decimates for the overview (minimum and maximum per pixel) and
//! draws every sample when zoomed in.

use std::io::Write as _;

use base64::Engine as _;
use serde_json::{json, Value};

use super::spans::spans;
use crate::fall_probe::Explanation;
use crate::sched::Micros;
use crate::simulation::Simulation;

/// A sample may be this far (µs) from its run's even spacing and still belong to it.
const SPACING_TOLERANCE_US: f64 = 5.0;

/// Runs of evenly spaced times: `[start_us, period_us, count]`.
pub fn time_runs(t: &[Micros]) -> Vec<(Micros, f64, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let start = t[i];
        let mut period = 0.0;
        let mut n = 1;
        while i + n < t.len() {
            let next = t[i + n];
            let k = n as f64;
            if n == 1 {
                period = (next - start) as f64;
            } else if ((next - start) as f64 - period * k).abs() > SPACING_TOLERANCE_US {
                break;
            } else {
                period = (next - start) as f64 / k;
            }
            n += 1;
        }
        runs.push((start, period, n));
        i += n;
    }
    runs
}

/// A signal of three axes packed for the page (see the module documentation).
pub fn pack_signal(log: &[(Micros, [i16; 3])]) -> Value {
    let t: Vec<Micros> = log.iter().map(|s| s.0).collect();
    let mut bytes = Vec::with_capacity(log.len() * 6);
    for axis in 0..3 {
        for half in 0..2 {
            let mut prev = 0i16;
            for (_, v) in log {
                bytes.push(v[axis].wrapping_sub(prev).to_le_bytes()[half]);
                prev = v[axis];
            }
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let packed = z
        .write_all(&bytes)
        .and_then(|()| z.finish())
        .unwrap_or_default();
    let runs: Vec<Value> = time_runs(&t)
        .into_iter()
        .map(|(s, p, n)| json!([s, p, n]))
        .collect();
    json!({
        "n": log.len(),
        "runs": runs,
        "zlib_b64": base64::engine::general_purpose::STANDARD.encode(packed),
    })
}

/// The plots of the fall detector's explanation: which signal, which fields, which
/// thresholds (by name and value, from the profile the button ran).
fn detector_plots(e: &Explanation) -> Value {
    let th = &e.thresholds;
    json!([
        {
            "id": "detector-magnitude",
            "title": "fall detector: |a| after the front end (max and min per point), its baseline, the raw |a| (mg)",
            "unit": "mg",
            "series": [
                {"source": "raw", "field": "mag_max_mg", "label": "raw |a| max"},
                {"source": "samples", "field": "mag_max_mg", "label": "|a| max"},
                {"source": "samples", "field": "mag_min_mg", "label": "|a| min"},
                {"source": "samples", "field": "baseline_mg", "label": "baseline"},
            ],
            "thresholds": [
                {"name": "trigger_mg", "value": th.trigger_mg},
                {"name": "strong_impact_mg", "value": th.strong_impact_mg},
                {"name": "slide_impact_mg", "value": th.slide_impact_mg},
            ],
        },
        {
            "id": "detector-free-fall",
            "title": "fall detector: free fall (minimum |a| per 100 ms block) and energy (mg, mg·s)",
            "unit": "mg",
            "series": [
                {"source": "blocks", "field": "min_mg", "label": "free fall (min |a|)"},
                {"source": "blocks", "field": "energy_mg_s", "label": "energy"},
            ],
            "thresholds": [
                {"name": "min_energy_mg_s", "value": th.min_energy_mg_s},
            ],
        },
        {
            "id": "detector-tilt",
            "title": "fall detector: tilt from the learned upright (degrees)",
            "unit": "°",
            "series": [
                {"source": "blocks", "field": "tilt_from_upright_deg", "label": "tilt"},
            ],
            "thresholds": [
                {"name": "min_tilt_deg", "value": th.min_tilt_deg},
                {"name": "lying_min_deg", "value": th.lying_min_deg},
                {"name": "slide_tilt_deg", "value": th.slide_tilt_deg},
            ],
        },
        {
            "id": "detector-stillness",
            "title": "fall detector: stillness, range of |a| per 100 ms block (mg)",
            "unit": "mg",
            "series": [
                {"source": "blocks", "field": "range_mg", "label": "range"},
            ],
            "thresholds": [
                {"name": "still_max_mg", "value": th.still_max_mg},
                {"name": "off_body_pre_mg", "value": th.off_body_pre_mg},
                {"name": "slide_still_mg", "value": th.slide_still_mg},
                {"name": "off_body_mg", "value": th.off_body_mg},
            ],
        },
    ])
}

/// The run's end: now, or the last thing recorded if later.
pub fn run_end(sim: &Simulation) -> Micros {
    let s = &sim.series;
    [
        s.link.last().map(|x| x.0),
        s.battery.last().map(|x| x.0),
        s.markers.last().map(|x| x.0),
        s.edges.last().map(|x| x.0),
        sim.accel_log.as_ref().and_then(|l| l.last()).map(|x| x.0),
        s.raw_accel.as_ref().and_then(|l| l.last()).map(|x| x.0),
        sim.timeline.entries.last().map(|e| e.t_us),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0)
    .max(sim.now())
}

/// Everything a report draws of one run.
pub fn report_data(title: &str, sim: &Simulation) -> Value {
    let end = run_end(sim);
    let entries: Vec<Value> = sim
        .timeline
        .entries
        .iter()
        .map(|e| {
            json!([
                e.t_us,
                e.layer.name(),
                e.what.kind(),
                e.what.fields(),
                e.text()
            ])
        })
        .collect();
    let detector = sim.series.detector.as_ref().map(|d| {
        let e = d.explain();
        json!({"plots": detector_plots(&e), "explanation": e})
    });
    json!({
        "title": title,
        "seed": sim.seed(),
        "end_us": end,
        "entries": entries,
        "dropped": sim.timeline.dropped,
        "spans": spans(sim, end),
        "link": sim.series.link,
        "battery": sim.series.battery,
        "accel": {
            "front_end": sim.accel_log.as_deref().filter(|l| !l.is_empty()).map(pack_signal),
            "raw": sim.series.raw_accel.as_deref().filter(|l| !l.is_empty()).map(pack_signal),
        },
        "detector": detector,
        "trace_error": sim.replay_error.as_ref().map(ToString::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_times_make_one_run_and_a_gap_starts_another() {
        let mut t: Vec<Micros> = (0..100).map(|i| i * 20_000).collect();
        t.extend((0..10).map(|i| 5_000_000 + i * 20_000));
        let runs = time_runs(&t);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].0, runs[0].2), (0, 100));
        assert_eq!((runs[1].0, runs[1].2), (5_000_000, 10));
        assert!((runs[0].1 - 20_000.0).abs() < 1e-9);
    }

    #[test]
    fn rounded_uneven_spacing_stays_one_run() {
        // 238 Hz rounded to whole µs: 4201 or 4202 µs apart.
        let t: Vec<Micros> = (0..1000)
            .map(|i| (i as f64 * 1e6 / 238.0) as Micros)
            .collect();
        assert_eq!(time_runs(&t).len(), 1);
    }

    #[test]
    fn a_packed_signal_inflates_to_its_deltas_in_byte_planes() {
        let log: Vec<(Micros, [i16; 3])> = (0..50)
            .map(|i| {
                let z = 32_000i16.wrapping_sub((i as i16).wrapping_mul(1000));
                (i * 20_000, [i as i16, -1000, z])
            })
            .collect();
        let v = pack_signal(&log);
        let b64 = v["zlib_b64"].as_str().unwrap_or_default();
        let z = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&z[..]), &mut raw)
            .unwrap_or_default();
        assert_eq!(raw.len(), 50 * 6);
        // z axis: its low bytes at 200.., its high bytes at 250.. (planes of 50).
        let delta = |i: usize| i16::from_le_bytes([raw[200 + i], raw[250 + i]]);
        let mut z_axis = 0i16;
        for (i, s) in log.iter().enumerate() {
            z_axis = z_axis.wrapping_add(delta(i));
            assert_eq!(z_axis, s.1[2]);
        }
        assert_eq!(v["n"], 50);
    }
}
