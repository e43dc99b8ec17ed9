//! Running feature files: the one runner behind `sim run`, `sim validate` and the
//! scenario tests.
//!
//! A run first plans ([`plan`]): it reads exactly the feature files named, checks their
//! text and their Gherkin (file:line:column and what was expected), expands outlines
//! (one scenario per example row), checks every step against the catalogue with its
//! arguments and reads every trace a step names to its end. Any problem stops the run
//! before its first step (exit code 2). It then selects (`FILE:LINE`, tags, name,
//! shard) and runs the scenarios ([`exec`]) on `--jobs` threads; the sinks
//! ([`crate::sink`], [`crate::report`]) hear them in file order. Each scenario's seed
//! derives from the run's seed, the feature's and scenario's names and the example row;
//! a failing scenario prints its seed and a replay command that reruns exactly it.
//! `check_determinism` runs everything a second time, every frame on the full path (no
//! fast-forward of idle heartbeats), and compares each scenario's timeline byte for
//! byte: the same timelines prove the run deterministic and the fast-forward exact.

pub mod exec;
mod lint;
pub mod plan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cucumber::gherkin::{self, StepType};

use crate::report::capture::CaptureSink;
use crate::report::cucumber_json::CucumberJsonSink;
use crate::report::junit::JunitSink;
use crate::report::perfetto::PerfettoSink;
use crate::report::suite::HtmlSink;
use crate::sink::{Event, RunInfo, ScenarioRecord, Sink};
use crate::steps::world::ScenarioMeta;
use crate::steps::Kind;
use crate::RunError;
use exec::{ExecConfig, Teller};
use plan::{Plan, Planned, Selection};

/// What to run and how (`sim run`'s arguments convert into it).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Feature files or folders (default `features/`); `FILE:LINE` runs the scenario at
    /// that line.
    pub paths: Vec<String>,
    /// Tag expression, e.g. '@smoke and not @slow'.
    pub tags: Option<String>,
    /// Only scenarios whose name matches this regex.
    pub name: Option<String>,
    /// The run's seed (each scenario's seed derives from it).
    pub seed: u64,
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Write Cucumber JSON here.
    pub json: Option<PathBuf>,
    /// Run shard K of N (1-based): N machines together run each scenario once.
    pub shard: Option<(u64, u64)>,
    /// Run every scenario twice; fail any whose event timeline differs.
    pub check_determinism: bool,
    /// Write each scenario's BLE traffic as a btsnoop file into this folder.
    pub capture: Option<PathBuf>,
    /// Write one self-contained HTML report of the run (steps, results, plots).
    pub html: Option<PathBuf>,
    /// Write each scenario's run as Chrome trace-event JSON (Perfetto) into this folder.
    pub perfetto: Option<PathBuf>,
    /// Scenarios run in parallel on this many threads (0 = all cores).
    pub jobs: usize,
    /// Only the summary, not every step.
    pub quiet: bool,
    /// Stop starting scenarios after the first failure.
    pub fail_fast: bool,
}

/// How one scenario ended.
#[derive(Clone, Debug)]
pub struct ScenarioOutcome {
    /// Where it comes from.
    pub meta: ScenarioMeta,
    /// Its seed.
    pub seed: u64,
    /// Passed.
    pub passed: bool,
    /// Why it failed.
    pub message: Option<String>,
    /// Its rendered timeline.
    pub timeline: String,
}

impl ScenarioOutcome {
    /// The one-line command that replays this scenario.
    pub fn replay_command(&self) -> String {
        format!(
            "sim run {}:{} --seed {}",
            self.meta.file, self.meta.line, self.meta.run_seed
        )
    }
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Each scenario run, in file order (features as collected, scenarios by line).
    pub scenarios: Vec<ScenarioOutcome>,
    /// Undefined or ambiguous steps and parse errors found before running.
    pub problems: Vec<String>,
    /// Scenarios whose two runs differed.
    pub nondeterministic: Vec<String>,
    /// Scenarios selected (with `fail_fast`, more than ran).
    pub selected: usize,
}

impl RunSummary {
    /// Number of failed scenarios.
    pub fn failed(&self) -> usize {
        self.scenarios.iter().filter(|s| !s.passed).count()
    }

    /// The process exit code: 2 bad input (a problem, or nothing selected unless
    /// `allow_empty`), 1 a scenario failed or a timeline differed, 0 all passed.
    pub fn exit_code(&self, allow_empty: bool) -> u8 {
        if !self.problems.is_empty() || (self.selected == 0 && !allow_empty) {
            2
        } else if self.failed() > 0 || !self.nondeterministic.is_empty() {
            1
        } else {
            0
        }
    }

    /// Whether everything passed.
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.problems.is_empty() && self.nondeterministic.is_empty()
    }

    /// Closing lines: counts, failures with their replay commands (and, with
    /// `timelines`, each failed scenario's event timeline).
    pub fn report_with(&self, timelines: bool) -> String {
        let mut s = String::new();
        if timelines {
            for f in self.scenarios.iter().filter(|s| !s.passed) {
                s.push_str(&format!(
                    "--- timeline of {}:{} {:?}\n{}",
                    f.meta.file, f.meta.line, f.meta.scenario, f.timeline
                ));
            }
        }
        s.push_str(&self.report());
        s
    }

    /// Closing lines: counts, failures with their replay commands.
    pub fn report(&self) -> String {
        let mut s = String::new();
        for p in &self.problems {
            s.push_str(&format!("error: {p}\n"));
        }
        for f in self.scenarios.iter().filter(|s| !s.passed) {
            s.push_str(&format!(
                "FAILED {}:{} {:?} (seed {})\n  {}\n  replay: {}\n",
                f.meta.file,
                f.meta.line,
                f.meta.scenario,
                f.seed,
                f.message
                    .as_deref()
                    .unwrap_or("failed")
                    .replace('\n', "\n  "),
                f.replay_command()
            ));
        }
        for n in &self.nondeterministic {
            s.push_str(&format!("NONDETERMINISTIC {n}\n"));
        }
        let passed = self.scenarios.len() - self.failed();
        s.push_str(&format!(
            "scenarios: {} passed, {} failed\n",
            passed,
            self.failed()
        ));
        s
    }
}

/// A feature file and, optionally, the one line to run.
fn split_path(p: &str) -> (PathBuf, Option<usize>) {
    if let Some((file, line)) = p.rsplit_once(':') {
        if let Ok(n) = line.parse::<usize>() {
            return (PathBuf::from(file), Some(n));
        }
    }
    (PathBuf::from(p), None)
}

/// All `.feature` files under the given paths (folders searched recursively, sorted),
/// with their line selections; a path that does not exist is an error.
pub fn collect_features(paths: &[String]) -> Result<Vec<(PathBuf, Option<usize>)>, RunError> {
    let mut out = Vec::new();
    for p in paths {
        let (path, line) = split_path(p);
        if path.is_dir() {
            let mut found = Vec::new();
            walk(&path, &mut found)?;
            found.sort();
            out.extend(found.into_iter().map(|f| (f, None)));
        } else if path.is_file() {
            out.push((path, line));
        } else {
            return Err(RunError::Io {
                path: path.display().to_string(),
                message: "no such file or folder".into(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RunError> {
    let rd = std::fs::read_dir(dir).map_err(|e| RunError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "feature") {
            out.push(p);
        }
    }
    Ok(())
}

/// The keyword of a Gherkin step.
pub fn kind_of(t: StepType) -> Kind {
    match t {
        StepType::Given => Kind::Given,
        StepType::When => Kind::When,
        StepType::Then => Kind::Then,
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// A path as shown: relative to the working folder when under it.
fn rel(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = canonical(p);
    let shown = cwd
        .as_ref()
        .and_then(|c| abs.strip_prefix(c).ok())
        .unwrap_or(p);
    shown.display().to_string()
}

/// Check one feature file exactly as a run would before its first step: its problems.
pub fn validate_feature(path: &Path) -> Vec<String> {
    plan::load(&[path.to_path_buf()], 0).problems
}

/// The paths of a run (default `features/`).
fn paths_of(opts: &RunOptions) -> Vec<String> {
    if opts.paths.is_empty() {
        vec!["features".to_string()]
    } else {
        opts.paths.clone()
    }
}

/// Plan a run: every file checked and expanded, then the selection applied. The
/// problems of the files and of the selection are in the returned plan.
pub fn plan(opts: &RunOptions) -> Result<Plan, RunError> {
    let files = collect_features(&paths_of(opts))?;
    let names: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let mut all = plan::load(&names, opts.seed);
    let tags = match &opts.tags {
        Some(t) => Some(
            gherkin::tagexpr::TagOperation::from_str(t)
                .map_err(|e| RunError::Setup(format!("bad tag expression {t:?}: {e}")))?,
        ),
        None => None,
    };
    let name = match &opts.name {
        Some(n) => Some(
            regex::Regex::new(n).map_err(|e| RunError::Setup(format!("bad --name regex: {e}")))?,
        ),
        None => None,
    };
    let mut lines: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (p, l) in &files {
        let e = lines.entry(canonical(p)).or_default();
        match l {
            Some(l) => e.push(*l),
            None => e.clear(),
        }
    }
    for (p, l) in &files {
        if l.is_none() {
            lines.insert(canonical(p), Vec::new());
        }
    }
    let sel = Selection {
        lines,
        tags,
        name,
        shard: opts.shard,
        shown: &files,
    };
    let (selected, problems) = sel.apply(std::mem::take(&mut all.scenarios));
    all.scenarios = selected;
    all.problems.extend(problems);
    Ok(all)
}

/// Runner threads: `--jobs`, 0 meaning all cores.
fn jobs(opts: &RunOptions) -> usize {
    match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

impl From<&ScenarioRecord> for ScenarioOutcome {
    fn from(r: &ScenarioRecord) -> Self {
        ScenarioOutcome {
            meta: r.info.meta.clone(),
            seed: r.end.seed,
            passed: r.end.passed,
            message: r.end.message.clone(),
            timeline: r.end.timeline.clone(),
        }
    }
}

/// The sinks the options ask for: JUnit XML, Cucumber JSON, HTML report, captures.
fn file_sinks(opts: &RunOptions) -> Vec<Box<dyn Sink>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(p) = &opts.junit {
        sinks.push(Box::new(JunitSink::new(p)));
    }
    if let Some(p) = &opts.json {
        sinks.push(Box::new(CucumberJsonSink::new(p)));
    }
    if let Some(p) = &opts.html {
        sinks.push(Box::new(HtmlSink::new(p)));
    }
    if let Some(dir) = &opts.capture {
        sinks.push(Box::new(CaptureSink::new(dir)));
    }
    if let Some(dir) = &opts.perfetto {
        sinks.push(Box::new(PerfettoSink::new(dir)));
    }
    sinks
}

/// Run everything again (no sink, no artefact) and name the scenarios whose timeline
/// differs from the first run's.
fn nondeterministic(
    opts: &RunOptions,
    plans: &[Planned],
    first: &[ScenarioRecord],
) -> Result<Vec<String>, RunError> {
    let mut none: Vec<Box<dyn Sink>> = Vec::new();
    let mut teller = Teller::new(&mut none);
    // The second run takes every frame the full path (no fast-forward): the same
    // timelines prove the run deterministic and the fast-forward exact.
    let full_path = ExecConfig {
        fast_forward: false,
        ..ExecConfig::default()
    };
    exec::execute(plans, full_path, jobs(opts), &mut teller)?;
    let second = teller.close()?;
    let again: BTreeMap<(&str, usize), &str> = second
        .iter()
        .map(|r| {
            (
                (r.info.meta.file.as_str(), r.info.meta.line),
                r.end.timeline.as_str(),
            )
        })
        .collect();
    Ok(first
        .iter()
        .filter(|r| {
            let key = (r.info.meta.file.as_str(), r.info.meta.line);
            again.get(&key) != Some(&r.end.timeline.as_str())
        })
        .map(|r| {
            let m = &r.info.meta;
            format!(
                "{}:{} {:?} (seed {})",
                m.file, m.line, m.scenario, r.end.seed
            )
        })
        .collect())
}

/// Run the features; the reports the options ask for (JUnit, JSON, HTML, captures) are
/// written by their sinks. Nothing is printed: see [`run_with`] for more sinks.
pub fn run(opts: &RunOptions) -> Result<RunSummary, RunError> {
    run_with(opts, Vec::new())
}

/// Run the features and tell the run's events, in file order, to `sinks` as well as
/// to those the options ask for. A problem found while planning (unparsable feature,
/// undefined step, bad argument, unreadable trace, `FILE:LINE` on no scenario) stops
/// the run before its first step: the summary lists it and no scenario runs.
pub fn run_with(opts: &RunOptions, sinks: Vec<Box<dyn Sink>>) -> Result<RunSummary, RunError> {
    let plan = plan(opts)?;
    let mut summary = RunSummary {
        problems: plan.problems,
        selected: plan.scenarios.len(),
        ..RunSummary::default()
    };
    let plans = if summary.problems.is_empty() {
        plan.scenarios
    } else {
        Vec::new()
    };
    for dir in [&opts.capture, &opts.perfetto].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| RunError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let mut sinks: Vec<Box<dyn Sink>> = sinks.into_iter().chain(file_sinks(opts)).collect();
    let info = RunInfo {
        seed: opts.seed,
        jobs: jobs(opts),
        files: plans.len(),
    };
    for s in &mut sinks {
        s.on_event(&Event::RunStarted(&info))?;
    }
    let cfg = ExecConfig {
        capture: opts.capture.is_some(),
        plots: opts.html.is_some(),
        perfetto: opts.perfetto.is_some(),
        fail_fast: opts.fail_fast,
        fast_forward: true,
    };
    let mut teller = Teller::new(&mut sinks);
    exec::execute(&plans, cfg, jobs(opts), &mut teller)?;
    let records = teller.close()?;
    summary.scenarios = records.iter().map(ScenarioOutcome::from).collect();
    if opts.check_determinism && !plans.is_empty() {
        summary.nondeterministic = nondeterministic(opts, &plans, &records)?;
    }
    for s in &mut sinks {
        s.on_event(&Event::RunFinished(&summary))?;
    }
    Ok(summary)
}
