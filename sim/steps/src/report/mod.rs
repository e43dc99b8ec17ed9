//! The run's reports, each a [`crate::sink::Sink`]: the console ([`console`]), JUnit XML
//! ([`junit`]), Cucumber JSON ([`cucumber_json`]), the HTML report ([`suite`]), btsnoop
//! captures ([`capture`]), Perfetto traces ([`perfetto`]) and the progress indicator
//! ([`progress`]).
//!
//! HTML reports are interactive and self-contained: one file with its data
//! ([`data::report_data`], from the run's typed observations), uPlot (vendored in
//! `vendor/uplot-1.6.32/`, MIT) and the report's script (`report.js`), all inline, so a
//! report works offline and fetches nothing. A replay report ([`replay_report`]) has a
//! header (title, seed, duration, counts), plots on one shared, zoomable time axis —
//! event lanes (presses as spans, gestures, falls, link, outages, the countdown as a
//! span, vibrations, SMS, calls, siren, recording, warnings, rejected frames, faults;
//! hover for an event's typed fields), the raw and front-end acceleration (x, y, z,
//! |a|, toggleable, with the impact and detection marked), the fall detector's signals
//! against its thresholds with its candidates, link state and battery — a readout of
//! every lane at the cursor's instant, and the timeline table (filters by layer and
//! text; a click centres the plots on a row). A suite report ([`suite_report`]) has the
//! run's date, `sim` version and command line, a summary in file order with wall and
//! virtual time per scenario and a filter for failed ones, and a section per scenario
//! whose plots are drawn when it is opened.
//!
//! A report's bytes depend only on the run (no wall clock) except a suite report's
//! header and durations ([`SuiteMeta`], wall times), which the determinism check never
//! compares.

pub mod capture;
pub mod console;
pub mod cucumber_json;
pub mod data;
pub mod html;
pub mod junit;
pub mod perfetto;
pub mod progress;
pub mod spans;
pub mod suite;

use std::fmt::Write as _;
use std::time::Duration;

use crate::sched::Micros;
use crate::simulation::Simulation;
use crate::steps::world::ScenarioMeta;

use html::{esc, fmt_duration, page, plural, run_controls, script_json, timeline_table};

fn count(sim: &Simulation, kind: &str) -> usize {
    sim.series
        .markers
        .iter()
        .filter(|m| m.1.name() == kind)
        .count()
}

/// One self-contained interactive HTML page of a replayed run (see the module
/// documentation).
///
/// Record the accelerometer with `sim.record_accel()` and explain the detector with
/// `sim.explain_falls()` before replaying; without them those plots are left out.
pub fn replay_report(title: &str, sim: &Simulation) -> String {
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
    if let Some(e) = sim.series.detector.as_ref().map(|d| d.explain()) {
        let why = e
            .why_no_fall
            .map(|w| format!("; no fall: decided by {}", w.name()))
            .unwrap_or_default();
        let _ = writeln!(
            b,
            "<dt>fall detector</dt><dd>{}, {}{why}</dd>",
            plural(e.candidates.len(), "candidate"),
            plural(e.falls as usize, "fall")
        );
    }
    let _ = writeln!(
        b,
        "<dt>timeline</dt><dd>{} entries</dd>",
        sim.timeline.entries.len() as u64 + sim.timeline.dropped
    );
    if let Some(e) = &sim.replay_error {
        let _ = writeln!(b, "<dt>trace error</dt><dd>{}</dd>", esc(&e.to_string()));
    }
    b.push_str("</dl>\n</header>\n<div class=\"run\">\n");
    b.push_str(&run_controls());
    b.push_str("<section class=\"timeline\">\n<h2>Timeline</h2>\n");
    b.push_str(&timeline_table(&sim.timeline));
    b.push_str("</section>\n</div>\n");
    let _ = writeln!(
        b,
        "<script type=\"application/json\" id=\"report-data\">{}</script>",
        script_json(&data::report_data(title, sim))
    );
    page(title, &b)
}

/// A scenario's run as an HTML fragment for a suite report: a folded section holding
/// the run's data, its plots drawn when opened, and the timeline table. What
/// [`ScenarioSection::timeline_html`] holds when built from a simulation.
pub fn scenario_timeline_html(sim: &Simulation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<details class=\"scenario-run\">\n<summary>Plots and timeline ({} entries, {} of virtual time, seed {})</summary>",
        sim.timeline.entries.len() as u64 + sim.timeline.dropped,
        fmt_duration(sim.now()),
        sim.seed()
    );
    s.push_str(&run_controls());
    s.push_str(&timeline_table(&sim.timeline));
    let _ = writeln!(
        s,
        "<script type=\"application/json\" class=\"run-data\">{}</script>",
        script_json(&data::report_data("", sim))
    );
    s.push_str("</details>\n");
    s
}

/// What a suite report says of the run as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SuiteMeta {
    /// When it ran (UTC, `2026-01-05 09:00:00 UTC`).
    pub date: String,
    /// The `sim` version.
    pub version: String,
    /// The command line.
    pub command: String,
}

impl SuiteMeta {
    /// This process: now, this crate's version, its arguments.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let command = std::env::args()
            .map(|a| {
                if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c))
                {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        SuiteMeta {
            date: phone::text::utc(ms),
            version: env!("CARGO_PKG_VERSION").to_string(),
            command,
        }
    }
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
    /// How long it ran (wall clock).
    pub wall: Duration,
    /// How much virtual time it ran (µs), when a simulation started.
    pub virtual_us: Option<Micros>,
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
        let mut s = Self::from_parts(
            meta,
            passed,
            message,
            steps,
            sim.map(Simulation::seed),
            sim.map(scenario_timeline_html).unwrap_or_default(),
        );
        s.virtual_us = sim.map(Simulation::now);
        s
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
            wall: Duration::ZERO,
            virtual_us: None,
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
    let _ = writeln!(
        b,
        "<dt>time</dt><dd>{} wall, {}</dd>",
        fmt_wall(s.wall),
        s.virtual_us.map_or("no simulation".into(), |v| format!(
            "{} virtual",
            fmt_duration(v)
        ))
    );
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

/// A wall-clock duration: `1.234 s`.
fn fmt_wall(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// One self-contained HTML page for a suite run: when, which `sim`, which command;
/// counts and a filter for failed scenarios; a summary table in file order (result,
/// feature, scenario, location, wall and virtual time) linking to each scenario's
/// section with its result, message, steps, replay command and plots.
pub fn suite_report(title: &str, meta: &SuiteMeta, sections: &[ScenarioSection]) -> String {
    let failed = sections.iter().filter(|s| !s.passed).count();
    let mut b = String::new();
    let _ = writeln!(b, "<header>\n<h1>{}</h1>\n<dl class=\"meta\">", esc(title));
    let _ = writeln!(b, "<dt>run</dt><dd>{}</dd>", esc(&meta.date));
    let _ = writeln!(b, "<dt>sim version</dt><dd>{}</dd>", esc(&meta.version));
    let _ = writeln!(
        b,
        "<dt>command</dt><dd><code>{}</code></dd>",
        esc(&meta.command)
    );
    let _ = writeln!(
        b,
        "<dt>scenarios</dt><dd>{} ({} passed, <span class=\"status {}\">{failed} failed</span>)</dd>",
        sections.len(),
        sections.len() - failed,
        if failed == 0 { "passed" } else { "failed" }
    );
    let wall: Duration = sections.iter().map(|s| s.wall).sum();
    let virt: Micros = sections.iter().filter_map(|s| s.virtual_us).sum();
    let _ = writeln!(
        b,
        "<dt>time</dt><dd>{} wall (summed over scenarios), {} virtual</dd>",
        fmt_wall(wall),
        fmt_duration(virt)
    );
    let mut seeds: Vec<u64> = sections.iter().map(|s| s.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    if let [seed] = seeds[..] {
        let _ = writeln!(b, "<dt>seed</dt><dd>{seed}</dd>");
    }
    b.push_str("</dl>\n</header>\n");
    let _ = writeln!(
        b,
        "<p class=\"filter\"><label><input type=\"checkbox\" id=\"failed-only\"/> show failed scenarios only ({failed})</label></p>"
    );
    b.push_str("<table class=\"summary\">\n<thead><tr><th>result</th><th>feature</th><th>scenario</th><th>location</th><th>wall</th><th>virtual</th></tr></thead>\n<tbody>\n");
    for (i, s) in sections.iter().enumerate() {
        let r = if s.passed { "passed" } else { "failed" };
        let _ = writeln!(
            b,
            "<tr class=\"{r}\"><td class=\"status\">{r}</td><td>{}</td><td><a href=\"#sc-{i}\">{}</a></td><td><code>{}:{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&s.feature),
            esc(&s.scenario),
            esc(&s.file),
            s.line,
            fmt_wall(s.wall),
            s.virtual_us.map(fmt_duration).unwrap_or_default()
        );
    }
    b.push_str("</tbody>\n</table>\n");
    for (i, s) in sections.iter().enumerate() {
        scenario_html(&mut b, i, s);
    }
    page(title, &b)
}
