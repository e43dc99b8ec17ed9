//! The fall detector's plots in a replay report, from the typed
//! [`Explanation`](crate::fall_probe::Explanation) of `sim_world::fall_probe`: the
//! magnitude `|a|` after the sensor front end (and the trace's raw magnitude, and the
//! detector's baseline) against the trigger and impact thresholds; the tilt from the
//! learned upright against the posture thresholds; the stillness (block range of `|a|`)
//! against the stillness and off-body thresholds. Every plot shades each candidate from
//! its opening to its judgement and marks its peak (the impact) with the stage that
//! accepted or rejected it (`data-stage`).

use std::fmt::Write as _;

use crate::fall_probe::{CandidateExplained, Explanation};
use crate::sched::{Micros, MILLI};

use super::html::esc;
use super::svg::{empty_note, open, y_label, Plot, TimeAxis, LEFT, PLOT_W, TOP};

const H: f64 = 150.0;

/// One curve: its class and its points (time in ms, value).
struct Curve {
    class: &'static str,
    points: Vec<(u64, f64)>,
}

/// One horizontal threshold line: the threshold's field name and its value.
struct Threshold {
    name: &'static str,
    value: f64,
}

/// One plot of detector signals with thresholds and candidates.
struct SignalPlot<'a> {
    class: &'static str,
    label: &'a str,
    unit: &'a str,
    ymax: f64,
    curves: Vec<Curve>,
    thresholds: Vec<Threshold>,
}

fn draw(axis: &TimeAxis, p: &SignalPlot, candidates: &[CandidateExplained]) -> String {
    let y = |v: f64| TOP + H - (v.clamp(0.0, p.ymax) / p.ymax) * H;
    let mut out = String::new();
    open(
        &mut out,
        &format!("plot-detector {}", p.class),
        axis,
        H,
        p.label,
    );
    for k in 0..=4 {
        let v = p.ymax * f64::from(k) / 4.0;
        y_label(&mut out, y(v), &format!("{v:.0} {}", p.unit));
    }
    for c in candidates {
        candidate(&mut out, axis, c);
    }
    for t in &p.thresholds {
        let _ = writeln!(
            out,
            "<g class=\"threshold\" data-name=\"{}\" data-value=\"{}\"><line x1=\"{LEFT:.1}\" y1=\"{yv:.2}\" x2=\"{:.1}\" y2=\"{yv:.2}\"/><text x=\"{:.1}\" y=\"{:.2}\" text-anchor=\"end\">{} {}</text></g>",
            t.name,
            t.value,
            LEFT + PLOT_W,
            LEFT + PLOT_W - 2.0,
            y(t.value) - 2.0,
            t.name,
            t.value,
            yv = y(t.value),
        );
    }
    for c in &p.curves {
        if c.points.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<path class=\"signal {}\" data-points=\"{}\" d=\"",
            c.class,
            c.points.len()
        );
        for (k, (t, v)) in c.points.iter().enumerate() {
            let m = if k == 0 { "M" } else { " L" };
            let _ = write!(out, "{m}{:.2},{:.2}", axis.x(t * MILLI), y(*v));
        }
        out.push_str("\"/>\n");
    }
    if p.curves.iter().all(|c| c.points.is_empty()) {
        empty_note(&mut out, H, "no samples recorded");
    }
    out.push_str("</svg>\n");
    out
}

/// A candidate: shaded from its opening to its judgement, a line at its peak labelled
/// with its deciding stage.
fn candidate(out: &mut String, axis: &TimeAxis, c: &CandidateExplained) {
    let (x0, x1) = (axis.x(c.opened_ms * MILLI), axis.x(c.judged_ms * MILLI));
    let xp = axis.x(c.peak_ms * MILLI);
    let stage = c.stage.name();
    let t_us: Micros = c.peak_ms * MILLI;
    let _ = writeln!(
        out,
        "<g class=\"candidate {stage}\" data-stage=\"{stage}\" data-t-us=\"{t_us}\"><title>candidate: peak {} mg at {:.3} s, {}</title><rect x=\"{x0:.2}\" y=\"{TOP:.1}\" width=\"{:.2}\" height=\"{H:.1}\"/><line x1=\"{xp:.2}\" y1=\"{TOP:.1}\" x2=\"{xp:.2}\" y2=\"{:.1}\"/><text x=\"{:.2}\" y=\"{:.1}\">{}</text></g>",
        c.features.peak_mg,
        c.peak_ms as f64 / 1000.0,
        esc(stage),
        (x1 - x0).max(1.0),
        TOP + H,
        xp + 2.0,
        TOP + 10.0,
        esc(stage)
    );
}

/// A curve from `(t_ms, value)` points.
fn curve<V: Into<f64>>(class: &'static str, points: impl Iterator<Item = (u64, V)>) -> Curve {
    Curve {
        class,
        points: points.map(|(t, v)| (t, v.into())).collect(),
    }
}

/// Threshold lines from `(field name, value)`.
fn thresholds<V: Into<f64> + Copy>(list: &[(&'static str, V)]) -> Vec<Threshold> {
    list.iter()
        .map(|&(name, v)| Threshold {
            name,
            value: v.into(),
        })
        .collect()
}

/// |a| after the front end, raw, and the baseline, with the impact thresholds.
fn magnitude_plot(e: &Explanation) -> SignalPlot<'static> {
    let (th, s) = (&e.thresholds, &e.signals);
    let peak = s.samples.iter().map(|p| p.mag_max_mg).max().unwrap_or(0);
    SignalPlot {
        class: "detector-magnitude",
        label: "fall detector: |a| after the front end, raw, baseline (mg)",
        unit: "mg",
        ymax: (f64::from(peak.max(th.strong_impact_mg)) / 1000.0).ceil() * 1000.0,
        curves: vec![
            curve("raw", s.raw.iter().map(|p| (p.t_ms, p.mag_max_mg))),
            curve(
                "magnitude",
                s.samples.iter().map(|p| (p.t_ms, p.mag_max_mg)),
            ),
            curve(
                "baseline",
                s.samples.iter().map(|p| (p.t_ms, p.baseline_mg)),
            ),
        ],
        thresholds: thresholds(&[
            ("trigger_mg", th.trigger_mg),
            ("strong_impact_mg", th.strong_impact_mg),
            ("slide_impact_mg", th.slide_impact_mg),
        ]),
    }
}

/// Tilt from the learned upright, with the posture thresholds.
fn tilt_plot(e: &Explanation) -> SignalPlot<'static> {
    let th = &e.thresholds;
    SignalPlot {
        class: "detector-tilt",
        label: "fall detector: tilt from the learned upright (degrees)",
        unit: "°",
        ymax: 180.0,
        curves: vec![curve(
            "tilt",
            e.signals
                .blocks
                .iter()
                .map(|b| (b.t_ms, b.tilt_from_upright_deg)),
        )],
        thresholds: thresholds(&[
            ("min_tilt_deg", th.min_tilt_deg),
            ("lying_min_deg", th.lying_min_deg),
        ]),
    }
}

/// The range of |a| per block, with the stillness and off-body thresholds.
fn stillness_plot(e: &Explanation) -> SignalPlot<'static> {
    let th = &e.thresholds;
    SignalPlot {
        class: "detector-stillness",
        label: "fall detector: stillness, range of |a| per 100 ms block (mg)",
        unit: "mg",
        ymax: f64::from(th.still_max_mg) * 4.0,
        curves: vec![curve(
            "stillness",
            e.signals.blocks.iter().map(|b| (b.t_ms, b.range_mg)),
        )],
        thresholds: thresholds(&[
            ("still_max_mg", th.still_max_mg),
            ("off_body_pre_mg", th.off_body_pre_mg),
            ("off_body_mg", th.off_body_mg),
        ]),
    }
}

/// The detector's plots and captions, on the report's time axis.
pub fn detector_plots(axis: &TimeAxis, e: &Explanation) -> Vec<Plot> {
    let caption = caption(e);
    [magnitude_plot(e), tilt_plot(e), stillness_plot(e)]
        .iter()
        .map(|p| Plot {
            svg: draw(axis, p, &e.candidates),
            caption: format!("{} {caption}", p.label),
        })
        .collect()
}

/// What the detector decided, for the captions.
fn caption(e: &Explanation) -> String {
    let mut c = format!(
        "{} candidate(s), {} fall(s); {} samples per point.",
        e.candidates.len(),
        e.falls,
        e.signals.samples_per_point
    );
    if let Some(why) = e.why_no_fall {
        let _ = write!(c, " No fall: decided by {}.", why.name());
    }
    c
}
