//! Running feature files: the one runner behind `sim run` and `cargo test`.
//!
//! Before running, every feature is parsed and every step checked against the catalogue
//! (an undefined or ambiguous step is reported with its file, line and the closest known
//! steps). Scenarios then run through cucumber (parsing and step execution only), with
//! the steps of [`crate::steps`] registered as data, on `--jobs` threads. Each thread
//! records its scenarios' events (steps with status, duration and error; the world's
//! seed, timeline and artefacts) as [`ScenarioRecord`]s; the run then tells them, in file
//! order, to its [`Sink`]s: console, JUnit XML, Cucumber JSON, HTML report, captures
//! (see [`crate::sink`] and [`crate::report`]). Each scenario's seed derives from the
//! run's seed, the feature's and scenario's names and the example row; a failing
//! scenario prints its seed and a one-line replay command. `check_determinism` runs
//! everything a second time and compares each scenario's timeline byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cucumber::gherkin::{self, GherkinEnv, StepType};
use cucumber::tag::Ext as _;
use cucumber::{event, World as _, WriterExt as _};
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;

use crate::report::capture::CaptureSink;
use crate::report::cucumber_json::CucumberJsonSink;
use crate::report::junit::JunitSink;
use crate::report::suite::HtmlSink;
use crate::rng::derive_seed;
use crate::sink::{
    tell_run, Event, FeatureInfo, RunInfo, ScenarioEnd, ScenarioInfo, ScenarioRecord, Sink,
    StepResult, StepStatus,
};
use crate::steps::world::ScenarioMeta;
use crate::steps::{self, AlarmWorld, Kind, SimBench};
use crate::RunError;

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
    /// Scenarios run in parallel on this many threads (0 = all cores).
    pub jobs: usize,
    /// Only the summary, not every step.
    pub quiet: bool,
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
}

impl RunSummary {
    /// Number of failed scenarios.
    pub fn failed(&self) -> usize {
        self.scenarios.iter().filter(|s| !s.passed).count()
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

/// All `.feature` files under the given paths, sorted, with their line selections.
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

/// Parse a feature and check each of its steps against the catalogue.
pub fn validate_feature(path: &Path) -> Vec<String> {
    let feature = match gherkin::Feature::parse_path(path, GherkinEnv::default()) {
        Ok(f) => f,
        Err(e) => return vec![format!("{}: cannot parse: {e}", path.display())],
    };
    let mut problems = Vec::new();
    let scenarios = feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
    let backgrounds = feature
        .background
        .iter()
        .chain(feature.rules.iter().filter_map(|r| r.background.as_ref()));
    let mut all_steps: Vec<(String, &gherkin::Step)> = Vec::new();
    for b in backgrounds {
        all_steps.extend(b.steps.iter().map(|s| (s.value.clone(), s)));
    }
    for sc in scenarios {
        for st in &sc.steps {
            if sc.examples.is_empty() || !st.value.contains('<') {
                all_steps.push((st.value.clone(), st));
                continue;
            }
            for ex in &sc.examples {
                let Some(t) = &ex.table else { continue };
                let Some((header, rows)) = t.rows.split_first() else {
                    continue;
                };
                for row in rows {
                    let mut v = st.value.clone();
                    for (k, x) in header.iter().zip(row) {
                        v = v.replace(&format!("<{k}>"), x);
                    }
                    all_steps.push((v, st));
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (text, st) in all_steps {
        let kind = kind_of(st.ty);
        if !seen.insert((st.position.line, text.clone())) {
            continue;
        }
        let table = st.table.as_ref().map(|t| t.rows.as_slice());
        // A bad argument fails its scenario when it runs, as any step failure.
        if let Err(e @ (RunError::UndefinedStep { .. } | RunError::AmbiguousStep { .. })) =
            steps::parse(kind, &text, table)
        {
            problems.push(format!(
                "{}:{}:{}: {e}",
                path.display(),
                st.position.line,
                st.position.col
            ));
        }
    }
    problems
}

fn dispatch(kind: Kind) -> cucumber::Step<AlarmWorld> {
    fn run(kind: Kind, w: &mut AlarmWorld, ctx: cucumber::step::Context) {
        let table = ctx.step.table.as_ref().map(|t| t.rows.as_slice());
        let done = steps::parse(kind, &ctx.step.value, table)
            .and_then(|step| steps::run_step(&mut SimBench::new(w), &step));
        if let Err(e) = done {
            panic!("{e}");
        }
        w.steps_done += 1;
    }
    fn given<'a>(w: &'a mut AlarmWorld, ctx: cucumber::step::Context) -> LocalBoxFuture<'a, ()> {
        async move { run(Kind::Given, w, ctx) }.boxed_local()
    }
    fn when<'a>(w: &'a mut AlarmWorld, ctx: cucumber::step::Context) -> LocalBoxFuture<'a, ()> {
        async move { run(Kind::When, w, ctx) }.boxed_local()
    }
    fn then<'a>(w: &'a mut AlarmWorld, ctx: cucumber::step::Context) -> LocalBoxFuture<'a, ()> {
        async move { run(Kind::Then, w, ctx) }.boxed_local()
    }
    match kind {
        Kind::Given => given,
        Kind::When => when,
        Kind::Then => then,
    }
}

/// The example row of an expanded outline scenario (cells joined by `|`), or "".
fn example_row(sc: &gherkin::Scenario) -> String {
    for ex in &sc.examples {
        let Some(t) = &ex.table else { continue };
        let id = sc.position.line.checked_sub(ex.position.line + 2);
        if let Some(row) = id.and_then(|i| t.rows.get(i + 1)) {
            return row.join("|");
        }
    }
    String::new()
}

/// Whether an (unexpanded) scenario covers `line` (its own, or one of its example rows).
fn covers_line(sc: &gherkin::Scenario, line: usize) -> bool {
    sc.position.line == line
        || sc.examples.iter().any(|ex| {
            ex.table
                .as_ref()
                .is_some_and(|t| (1..t.rows.len()).any(|i| ex.position.line + 1 + i == line))
        })
}

fn shard_of(feature: &str, scenario: &str, n: u64) -> u64 {
    derive_seed(0, feature, scenario, "shard") % n
}

/// Step failures are panics that cucumber catches and reports; keep stderr free of their
/// default "thread panicked" noise — only on the scenario runner threads, and installed
/// once for the process (never swapped back and forth, which would race between runs).
fn quiet_step_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("scenarios-"))
            {
                return;
            }
            prev(info);
        }));
    });
}

/// Cucumber's futures are deep; in debug builds they need more than a default thread's
/// stack. Every run happens on a thread of its own with room to spare.
const RUNNER_STACK: usize = 256 << 20;

/// The metadata of a scenario: names, example row, file as shown, line, run seed.
fn meta_of(feature: &gherkin::Feature, sc: &gherkin::Scenario, run_seed: u64) -> ScenarioMeta {
    ScenarioMeta {
        feature: feature.name.clone(),
        scenario: sc.name.clone(),
        example_row: example_row(sc),
        file: feature.path.as_ref().map(|p| rel(p)).unwrap_or_default(),
        line: sc.position.line,
        run_seed,
    }
}

/// What the after hook learns from a scenario's world.
#[derive(Default)]
struct WorldFacts {
    seed: u64,
    sim_seed: Option<u64>,
    timeline: String,
    capture: Option<Vec<u8>>,
    plots: Option<String>,
}

impl WorldFacts {
    fn of(w: &AlarmWorld, capture: bool, plots: bool) -> Self {
        let sim = w.sim.as_ref();
        WorldFacts {
            seed: sim.map_or_else(|| w.seed(), |s| s.seed()),
            sim_seed: sim.map(|s| s.seed()),
            timeline: sim.map(|s| s.timeline.render()).unwrap_or_default(),
            capture: sim.filter(|_| capture).map(crate::capture::btsnoop_bytes),
            plots: sim
                .filter(|_| plots)
                .map(crate::report::scenario_timeline_html),
        }
    }
}

/// One pass over the selected scenarios: what to run and what to record.
struct Pass<'a> {
    opts: &'a RunOptions,
    files: &'a [(PathBuf, Option<usize>)],
    /// Record captures and plots (the first pass, when asked for).
    artefacts: bool,
}

/// Sinks, as the runner holds them.
type Sinks = Vec<Box<dyn Sink>>;

/// What the runner threads of a pass share.
struct Shared {
    /// Live sinks, fed as scenarios finish.
    live: Mutex<Vec<Box<dyn Sink>>>,
    /// Every scenario, with its position in file order.
    records: Mutex<Vec<((usize, usize), ScenarioRecord)>>,
    /// The first error of a live sink.
    error: Mutex<Option<RunError>>,
    /// Each selected file (canonical) and its position in the selection.
    order: BTreeMap<PathBuf, usize>,
}

impl Shared {
    fn new(files: &[(PathBuf, Option<usize>)], live: Vec<Box<dyn Sink>>) -> Self {
        Shared {
            live: Mutex::new(live),
            records: Mutex::default(),
            error: Mutex::default(),
            order: files
                .iter()
                .enumerate()
                .map(|(i, (p, _))| (canonical(p), i))
                .collect(),
        }
    }

    /// A scenario finished: tell the live sinks, keep the record.
    fn finished(&self, key: (usize, usize), record: ScenarioRecord) {
        if let Ok(mut live) = self.live.lock() {
            for sink in live.iter_mut() {
                if let Err(e) = record.tell(sink.as_mut()) {
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            }
        }
        if let Ok(mut v) = self.records.lock() {
            v.push((key, record));
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The scenario a runner thread is running, as its events arrive.
struct Current {
    key: (usize, usize),
    record: ScenarioRecord,
    /// Every step of the scenario (backgrounds first), to list those that did not run.
    planned: Vec<StepResult>,
    started: SystemTime,
    step_started: SystemTime,
    hook_failure: Option<String>,
}

impl Current {
    fn new(
        tap: &Tap,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        sc: &gherkin::Scenario,
        at: SystemTime,
    ) -> Self {
        let meta = meta_of(f, sc, tap.run_seed);
        let file = f.path.as_deref().map(canonical).unwrap_or_default();
        let key = (
            tap.shared.order.get(&file).copied().unwrap_or(usize::MAX),
            sc.position.line,
        );
        let seed = derive_seed(
            meta.run_seed,
            &meta.feature,
            &meta.scenario,
            &meta.example_row,
        );
        let backgrounds = f
            .background
            .iter()
            .chain(r.and_then(|r| r.background.as_ref()));
        let planned = backgrounds
            .flat_map(|b| b.steps.iter().map(|s| (s, true)))
            .chain(sc.steps.iter().map(|s| (s, false)))
            .map(|(s, background)| StepResult {
                keyword: s.keyword.clone(),
                text: s.value.clone(),
                line: s.position.line,
                column: s.position.col,
                background,
                status: StepStatus::Skipped,
                duration: Duration::ZERO,
                error: None,
            })
            .collect();
        let feature = FeatureInfo {
            keyword: f.keyword.clone(),
            name: f.name.clone(),
            file: meta.file.clone(),
            line: f.position.line,
            tags: f.tags.clone(),
            background_keyword: f.background.as_ref().map(|b| b.keyword.clone()),
        };
        let info = ScenarioInfo {
            meta,
            seed,
            keyword: sc.keyword.clone(),
            column: sc.position.col,
            tags: sc.tags.clone(),
            rule: r.map(|r| r.name.clone()),
            started: Some(at),
        };
        let end = ScenarioEnd::default();
        let record = ScenarioRecord {
            feature,
            info,
            steps: Vec::new(),
            end,
        };
        Current {
            key,
            record,
            planned,
            started: at,
            step_started: at,
            hook_failure: None,
        }
    }

    fn step(&mut self, st: &gherkin::Step, ev: event::Step<AlarmWorld>, at: SystemTime) {
        let (status, error) = match ev {
            event::Step::Started => {
                self.step_started = at;
                return;
            }
            event::Step::Passed(..) => (StepStatus::Passed, None),
            event::Step::Skipped => (StepStatus::Undefined, None),
            event::Step::Failed(_, _, _, event::StepError::NotFound) => {
                (StepStatus::Undefined, None)
            }
            event::Step::Failed(_, _, _, e) => (StepStatus::Failed, Some(e.to_string())),
        };
        let i = self.record.steps.len();
        let mut done = self.planned.get(i).cloned().unwrap_or(StepResult {
            keyword: st.keyword.clone(),
            text: st.value.clone(),
            line: st.position.line,
            column: st.position.col,
            background: false,
            status,
            duration: Duration::ZERO,
            error: None,
        });
        done.text.clone_from(&st.value);
        done.status = status;
        done.error = error;
        done.duration = at.duration_since(self.step_started).unwrap_or_default();
        self.record.steps.push(done);
    }

    /// The scenario finished: complete the record with the world's facts.
    fn finish(
        mut self,
        facts: Option<WorldFacts>,
        at: SystemTime,
    ) -> ((usize, usize), ScenarioRecord) {
        let ran = self.record.steps.len();
        self.record.steps.extend(self.planned.into_iter().skip(ran));
        let steps = &self.record.steps;
        let message = self.hook_failure.or_else(|| {
            steps
                .iter()
                .find(|s| s.status == StepStatus::Failed)
                .map(|s| s.error.clone().unwrap_or_else(|| "failed".into()))
                .or_else(|| {
                    steps
                        .iter()
                        .any(|s| s.status == StepStatus::Undefined)
                        .then(|| "a step is undefined or was skipped".to_string())
                })
        });
        let facts = facts.unwrap_or_else(|| WorldFacts {
            seed: self.record.info.seed,
            ..WorldFacts::default()
        });
        self.record.end = ScenarioEnd {
            passed: message.is_none(),
            message,
            seed: facts.seed,
            sim_seed: facts.sim_seed,
            timeline: facts.timeline,
            duration: at.duration_since(self.started).unwrap_or_default(),
            capture: facts.capture,
            plots: facts.plots,
        };
        (self.key, self.record)
    }
}

/// The cucumber writer of a runner thread: turns cucumber's events into the runner's
/// [`ScenarioRecord`]s (reporting itself is the sinks' business).
struct Tap {
    shared: Arc<Shared>,
    facts: Arc<Mutex<Option<WorldFacts>>>,
    run_seed: u64,
    current: Option<Current>,
}

impl Tap {
    fn scenario(
        &mut self,
        f: &gherkin::Feature,
        r: Option<&gherkin::Rule>,
        sc: &gherkin::Scenario,
        ev: event::Scenario<AlarmWorld>,
        at: SystemTime,
    ) {
        use event::{Hook, HookType, Scenario};
        if let Scenario::Started = ev {
            if let Ok(mut slot) = self.facts.lock() {
                *slot = None;
            }
            self.current = Some(Current::new(self, f, r, sc, at));
            return;
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        match ev {
            Scenario::Hook(ty, Hook::Failed(_, _)) => {
                let which = match ty {
                    HookType::Before => "before",
                    HookType::After => "after",
                };
                cur.hook_failure
                    .get_or_insert(format!("{which} hook failed"));
            }
            Scenario::Background(st, ev) | Scenario::Step(st, ev) => cur.step(&st, ev, at),
            Scenario::Finished => {
                let facts = self.facts.lock().ok().and_then(|mut f| f.take());
                if let Some(cur) = self.current.take() {
                    let (key, record) = cur.finish(facts, at);
                    self.shared.finished(key, record);
                }
            }
            _ => {}
        }
    }
}

impl cucumber::Writer<AlarmWorld> for Tap {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: cucumber::parser::Result<cucumber::Event<event::Cucumber<AlarmWorld>>>,
        _cli: &Self::Cli,
    ) {
        // Parse errors were reported by validation before the run.
        let Ok(ev) = ev else { return };
        let at = ev.at;
        match ev.value {
            event::Cucumber::Feature(f, event::Feature::Scenario(sc, ev)) => {
                self.scenario(&f, None, &sc, ev.event, at);
            }
            event::Cucumber::Feature(f, event::Feature::Rule(r, event::Rule::Scenario(sc, ev))) => {
                self.scenario(&f, Some(&r), &sc, ev.event, at);
            }
            _ => {}
        }
    }
}

/// Run the scenarios of a pass on `jobs` threads (each a cucumber runner over a
/// disjoint, stable part of the scenarios, on a large stack); the records in file order.
fn execute(
    pass: &Pass,
    live: Vec<Box<dyn Sink>>,
) -> Result<(Vec<ScenarioRecord>, Sinks), RunError> {
    let jobs = jobs(pass.opts) as u64;
    let shared = Arc::new(Shared::new(pass.files, live));
    std::thread::scope(|scope| -> Result<(), RunError> {
        let mut handles = Vec::new();
        for t in 0..jobs {
            let shared = shared.clone();
            let part = (jobs > 1).then_some((t, jobs));
            let h = std::thread::Builder::new()
                .name(format!("scenarios-{t}"))
                .stack_size(RUNNER_STACK)
                .spawn_scoped(scope, move || run_part(pass, part, shared))
                .map_err(|e| RunError::Setup(format!("cannot start a runner thread: {e}")))?;
            handles.push(h);
        }
        for h in handles {
            h.join()
                .map_err(|_| RunError::Setup("a runner thread panicked".into()))??;
        }
        Ok(())
    })?;
    let shared = Arc::try_unwrap(shared)
        .map_err(|_| RunError::Setup("a runner thread outlived its run".into()))?;
    if let Some(e) = shared.error.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut records = shared.records.into_inner().unwrap_or_default();
    records.sort_by_key(|(key, _)| *key);
    let live = shared.live.into_inner().unwrap_or_default();
    Ok((records.into_iter().map(|(_, r)| r).collect(), live))
}

/// Runner threads: `--jobs`, 0 meaning all cores.
fn jobs(opts: &RunOptions) -> usize {
    match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Which scenarios one runner thread runs: tags, name, shard, part, files and lines.
fn scenario_filter(
    opts: &RunOptions,
    files: &[(PathBuf, Option<usize>)],
    part: Option<(u64, u64)>,
) -> Result<impl Fn(&gherkin::Feature, Option<&gherkin::Rule>, &gherkin::Scenario) -> bool, RunError>
{
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
    let lines: BTreeMap<PathBuf, usize> = files
        .iter()
        .filter_map(|(p, l)| l.map(|l| (canonical(p), l)))
        .collect();
    let selected: std::collections::BTreeSet<PathBuf> =
        files.iter().map(|(p, _)| canonical(p)).collect();
    let shard = opts.shard;
    Ok(
        move |feature: &gherkin::Feature, rule: Option<&gherkin::Rule>, sc: &gherkin::Scenario| {
            if let Some(t) = &tags {
                let all = feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| r.tags.iter()))
                    .chain(sc.tags.iter());
                if !t.eval(all) {
                    return false;
                }
            }
            if name.as_ref().is_some_and(|re| !re.is_match(&sc.name)) {
                return false;
            }
            if shard.is_some_and(|(k, n)| shard_of(&feature.name, &sc.name, n) != k - 1) {
                return false;
            }
            if part.is_some_and(|(t, n)| derive_seed(1, &feature.name, &sc.name, "part") % n != t) {
                return false;
            }
            let Some(path) = &feature.path else {
                return false;
            };
            let key = canonical(path);
            match lines.get(&key) {
                Some(&line) => selected.contains(&key) && covers_line(sc, line),
                None => selected.contains(&key),
            }
        },
    )
}

/// One runner thread: a cucumber runner over its part of the scenarios, the steps of
/// the catalogue registered as data, its events recorded by a [`Tap`].
fn run_part(pass: &Pass, part: Option<(u64, u64)>, shared: Arc<Shared>) -> Result<(), RunError> {
    let opts = pass.opts;
    let filter = scenario_filter(opts, pass.files, part)?;
    let facts: Arc<Mutex<Option<WorldFacts>>> = Arc::default();
    let tap = Tap {
        shared,
        facts: facts.clone(),
        run_seed: opts.seed,
        current: None,
    };
    let mut cuke = AlarmWorld::cucumber()
        .with_writer(tap.normalized::<AlarmWorld>())
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(1)
        .fail_on_skipped();
    for (def, re) in steps::catalogue() {
        let re = re.clone();
        cuke = match def.kind {
            Kind::Given => cuke.given(re, dispatch(Kind::Given)),
            Kind::When => cuke.when(re, dispatch(Kind::When)),
            Kind::Then => cuke.then(re, dispatch(Kind::Then)),
        };
    }
    let (run_seed, capture, html) = (opts.seed, opts.capture.is_some(), opts.html.is_some());
    let artefacts = pass.artefacts;
    let cuke = cuke
        .before(move |feature, _rule, sc, w| {
            async move {
                w.meta = meta_of(feature, sc, run_seed);
                w.setup.capture = capture;
                w.record_accel = html;
            }
            .boxed_local()
        })
        .after(move |_feature, _rule, _sc, _ev, w| {
            let facts = facts.clone();
            async move {
                if let (Some(w), Ok(mut slot)) = (w, facts.lock()) {
                    *slot = Some(WorldFacts::of(w, capture && artefacts, html && artefacts));
                }
            }
            .boxed_local()
        });
    quiet_step_panics();
    drop(futures::executor::block_on(
        cuke.filter_run(files_root(pass.files), filter),
    ));
    Ok(())
}

/// The input cucumber reads: the single file, or the deepest folder holding them all.
fn files_root(files: &[(PathBuf, Option<usize>)]) -> PathBuf {
    let abs: Vec<PathBuf> = files
        .iter()
        .map(|(p, _)| p.canonicalize().unwrap_or(p.clone()))
        .collect();
    match abs.as_slice() {
        [one] => one.clone(),
        [first, rest @ ..] => {
            let mut root = first.parent().map(Path::to_path_buf).unwrap_or_default();
            while !rest.iter().all(|p| p.starts_with(&root)) {
                match root.parent() {
                    Some(p) => root = p.to_path_buf(),
                    None => break,
                }
            }
            root
        }
        [] => PathBuf::from("features"),
    }
}

fn rel(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_ref()
        .and_then(|c| p.strip_prefix(c).ok())
        .unwrap_or(p);
    shown.display().to_string()
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
    sinks
}

/// Run everything again (no sink, no artefact) and name the scenarios whose timeline
/// differs from the first run's.
fn nondeterministic(
    opts: &RunOptions,
    files: &[(PathBuf, Option<usize>)],
    first: &[ScenarioRecord],
) -> Result<Vec<String>, RunError> {
    let pass = Pass {
        opts,
        files,
        artefacts: false,
    };
    let (second, _) = execute(&pass, Vec::new())?;
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

/// Run the features and tell the run's events to `sinks` as well as to those the
/// options ask for. Live sinks hear each scenario as it finishes; the others hear the
/// whole run in file order once it is over (after the determinism check).
pub fn run_with(opts: &RunOptions, sinks: Vec<Box<dyn Sink>>) -> Result<RunSummary, RunError> {
    let paths = if opts.paths.is_empty() {
        vec!["features".to_string()]
    } else {
        opts.paths.clone()
    };
    let files = collect_features(&paths)?;
    let mut summary = RunSummary::default();
    for (f, _) in &files {
        summary.problems.extend(validate_feature(f));
    }
    if let Some(dir) = &opts.capture {
        std::fs::create_dir_all(dir).map_err(|e| RunError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let (mut live, mut ordered): (Vec<_>, Vec<_>) = sinks
        .into_iter()
        .chain(file_sinks(opts))
        .partition(|s| s.live());
    let info = RunInfo {
        seed: opts.seed,
        jobs: jobs(opts),
        files: files.len(),
    };
    for s in &mut live {
        s.on_event(&Event::RunStarted(&info))?;
    }
    let mut records = Vec::new();
    if !files.is_empty() {
        let pass = Pass {
            opts,
            files: &files,
            artefacts: true,
        };
        (records, live) = execute(&pass, live)?;
    }
    summary.scenarios = records.iter().map(ScenarioOutcome::from).collect();
    if opts.check_determinism && !files.is_empty() {
        summary.nondeterministic = nondeterministic(opts, &files, &records)?;
    }
    for s in &mut live {
        s.on_event(&Event::RunFinished(&summary))?;
    }
    for s in &mut ordered {
        tell_run(&info, &records, &summary, s.as_mut())?;
    }
    Ok(summary)
}
