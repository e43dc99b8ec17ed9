//! The run's reports, each a [`crate::sink::Sink`]: the console ([`console`]), JUnit XML
//! ([`junit`]), Cucumber JSON ([`cucumber_json`]), the HTML report ([`suite`]), btsnoop
//! captures ([`capture`]) and the progress indicator ([`progress`]).
//!
//! HTML reports: one self-contained file (inline CSS and inline SVG, no script, no outside
//! resource) for a trace replay ([`replay_report`]) or a suite run ([`suite_report`]).
//!
//! A replay report has a header (title, seed, duration, counts), plots on one shared time
//! axis — accelerometer magnitude with gesture and fall markers, link state, battery
//! level, the phone's actions as event lanes; when the fall detector was explained
//! (`Simulation::explain_falls`), its signals against its thresholds with each candidate
//! and its deciding stage ([`detector`]) — and the full event timeline as a table.
//! A suite report has a summary table and a section per scenario: result, message,
//! steps with their status, the replay command and an events-over-time plot with the
//! scenario's timeline.
//!
//! The output is deterministic (the same simulation gives the same bytes; no wall clock)
//! and well-formed XML as well as HTML5, so tests can parse it with an XML parser. Plot
//! elements carry their data: `data-t-us` on every marker, `<title>` tooltips, one path
//! point per accelerometer sample shown (decimated to the minimum and maximum of each
//! pixel column above [`svg::DECIMATE_ABOVE`] samples, which the caption then says).

pub mod capture;
pub mod console;
pub mod cucumber_json;
pub mod detector;
pub mod html;
pub mod junit;
pub mod perfetto;
pub mod progress;
pub mod spans;
pub mod suite;
pub mod svg;

use std::fmt::Write as _;

use crate::simulation::Simulation;
use crate::steps::world::ScenarioMeta;

use html::{esc, fmt_duration, page, plural, timeline_table};
use svg::{figure, TimeAxis};

/// The shared time axis of a simulation: from 0 to now (or to the last recorded datum).
fn sim_axis(sim: &Simulation) -> TimeAxis {
    let s = &sim.series;
    let last = [
        s.link.last().map(|x| x.0),
        s.battery.last().map(|x| x.0),
        s.markers.last().map(|x| x.0),
        sim.accel_log.as_ref().and_then(|l| l.last()).map(|x| x.0),
        sim.timeline.entries.last().map(|e| e.t_us),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    TimeAxis::new(0, sim.now().max(last))
}

fn count(sim: &Simulation, kind: &str) -> usize {
    sim.series
        .markers
        .iter()
        .filter(|m| m.1.name() == kind)
        .count()
}

/// The typed markers with their kinds by name, as the plots take them.
fn named_markers(sim: &Simulation) -> Vec<(u64, &'static str, String)> {
    let m = &sim.series.markers;
    m.iter()
        .map(|(t, k, d)| (*t, k.name(), d.clone()))
        .collect()
}

/// One self-contained HTML page of a replayed run: header (title, seed, duration),
/// plots sharing a time axis (accelerometer magnitude |a| with gesture and fall markers,
/// link state, battery level, phone actions as lanes) and the full timeline table.
///
/// Record the accelerometer with `sim.accel_log = Some(Vec::new())` before replaying;
/// without it the accelerometer plot holds only the markers.
pub fn replay_report(title: &str, sim: &Simulation) -> String {
    let axis = sim_axis(sim);
    let empty = Vec::new();
    let samples = sim.accel_log.as_ref().unwrap_or(&empty);
    let mut b = String::new();
    let _ = writeln!(b, "<header>\n<h1>{}</h1>\n<dl class=\"meta\">", esc(title));
    let _ = writeln!(b, "<dt>seed</dt><dd>{}</dd>", sim.seed());
    let _ = writeln!(
        b,
        "<dt>duration</dt><dd>{} (virtual time)</dd>",
        fmt_duration(sim.now())
    );
    let _ = writeln!(
        b,
        "<dt>events</dt><dd>{}, {}, {} SMS, {}, {}, {}</dd>",
        plural(count(sim, "gesture"), "gesture"),
        plural(count(sim, "fall"), "fall"),
        count(sim, "sms"),
        plural(count(sim, "call"), "call"),
        plural(count(sim, "rejected"), "rejected frame"),
        plural(count(sim, "fault"), "fault")
    );
    let _ = writeln!(
        b,
        "<dt>timeline</dt><dd>{} entries</dd>",
        sim.timeline.entries.len() as u64 + sim.timeline.dropped
    );
    if let Some(e) = &sim.replay_error {
        let _ = writeln!(b, "<dt>trace error</dt><dd>{}</dd>", esc(&e.to_string()));
    }
    b.push_str("</dl>\n</header>\n<section class=\"plots\">\n<h2>Plots</h2>\n");
    b.push_str(&figure(
        "fig-accel",
        &svg::accel_plot(&axis, samples, &named_markers(sim)),
    ));
    if let Some(log) = &sim.series.detector {
        for plot in detector::detector_plots(&axis, &log.explain()) {
            b.push_str(&figure("fig-detector", &plot));
        }
    }
    b.push_str(&figure(
        "fig-link",
        &svg::link_plot(&axis, &sim.series.link),
    ));
    b.push_str(&figure(
        "fig-battery",
        &svg::battery_plot(&axis, &sim.series.battery),
    ));
    b.push_str(&figure(
        "fig-actions",
        &svg::lanes_plot(
            &axis,
            &named_markers(sim),
            &svg::ACTION_KINDS,
            false,
            "plot-actions",
        ),
    ));
    b.push_str("</section>\n<section class=\"timeline\">\n<h2>Timeline</h2>\n");
    b.push_str(&timeline_table(&sim.timeline));
    b.push_str("</section>\n");
    page(title, &b)
}

/// A scenario's events over time as an HTML fragment: an event-lane plot of every marker
/// kind, the link state, the accelerometer when it was recorded, then the timeline table
/// (folded). What [`ScenarioSection::timeline_html`] holds when built from a simulation.
pub fn scenario_timeline_html(sim: &Simulation) -> String {
    let axis = sim_axis(sim);
    let mut s = String::new();
    // Only the lanes of kinds that occurred, in the usual order, keep sections short.
    let present: Vec<&str> = svg::ALL_KINDS
        .into_iter()
        .filter(|k| sim.series.markers.iter().any(|m| m.1.name() == *k))
        .collect();
    s.push_str(&figure(
        "fig-events",
        &svg::lanes_plot(&axis, &named_markers(sim), &present, true, "plot-events"),
    ));
    s.push_str(&figure(
        "fig-link",
        &svg::link_plot(&axis, &sim.series.link),
    ));
    if let Some(samples) = sim.accel_log.as_ref().filter(|l| !l.is_empty()) {
        s.push_str(&figure(
            "fig-accel",
            &svg::accel_plot(&axis, samples, &named_markers(sim)),
        ));
    }
    let _ = writeln!(
        s,
        "<details class=\"timeline\">\n<summary>Timeline ({} entries, {} of virtual time, seed {})</summary>",
        sim.timeline.entries.len() as u64 + sim.timeline.dropped,
        fmt_duration(sim.now()),
        sim.seed()
    );
    s.push_str(&timeline_table(&sim.timeline));
    s.push_str("</details>\n");
    s
}

/// One scenario of a suite report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScenarioSection {
    /// Feature name.
    pub feature: String,
    /// Scenario name (with the example row for outlines, if wanted).
    pub scenario: String,
    /// Feature file, as given to `sim run`.
    pub file: String,
    /// Line of the scenario in the file.
    pub line: usize,
    /// The seed of the replay command `sim run FILE:LINE --seed N` (the run's seed).
    pub seed: u64,
    /// The scenario's own (derived) seed, when a simulation ran.
    pub scenario_seed: Option<u64>,
    /// Whether the scenario passed.
    pub passed: bool,
    /// Why it failed.
    pub message: Option<String>,
    /// Each step: keyword and text (`Given the wearer …`), status (`passed`, `failed`
    /// or `skipped`).
    pub steps: Vec<(String, String)>,
    /// Trusted HTML fragment: the scenario's plot and timeline, normally from
    /// [`scenario_timeline_html`]; empty when no simulation ran.
    pub timeline_html: String,
}

impl ScenarioSection {
    /// A section from the runner's metadata, the result, the steps with their status and
    /// the scenario's simulation (if one started).
    pub fn from_sim(
        meta: &ScenarioMeta,
        passed: bool,
        message: Option<String>,
        steps: Vec<(String, String)>,
        sim: Option<&Simulation>,
    ) -> Self {
        Self::from_parts(
            meta,
            passed,
            message,
            steps,
            sim.map(Simulation::seed),
            sim.map(scenario_timeline_html).unwrap_or_default(),
        )
    }

    /// A section from the runner's metadata, the result, the steps with their status,
    /// the simulation's seed (if one started) and its plots ([`scenario_timeline_html`]).
    pub fn from_parts(
        meta: &ScenarioMeta,
        passed: bool,
        message: Option<String>,
        steps: Vec<(String, String)>,
        scenario_seed: Option<u64>,
        timeline_html: String,
    ) -> Self {
        let scenario = if meta.example_row.is_empty() {
            meta.scenario.clone()
        } else {
            format!("{} [{}]", meta.scenario, meta.example_row)
        };
        ScenarioSection {
            feature: meta.feature.clone(),
            scenario,
            file: meta.file.clone(),
            line: meta.line,
            seed: meta.run_seed,
            scenario_seed,
            passed,
            message,
            steps,
            timeline_html,
        }
    }

    /// The one-line command that replays this scenario.
    pub fn replay_command(&self) -> String {
        format!("sim run {}:{} --seed {}", self.file, self.line, self.seed)
    }
}

fn status_class(s: &str) -> &'static str {
    match s {
        "passed" => "passed",
        "failed" => "failed",
        _ => "skipped",
    }
}

/// One scenario's section of a suite report.
fn scenario_html(b: &mut String, i: usize, s: &ScenarioSection) {
    let r = if s.passed { "passed" } else { "failed" };
    let _ = writeln!(
        b,
        "<section class=\"scenario {r}\" id=\"sc-{i}\">\n<h2>{}: {}</h2>\n<dl class=\"meta\">",
        esc(&s.feature),
        esc(&s.scenario)
    );
    let _ = writeln!(b, "<dt>result</dt><dd class=\"status\">{r}</dd>");
    let _ = writeln!(
        b,
        "<dt>location</dt><dd><code>{}:{}</code></dd>",
        esc(&s.file),
        s.line
    );
    let _ = writeln!(b, "<dt>run seed</dt><dd>{}</dd>", s.seed);
    if let Some(seed) = s.scenario_seed {
        let _ = writeln!(b, "<dt>scenario seed</dt><dd>{seed}</dd>");
    }
    let _ = writeln!(
        b,
        "<dt>replay</dt><dd><code class=\"replay\">{}</code></dd>\n</dl>",
        esc(&s.replay_command())
    );
    if let Some(m) = &s.message {
        let _ = writeln!(b, "<pre class=\"message\">{}</pre>", esc(m));
    }
    if !s.steps.is_empty() {
        b.push_str("<h3>Steps</h3>\n<ol class=\"steps\">\n");
        for (text, status) in &s.steps {
            let c = status_class(status);
            let _ = writeln!(
                b,
                "<li class=\"{c}\"><span class=\"status {c}\">[{}]</span> {}</li>",
                esc(status),
                esc(text)
            );
        }
        b.push_str("</ol>\n");
    }
    b.push_str("<h3>Events</h3>\n");
    if s.timeline_html.is_empty() {
        b.push_str("<p class=\"note\">No simulation ran.</p>\n");
    } else {
        b.push_str(&s.timeline_html);
    }
    b.push_str("</section>\n");
}

/// One self-contained HTML page for a suite run: counts, a summary table linking to each
/// scenario, then a section per scenario with its result, message, steps, replay command
/// and timeline plot.
pub fn suite_report(title: &str, sections: &[ScenarioSection]) -> String {
    let failed = sections.iter().filter(|s| !s.passed).count();
    let mut b = String::new();
    let _ = writeln!(b, "<header>\n<h1>{}</h1>\n<dl class=\"meta\">", esc(title));
    let _ = writeln!(
        b,
        "<dt>scenarios</dt><dd>{} ({} passed, <span class=\"status {}\">{failed} failed</span>)</dd>",
        sections.len(),
        sections.len() - failed,
        if failed == 0 { "passed" } else { "failed" }
    );
    let mut seeds: Vec<u64> = sections.iter().map(|s| s.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    if let [seed] = seeds[..] {
        let _ = writeln!(b, "<dt>seed</dt><dd>{seed}</dd>");
    }
    b.push_str("</dl>\n</header>\n");
    b.push_str("<table class=\"summary\">\n<thead><tr><th>result</th><th>feature</th><th>scenario</th><th>location</th></tr></thead>\n<tbody>\n");
    for (i, s) in sections.iter().enumerate() {
        let r = if s.passed { "passed" } else { "failed" };
        let _ = writeln!(
            b,
            "<tr class=\"{r}\"><td class=\"status\">{r}</td><td>{}</td><td><a href=\"#sc-{i}\">{}</a></td><td><code>{}:{}</code></td></tr>",
            esc(&s.feature),
            esc(&s.scenario),
            esc(&s.file),
            s.line
        );
    }
    b.push_str("</tbody>\n</table>\n");
    for (i, s) in sections.iter().enumerate() {
        scenario_html(&mut b, i, s);
    }
    page(title, &b)
}
