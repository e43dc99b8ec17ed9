//! The runner's event stream and the [`Sink`] trait its reports implement.
//!
//! A run is told as typed events: [`Event::RunStarted`], then per feature
//! [`Event::FeatureStarted`], per scenario [`Event::ScenarioStarted`] (its metadata and
//! seed), one [`Event::StepFinished`] per step (keyword, text, status, duration, error),
//! [`Event::ScenarioFinished`] (result, timeline, artefacts), [`Event::FeatureFinished`],
//! and last [`Event::RunFinished`] with the summary.
//!
//! Every sink hears the run in file order (features in the order they were named,
//! scenarios by line, outline rows by row), each scenario as soon as it and every one
//! before it have finished, whatever the number of runner threads: a run with
//! `--jobs 4` tells the same story as one with `--jobs 1`. `RunFinished` comes last,
//! after the determinism check.

use std::time::Duration;

use crate::runner::RunSummary;
use crate::steps::world::ScenarioMeta;
use crate::RunError;

/// The run as it starts.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The run's seed.
    pub seed: u64,
    /// Runner threads.
    pub jobs: usize,
    /// Feature files selected.
    pub files: usize,
}

/// A feature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeatureInfo {
    /// Its keyword (`Feature`).
    pub keyword: String,
    /// Its name.
    pub name: String,
    /// The file, as shown (relative to the working folder when under it).
    pub file: String,
    /// Its line.
    pub line: usize,
    /// Its tags (without `@`).
    pub tags: Vec<String>,
    /// The keyword of its background, when it has one.
    pub background_keyword: Option<String>,
}

/// A scenario as it starts.
#[derive(Clone, Debug, Default)]
pub struct ScenarioInfo {
    /// Where it comes from (feature, name, example row, file, line, run seed).
    pub meta: ScenarioMeta,
    /// Its seed, derived from the run's seed and [`ScenarioInfo::meta`] (a step may
    /// still set another; [`ScenarioEnd::seed`] is the one used).
    pub seed: u64,
    /// Its keyword (`Scenario`, `Scenario Outline`).
    pub keyword: String,
    /// Its column.
    pub column: usize,
    /// Its tags (without `@`).
    pub tags: Vec<String>,
    /// The rule it belongs to.
    pub rule: Option<String>,
    /// When it started (wall clock).
    pub started: Option<std::time::SystemTime>,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    /// It ran and passed.
    Passed,
    /// It ran and failed.
    Failed,
    /// No step definition matched it.
    Undefined,
    /// It did not run: an earlier step failed or was undefined.
    Skipped,
}

impl StepStatus {
    /// `passed`, `failed`, `undefined`, `skipped`.
    pub fn name(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::Undefined => "undefined",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// A step as it finished.
#[derive(Clone, Debug)]
pub struct StepResult {
    /// Its keyword, as written (`Given `, `And `).
    pub keyword: String,
    /// Its text, example values substituted.
    pub text: String,
    /// Its line.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// Whether it comes from a background.
    pub background: bool,
    /// How it ended.
    pub status: StepStatus,
    /// How long it ran (wall clock).
    pub duration: Duration,
    /// Why it failed.
    pub error: Option<String>,
}

/// A scenario as it finished.
#[derive(Clone, Debug, Default)]
pub struct ScenarioEnd {
    /// Passed.
    pub passed: bool,
    /// Why it failed.
    pub message: Option<String>,
    /// The seed it ran with.
    pub seed: u64,
    /// The simulation's seed, when one started.
    pub sim_seed: Option<u64>,
    /// Its rendered event timeline (empty when no simulation started).
    pub timeline: String,
    /// How long it ran (wall clock).
    pub duration: Duration,
    /// Its BLE traffic as a btsnoop file, when captures are asked for.
    pub capture: Option<Vec<u8>>,
    /// How much virtual time it ran (µs), when a simulation started.
    pub virtual_us: Option<u64>,
    /// Its events-over-time plots and timeline as an HTML fragment, when an HTML
    /// report is asked for and a simulation started.
    pub plots: Option<String>,
    /// Its Chrome trace-event JSON (Perfetto), when asked for and a simulation started.
    pub perfetto: Option<String>,
}

/// One event of a run.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// The run starts.
    RunStarted(&'a RunInfo),
    /// A feature starts (ordered sinks only).
    FeatureStarted(&'a FeatureInfo),
    /// A scenario starts.
    ScenarioStarted(&'a FeatureInfo, &'a ScenarioInfo),
    /// A step finished (or was skipped).
    StepFinished(&'a ScenarioInfo, &'a StepResult),
    /// A scenario finished.
    ScenarioFinished(&'a ScenarioInfo, &'a ScenarioEnd),
    /// A feature finished (ordered sinks only).
    FeatureFinished(&'a FeatureInfo),
    /// The run finished (after the determinism check, when asked for).
    RunFinished(&'a RunSummary),
}

/// A consumer of a run's events: the console, JUnit XML, Cucumber JSON, the HTML report,
/// the captures, the progress indicator.
pub trait Sink: Send {
    /// Take one event. An error (a report that cannot be written) ends the run with it.
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError>;

    /// Whether this sink shows progress while the run goes on (informative: every sink
    /// hears the events in file order as they become available).
    fn live(&self) -> bool {
        false
    }
}

/// One scenario's events, as recorded by a runner thread.
#[derive(Clone, Debug)]
pub struct ScenarioRecord {
    /// Its feature.
    pub feature: FeatureInfo,
    /// How it started.
    pub info: ScenarioInfo,
    /// Its steps, in order (with those that did not run).
    pub steps: Vec<StepResult>,
    /// How it finished.
    pub end: ScenarioEnd,
}

impl ScenarioRecord {
    /// Tell this scenario to a sink: started, each step, finished.
    pub fn tell(&self, sink: &mut dyn Sink) -> Result<(), RunError> {
        sink.on_event(&Event::ScenarioStarted(&self.feature, &self.info))?;
        for step in &self.steps {
            sink.on_event(&Event::StepFinished(&self.info, step))?;
        }
        sink.on_event(&Event::ScenarioFinished(&self.info, &self.end))
    }
}
