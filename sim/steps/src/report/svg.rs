//! Inline SVG plots on one shared time axis: accelerometer magnitude with gesture and fall
//! markers, link state, battery level, and event lanes.
//!
//! A small writer of its own rather than a plotting crate: the output is plain SVG text
//! (no fonts rasterised, no outside resources), deterministic (integers in, fixed
//! decimals out), and keeps its data inspectable — one path point per sample shown, one
//! element per marker carrying `data-t-us` and a `<title>` tooltip.

use std::fmt::Write as _;

use crate::sched::{Micros, MILLI, SECOND};
use crate::simulation::fmt_s;
use sim_world::series::MarkerKind;

use super::html::{esc, plural};

/// Width of every plot's drawing area, in SVG user units (pixels at scale 1).
pub const PLOT_W: f64 = 1000.0;
/// Left margin (y-axis labels, lane names).
pub(crate) const LEFT: f64 = 90.0;
/// Right margin.
const RIGHT: f64 = 20.0;
/// Space above the drawing area (marker labels).
pub(crate) const TOP: f64 = 16.0;
/// Space below the drawing area (time tick labels).
const BOTTOM: f64 = 22.0;
/// Above this many accelerometer samples, the path is decimated to the minimum and
/// maximum of each pixel column.
pub const DECIMATE_ABOVE: usize = 20_000;

/// Every known marker kind, in lane order (button first, then the phone's actions):
/// the names of [`MarkerKind::ALL`].
pub const ALL_KINDS: [&str; 10] = {
    let mut out = [""; 10];
    let mut i = 0;
    while i < out.len() {
        out[i] = MarkerKind::ALL[i].name();
        i += 1;
    }
    out
};

/// The kinds of the event-lane plot of a replay (phone actions and faults): every kind
/// after the button's two (gesture, fall).
pub const ACTION_KINDS: [&str; 8] = {
    let mut out = [""; 8];
    let mut i = 0;
    while i < out.len() {
        out[i] = ALL_KINDS[i + 2];
        i += 1;
    }
    out
};

/// The time axis all plots of one report share: `t0..t1` maps onto `PLOT_W`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeAxis {
    /// Left edge (µs).
    pub t0: Micros,
    /// Right edge (µs), at least 1 ms after `t0`.
    pub t1: Micros,
}

impl TimeAxis {
    /// An axis from `t0` to `t1` (widened to 1 s when shorter than 1 ms).
    pub fn new(t0: Micros, t1: Micros) -> Self {
        let t1 = if t1 < t0 + MILLI { t0 + SECOND } else { t1 };
        TimeAxis { t0, t1 }
    }

    fn span(&self) -> Micros {
        self.t1 - self.t0
    }

    /// The x coordinate of `t` (clamped to the axis).
    pub fn x(&self, t: Micros) -> f64 {
        let d = t.clamp(self.t0, self.t1) - self.t0;
        LEFT + d as f64 * PLOT_W / self.span() as f64
    }

    /// The pixel column (0..PLOT_W) of `t`, for decimation.
    fn column(&self, t: Micros) -> usize {
        let d = u128::from(t.clamp(self.t0, self.t1) - self.t0);
        let cols = PLOT_W as u128;
        ((d * cols / u128::from(self.span())) as usize).min(cols as usize - 1)
    }

    /// Tick step: the smallest round duration giving at most 10 intervals.
    fn tick_step(&self) -> Micros {
        const MIN: Micros = 60 * SECOND;
        const HOUR: Micros = 60 * MIN;
        const DAY: Micros = 24 * HOUR;
        let steps = [
            MILLI,
            2 * MILLI,
            5 * MILLI,
            10 * MILLI,
            20 * MILLI,
            50 * MILLI,
            100 * MILLI,
            200 * MILLI,
            500 * MILLI,
            SECOND,
            2 * SECOND,
            5 * SECOND,
            10 * SECOND,
            15 * SECOND,
            30 * SECOND,
            MIN,
            2 * MIN,
            5 * MIN,
            10 * MIN,
            15 * MIN,
            30 * MIN,
            HOUR,
            2 * HOUR,
            3 * HOUR,
            6 * HOUR,
            12 * HOUR,
            DAY,
            2 * DAY,
            7 * DAY,
            14 * DAY,
            30 * DAY,
            60 * DAY,
            90 * DAY,
            180 * DAY,
            365 * DAY,
        ];
        let span = self.span();
        steps
            .into_iter()
            .find(|&s| span / s <= 10)
            .unwrap_or_else(|| span.div_ceil(10))
    }

    /// Tick times, multiples of the tick step.
    fn ticks(&self) -> Vec<Micros> {
        let step = self.tick_step();
        let first = self.t0.div_ceil(step) * step;
        (0..)
            .map(|i| first + i * step)
            .take_while(|&t| t <= self.t1)
            .collect()
    }

    /// A tick's label in the unit of the tick step (`30 s`, `5 min`, `6 h`, `2 d`).
    fn tick_label(&self, t: Micros) -> String {
        const MIN: Micros = 60 * SECOND;
        const HOUR: Micros = 60 * MIN;
        const DAY: Micros = 24 * HOUR;
        let step = self.tick_step();
        if step >= DAY && t.is_multiple_of(DAY) {
            format!("{} d", t / DAY)
        } else if step >= HOUR && t.is_multiple_of(HOUR) {
            format!("{} h", t / HOUR)
        } else if step >= MIN && t.is_multiple_of(MIN) {
            format!("{} min", t / MIN)
        } else {
            format!("{} s", fmt_s(t))
        }
    }
}

fn total_w() -> f64 {
    LEFT + PLOT_W + RIGHT
}

/// Open an `<svg>` whose drawing area is `h` high; grid lines and time labels included.
pub(crate) fn open(out: &mut String, class: &str, axis: &TimeAxis, h: f64, label: &str) {
    let th = TOP + h + BOTTOM;
    let _ = writeln!(
        out,
        "<svg class=\"plot {class}\" width=\"{:.0}\" height=\"{th:.0}\" viewBox=\"0 0 {:.0} {th:.0}\" role=\"img\" aria-label=\"{}\">",
        total_w(),
        total_w(),
        esc(label)
    );
    let (y0, y1) = (TOP, TOP + h);
    for t in axis.ticks() {
        let x = axis.x(t);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{x:.2}\" y1=\"{y0:.1}\" x2=\"{x:.2}\" y2=\"{y1:.1}\"/><text class=\"tick\" x=\"{x:.2}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y1 + 15.0,
            esc(&axis.tick_label(t))
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{LEFT:.1}\" y1=\"{y1:.1}\" x2=\"{:.1}\" y2=\"{y1:.1}\"/><line class=\"axis\" x1=\"{LEFT:.1}\" y1=\"{y0:.1}\" x2=\"{LEFT:.1}\" y2=\"{y1:.1}\"/>",
        LEFT + PLOT_W
    );
}

pub(crate) fn y_label(out: &mut String, y: f64, text: &str) {
    let _ = writeln!(
        out,
        "<line class=\"grid\" x1=\"{LEFT:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text class=\"ylabel\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        LEFT + PLOT_W,
        LEFT - 6.0,
        y + 4.0,
        esc(text)
    );
}

/// A plot and the caption that goes with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plot {
    /// The `<svg>` element.
    pub svg: String,
    /// What the plot shows (and whether it was decimated).
    pub caption: String,
}

/// The samples kept when there are too many: the minimum and maximum of each pixel
/// column, in time order.
fn decimate(axis: &TimeAxis, samples: &[(Micros, [i16; 3])], mag: &[f64]) -> Vec<usize> {
    let mut keep = Vec::new();
    let mut i = 0;
    while i < samples.len() {
        let col = axis.column(samples[i].0);
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < samples.len() && axis.column(samples[j].0) == col {
            if mag[j] < mag[lo] {
                lo = j;
            }
            if mag[j] > mag[hi] {
                hi = j;
            }
            j += 1;
        }
        keep.push(lo.min(hi));
        if lo != hi {
            keep.push(lo.max(hi));
        }
        i = j;
    }
    keep
}

/// A dated vertical marker per gesture and fall, `h` high.
fn accel_markers(
    out: &mut String,
    axis: &TimeAxis,
    h: f64,
    markers: &[(Micros, &'static str, String)],
) {
    for (t, kind, detail) in markers
        .iter()
        .filter(|(_, k, _)| matches!(*k, "gesture" | "fall"))
    {
        let x = axis.x(*t);
        let _ = writeln!(
            out,
            "<g class=\"marker {kind}\" data-t-us=\"{t}\"><title>{kind} {} at {} s</title><line x1=\"{x:.2}\" y1=\"{:.1}\" x2=\"{x:.2}\" y2=\"{:.1}\"/><text x=\"{:.2}\" y=\"{:.1}\">{}</text></g>",
            esc(detail),
            fmt_s(*t),
            TOP,
            TOP + h,
            x + 2.0,
            TOP - 4.0,
            esc(if *kind == "fall" { "fall" } else { detail })
        );
    }
}

/// The accelerometer plot's caption.
fn accel_caption(
    n: usize,
    shown: usize,
    decimated: bool,
    peak: f64,
    markers: &[(Micros, &'static str, String)],
) -> String {
    let n_g = markers.iter().filter(|m| m.1 == "gesture").count();
    let n_f = markers.iter().filter(|m| m.1 == "fall").count();
    if n == 0 {
        format!("Accelerometer magnitude |a| (g): no samples recorded. {n_g} gesture and {n_f} fall markers.")
    } else if decimated {
        format!(
            "Accelerometer magnitude |a| (g): {} samples, decimated to {} points (minimum and maximum of each of the {} pixel columns); peak {peak:.2} g. {n_g} gesture and {n_f} fall markers.",
            n,
            shown,
            PLOT_W as usize
        )
    } else {
        format!(
            "Accelerometer magnitude |a| (g): all {} samples; peak {peak:.2} g. {n_g} gesture and {n_f} fall markers.",
            n
        )
    }
}

/// Accelerometer magnitude |a| (g) of `samples` (milli-g at the sensor's rate), with a
/// vertical marker for each gesture and fall in `markers`.
pub fn accel_plot(
    axis: &TimeAxis,
    samples: &[(Micros, [i16; 3])],
    markers: &[(Micros, &'static str, String)],
) -> Plot {
    const H: f64 = 180.0;
    let mag: Vec<f64> = samples
        .iter()
        .map(|(_, a)| {
            let sq: i64 = a.iter().map(|&v| i64::from(v) * i64::from(v)).sum();
            (sq as f64).sqrt() / 1000.0
        })
        .collect();
    let peak = mag.iter().copied().fold(0.0f64, f64::max);
    let ymax = peak.ceil().max(2.0);
    let y = |g: f64| TOP + H - g / ymax * H;

    // Which samples are drawn.
    let decimated = samples.len() > DECIMATE_ABOVE;
    let shown: Vec<usize> = if decimated {
        decimate(axis, samples, &mag)
    } else {
        (0..samples.len()).collect()
    };

    let mut out = String::with_capacity(shown.len() * 24 + 4096);
    open(
        &mut out,
        "plot-accel",
        axis,
        H,
        "accelerometer magnitude in g",
    );
    let step = if ymax > 8.0 { (ymax / 4.0).ceil() } else { 1.0 };
    let mut g = 0.0;
    while g <= ymax {
        y_label(&mut out, y(g), &format!("{g:.0} g"));
        g += step;
    }
    if !shown.is_empty() {
        let _ = write!(
            out,
            "<path class=\"accel-magnitude\" data-samples=\"{}\" data-points=\"{}\" d=\"",
            samples.len(),
            shown.len()
        );
        for (k, &i) in shown.iter().enumerate() {
            let _ = write!(
                out,
                "{}{:.2},{:.2}",
                if k == 0 { "M" } else { " L" },
                axis.x(samples[i].0),
                y(mag[i])
            );
        }
        out.push_str("\"/>\n");
    }
    if shown.is_empty() {
        empty_note(&mut out, H, "no accelerometer samples recorded");
    }
    accel_markers(&mut out, axis, H, markers);
    out.push_str("</svg>\n");

    let caption = accel_caption(samples.len(), shown.len(), decimated, peak, markers);
    Plot { svg: out, caption }
}

/// The link state as a step plot (disconnected until the first connection); one vertical
/// step per change of state, one `link-change` element per change.
pub fn link_plot(axis: &TimeAxis, link: &[(Micros, bool)]) -> Plot {
    const H: f64 = 40.0;
    let y = |up: bool| if up { TOP + 4.0 } else { TOP + H - 4.0 };
    let mut out = String::new();
    open(&mut out, "plot-link", axis, H, "link state");
    y_label(&mut out, y(true), "connected");
    y_label(&mut out, y(false), "disconnected");
    let mut cur = false;
    let mut changes = Vec::new();
    let _ = write!(
        out,
        "<path class=\"link-state\" d=\"M{:.2},{:.1}",
        axis.x(axis.t0),
        y(false)
    );
    for &(t, up) in link {
        if up != cur {
            let _ = write!(out, " H{:.2} V{:.1}", axis.x(t), y(up));
            cur = up;
            changes.push((t, up));
        }
    }
    let _ = writeln!(out, " H{:.2}\"/>", axis.x(axis.t1));
    for (t, up) in &changes {
        let what = if *up { "connected" } else { "disconnected" };
        let _ = writeln!(
            out,
            "<g class=\"link-change\" data-t-us=\"{t}\" data-connected=\"{up}\"><title>{what} at {} s</title><circle cx=\"{:.2}\" cy=\"{:.1}\" r=\"3\"/></g>",
            fmt_s(*t),
            axis.x(*t),
            y(*up)
        );
    }
    out.push_str("</svg>\n");
    let ups = changes.iter().filter(|c| c.1).count();
    let caption = format!(
        "Link state: {} ({}, {}).",
        plural(changes.len(), "change"),
        plural(ups, "connection"),
        plural(changes.len() - ups, "disconnection")
    );
    Plot { svg: out, caption }
}

/// The battery level (%) reported by the button, as a step plot with one point per report.
pub fn battery_plot(axis: &TimeAxis, battery: &[(Micros, u8)]) -> Plot {
    const H: f64 = 60.0;
    let y = |pct: u8| TOP + H - f64::from(pct.min(100)) / 100.0 * H;
    let mut out = String::new();
    open(
        &mut out,
        "plot-battery",
        axis,
        H,
        "battery level in percent",
    );
    for pct in [0, 50, 100] {
        y_label(&mut out, y(pct), &format!("{pct} %"));
    }
    if let Some(&(t_first, p_first)) = battery.first() {
        let _ = write!(
            out,
            "<path class=\"battery-level\" d=\"M{:.2},{:.1}",
            axis.x(t_first),
            y(p_first)
        );
        for &(t, p) in &battery[1..] {
            let _ = write!(out, " H{:.2} V{:.1}", axis.x(t), y(p));
        }
        let _ = writeln!(out, " H{:.2}\"/>", axis.x(axis.t1));
        for (t, p) in battery {
            let _ = writeln!(
                out,
                "<g class=\"battery-report\" data-t-us=\"{t}\" data-pct=\"{p}\"><title>battery {p} % at {} s</title><circle cx=\"{:.2}\" cy=\"{:.1}\" r=\"2.5\"/></g>",
                fmt_s(*t),
                axis.x(*t),
                y(*p)
            );
        }
    }
    if battery.is_empty() {
        empty_note(&mut out, H, "no battery report");
    }
    out.push_str("</svg>\n");
    let caption = match (battery.first(), battery.last()) {
        (Some(a), Some(b)) => format!(
            "Battery level (%): {}, from {} % to {} %.",
            plural(battery.len(), "report"),
            a.1,
            b.1
        ),
        _ => "Battery level (%): no battery report.".to_string(),
    };
    Plot { svg: out, caption }
}

/// Events as lanes: one lane per kind of `kinds` (plus, in order of first appearance, any
/// kind of `markers` not listed when `others` is set), one dot per marker with a tooltip.
pub fn lanes_plot(
    axis: &TimeAxis,
    markers: &[(Micros, &'static str, String)],
    kinds: &[&str],
    others: bool,
    class: &str,
) -> Plot {
    const LANE: f64 = 20.0;
    let mut lanes: Vec<&str> = kinds.to_vec();
    if others {
        for (_, k, _) in markers {
            if !lanes.contains(k) {
                lanes.push(k);
            }
        }
    }
    let h = LANE * lanes.len().max(1) as f64;
    let mut out = String::new();
    open(&mut out, class, axis, h, "events over time");
    let lane_y = |i: usize| TOP + LANE * i as f64 + LANE / 2.0;
    for (i, k) in lanes.iter().enumerate() {
        let yy = lane_y(i);
        let _ = writeln!(
            out,
            "<line class=\"lane\" x1=\"{LEFT:.1}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\"/><text class=\"ylabel\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + PLOT_W,
            LEFT - 6.0,
            yy + 4.0,
            esc(k)
        );
    }
    let mut shown = 0usize;
    for (t, kind, detail) in markers {
        let Some(i) = lanes.iter().position(|k| k == kind) else {
            continue;
        };
        shown += 1;
        let class = if ALL_KINDS.contains(kind) {
            kind
        } else {
            "other"
        };
        let _ = writeln!(
            out,
            "<g class=\"marker {class}\" data-kind=\"{}\" data-t-us=\"{t}\"><title>{}: {} at {} s</title><circle cx=\"{:.2}\" cy=\"{:.1}\" r=\"5\"/></g>",
            esc(kind),
            esc(kind),
            esc(detail),
            fmt_s(*t),
            axis.x(*t),
            lane_y(i)
        );
    }
    if shown == 0 {
        empty_note(&mut out, h, "no event");
    }
    out.push_str("</svg>\n");
    let mut counts = String::new();
    for k in &lanes {
        let n = markers.iter().filter(|m| m.1 == *k).count();
        if n > 0 {
            if !counts.is_empty() {
                counts.push_str(", ");
            }
            let _ = write!(counts, "{n} {k}");
        }
    }
    let caption = if shown == 0 {
        "Events: none.".to_string()
    } else {
        format!("Events ({shown}): {counts}. Hover a dot for its detail.")
    };
    Plot { svg: out, caption }
}

/// A centred note in an empty drawing area of height `h`.
pub(crate) fn empty_note(out: &mut String, h: f64, text: &str) {
    let _ = writeln!(
        out,
        "<text class=\"empty\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        LEFT + PLOT_W / 2.0,
        TOP + h / 2.0 + 4.0,
        esc(text)
    );
}

/// A `<figure>` holding a plot and its caption.
pub fn figure(class: &str, plot: &Plot) -> String {
    format!(
        "<figure class=\"{class}\">\n<figcaption>{}</figcaption>\n{}</figure>\n",
        esc(&plot.caption),
        plot.svg
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let a = TimeAxis::new(0, 60 * SECOND);
        let t = a.ticks();
        assert_eq!(t.first(), Some(&0));
        assert_eq!(t[1], 10 * SECOND);
        assert_eq!(a.tick_label(t[1]), "10 s");
        let long = TimeAxis::new(0, 3 * 86_400 * SECOND);
        assert_eq!(long.tick_step(), 12 * 3600 * SECOND);
        assert_eq!(long.tick_label(86_400 * SECOND), "24 h");
        let days = TimeAxis::new(0, 30 * 86_400 * SECOND);
        assert_eq!(days.tick_label(7 * 86_400 * SECOND), "7 d");
        assert!(t.len() <= 11);
        let b = TimeAxis::new(0, 0);
        assert_eq!(b.t1, SECOND);
        assert_eq!(a.x(0), LEFT);
        assert_eq!(a.x(60 * SECOND), LEFT + PLOT_W);
        assert_eq!(a.column(60 * SECOND), PLOT_W as usize - 1);
    }
}
