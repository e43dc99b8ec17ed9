//! Running feature files: the one runner behind `sim run` and `cargo test`.
//!
//! Before running, every feature is parsed and every step checked against the catalogue
//! (an undefined or ambiguous step is reported with its file, line and the closest known
//! steps). Scenarios then run through cucumber, with the steps of [`crate::steps`]
//! registered as data, console output, JUnit XML and Cucumber JSON. Each scenario's seed
//! derives from the run's seed, the feature's and scenario's names and the example row;
//! a failing scenario prints its seed and a one-line replay command.
//! `check_determinism` runs everything a second time and compares each scenario's
//! timeline byte for byte.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use cucumber::gherkin::{self, GherkinEnv, StepType};
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Coloring, Verbosity};
use cucumber::{event, World as _, WriterExt as _};
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;

use crate::rng::derive_seed;
use crate::steps::world::ScenarioMeta;
use crate::steps::{self, AlarmWorld, Kind, SimBench};
use crate::RunError;

/// What to run and how (also the arguments of `sim run`).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunOptions {
    /// Feature files or folders (default `features/`); `FILE:LINE` runs the scenario at
    /// that line.
    pub paths: Vec<String>,
    /// Tag expression, e.g. '@smoke and not @slow'.
    #[arg(long)]
    pub tags: Option<String>,
    /// Only scenarios whose name matches this regex.
    #[arg(long)]
    pub name: Option<String>,
    /// The run's seed (each scenario's seed derives from it).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write Cucumber JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Run shard K of N (1-based), e.g. 2/4: N machines together run each scenario once.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// Run every scenario twice; fail any whose event timeline differs.
    #[arg(long)]
    pub check_determinism: bool,
    /// Write each scenario's BLE traffic as a btsnoop file into DIR.
    #[arg(long, value_name = "DIR")]
    pub capture: Option<PathBuf>,
    /// Write one self-contained HTML report of the run (steps, results, plots).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Scenarios run in parallel on this many threads (0 = all cores).
    #[arg(long, short, default_value_t = 0)]
    pub jobs: usize,
    /// Only the summary, not every step.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parse `K/N` (1 <= K <= N), as `--shard` takes it.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let k: u64 = k.parse().map_err(|_| format!("bad shard index {k:?}"))?;
    let n: u64 = n.parse().map_err(|_| format!("bad shard count {n:?}"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("expected 1 <= K <= N, got {k}/{n}"));
    }
    Ok((k, n))
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
    /// Its section of the HTML report, when one is asked for.
    pub section: Option<crate::report::ScenarioSection>,
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
    /// Each scenario run, in order of completion.
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

type Outcomes = Arc<Mutex<Vec<ScenarioOutcome>>>;

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

/// A `Write` into a shared buffer (one per runner thread, merged afterwards).
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// Where one runner writes: console, JUnit XML, Cucumber JSON.
struct Sinks {
    console: Box<dyn Write>,
    junit: Box<dyn Write>,
    json: Box<dyn Write>,
}

/// Merge the JUnit documents of several runners into one `<testsuites>`.
fn merge_junit(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut inner = String::new();
    for p in parts {
        let text = String::from_utf8_lossy(p);
        if let (Some(a), Some(b)) = (text.find("<testsuites>"), text.rfind("</testsuites>")) {
            inner.push_str(&text[a + "<testsuites>".len()..b]);
        }
    }
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites>{inner}</testsuites>")
        .into_bytes()
}

/// Merge the Cucumber JSON arrays of several runners into one array: one object per
/// feature (by `uri`), its elements in file order, features in first-seen order.
fn merge_json(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut features: Vec<serde_json::Value> = Vec::new();
    for p in parts {
        let Ok(serde_json::Value::Array(v)) = serde_json::from_slice(p) else {
            continue;
        };
        for f in v {
            let same = features
                .iter_mut()
                .find(|g| g.get("uri").is_some() && g.get("uri") == f.get("uri"));
            match (same, f.get("elements").and_then(|e| e.as_array()).cloned()) {
                (Some(g), Some(more)) => {
                    if let Some(serde_json::Value::Array(els)) = g.get_mut("elements") {
                        els.extend(more);
                    }
                }
                _ => features.push(f),
            }
        }
    }
    for f in &mut features {
        if let Some(serde_json::Value::Array(els)) = f.get_mut("elements") {
            // Cucumber gives a background element its scenario's line and writes it right
            // after the scenario: a stable sort by line keeps each pair together.
            els.sort_by_key(|e| {
                e.get("line")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0)
            });
        }
    }
    serde_json::to_vec_pretty(&features).unwrap_or_default()
}

/// Run the scenarios of `files` on `jobs` threads (each a cucumber runner over a
/// disjoint, stable part of the scenarios, on a large stack); write the merged reports.
fn run_once(
    opts: &RunOptions,
    files: &[(PathBuf, Option<usize>)],
    quiet: bool,
    outcomes: Outcomes,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), RunError> {
    let jobs = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    } as u64;
    let bufs: Vec<[SharedBuf; 3]> = (0..jobs).map(|_| Default::default()).collect();
    std::thread::scope(|scope| -> Result<(), RunError> {
        let mut handles = Vec::new();
        for (t, b) in bufs.iter().enumerate() {
            let outcomes = outcomes.clone();
            let b = b.clone();
            let progress = progress.cloned();
            let part = (jobs > 1).then_some((t as u64, jobs));
            let h = std::thread::Builder::new()
                .name(format!("scenarios-{t}"))
                .stack_size(RUNNER_STACK)
                .spawn_scoped(scope, move || {
                    let [console, junit, json] = b;
                    let sinks = Sinks {
                        console: Box::new(console),
                        junit: Box::new(junit),
                        json: Box::new(json),
                    };
                    run_once_here(opts, files, sinks, part, outcomes, progress)
                })
                .map_err(|e| RunError::Setup(format!("cannot start a runner thread: {e}")))?;
            handles.push(h);
        }
        for h in handles {
            h.join()
                .map_err(|_| RunError::Setup("a runner thread panicked".into()))??;
        }
        Ok(())
    })?;
    if quiet {
        return Ok(());
    }
    let take = |k: usize| -> Vec<Vec<u8>> { bufs.iter().map(|b| b[k].take()).collect() };
    if !opts.quiet {
        for c in take(0) {
            let _ = io::stdout().write_all(&c);
        }
    }
    let write = |p: &Option<PathBuf>, bytes: Vec<u8>| -> Result<(), RunError> {
        match p {
            Some(p) => std::fs::write(p, bytes).map_err(|e| RunError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            }),
            None => Ok(()),
        }
    };
    let (junit, json) = (take(1), take(2));
    write(&opts.junit, merge_junit(&junit))?;
    write(&opts.json, merge_json(&json))?;
    Ok(())
}

fn run_once_here(
    opts: &RunOptions,
    files: &[(PathBuf, Option<usize>)],
    sinks: Sinks,
    part: Option<(u64, u64)>,
    outcomes: Outcomes,
    progress: Option<indicatif::ProgressBar>,
) -> Result<(), RunError> {
    let Sinks {
        console,
        junit,
        json,
    } = sinks;
    let writer = writer::Basic::raw(console, Coloring::Never, Verbosity::Default)
        .summarized()
        .tee::<AlarmWorld, _>(writer::JUnit::for_tee(junit, Verbosity::Default))
        .tee::<AlarmWorld, _>(writer::Json::for_tee(json))
        .normalized::<AlarmWorld>();

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
        .filter_map(|(p, l)| l.map(|l| (p.canonicalize().unwrap_or(p.clone()), l)))
        .collect();
    let selected: std::collections::BTreeSet<PathBuf> = files
        .iter()
        .map(|(p, _)| p.canonicalize().unwrap_or(p.clone()))
        .collect();
    let shard = opts.shard;
    let run_seed = opts.seed;
    let capture = opts.capture.clone();
    let html_on = opts.html.is_some();

    let mut cuke = AlarmWorld::cucumber()
        .with_writer(writer)
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
    let cap = capture.clone();
    let cuke = cuke
        .before(move |feature, _rule, sc, w| {
            let cap = cap.clone();
            async move {
                w.meta = ScenarioMeta {
                    feature: feature.name.clone(),
                    scenario: sc.name.clone(),
                    example_row: example_row(sc),
                    file: feature.path.as_ref().map(|p| rel(p)).unwrap_or_default(),
                    line: sc.position.line,
                    run_seed,
                };
                w.setup.capture = cap.is_some();
                w.record_accel = html_on;
            }
            .boxed_local()
        })
        .after(move |feature, rule, sc, ev, w| {
            let outcomes = outcomes.clone();
            let capture = capture.clone();
            let progress = progress.clone();
            async move {
                let Some(w) = w else { return };
                let html = html_on;
                let (passed, message) = match ev {
                    event::ScenarioFinished::StepPassed => (true, None),
                    event::ScenarioFinished::StepSkipped => {
                        (false, Some("a step is undefined or was skipped".into()))
                    }
                    event::ScenarioFinished::StepFailed(_, _, e) => (false, Some(e.to_string())),
                    event::ScenarioFinished::BeforeHookFailed(_) => {
                        (false, Some("before hook failed".into()))
                    }
                };
                let seed = w.sim.as_ref().map_or_else(|| w.seed(), |s| s.seed());
                let timeline = w
                    .sim
                    .as_ref()
                    .map(|s| s.timeline.render())
                    .unwrap_or_default();
                if let (Some(dir), Some(sim)) = (&capture, &w.sim) {
                    let file = dir.join(format!("{}.btsnoop", slug(&w.meta)));
                    if let Err(e) = crate::capture::write_btsnoop(&file, sim) {
                        eprintln!("capture: {e}");
                    }
                }
                let section = html.then(|| {
                    let all = feature
                        .background
                        .iter()
                        .flat_map(|b| b.steps.iter())
                        .chain(
                            rule.iter()
                                .flat_map(|r| r.background.iter().flat_map(|b| b.steps.iter())),
                        )
                        .chain(sc.steps.iter());
                    let steps = all
                        .enumerate()
                        .map(|(i, st)| {
                            let status = if i < w.steps_done {
                                "passed"
                            } else if i == w.steps_done && !passed {
                                "failed"
                            } else {
                                "skipped"
                            };
                            (format!("{}{}", st.keyword, st.value), status.to_string())
                        })
                        .collect();
                    crate::report::ScenarioSection::from_sim(
                        &w.meta,
                        passed,
                        message.clone(),
                        steps,
                        w.sim.as_ref(),
                    )
                });
                if let Some(bar) = &progress {
                    bar.inc(1);
                    if !passed {
                        bar.set_message(format!("FAILED {}:{}", w.meta.file, w.meta.line));
                    }
                }
                if let Ok(mut o) = outcomes.lock() {
                    o.push(ScenarioOutcome {
                        meta: w.meta.clone(),
                        seed,
                        passed,
                        message,
                        timeline,
                        section,
                    });
                }
            }
            .boxed_local()
        });

    let filter =
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
            if let Some(re) = &name {
                if !re.is_match(&sc.name) {
                    return false;
                }
            }
            if let Some((k, n)) = shard {
                if shard_of(&feature.name, &sc.name, n) != k - 1 {
                    return false;
                }
            }
            if let Some((t, n)) = part {
                if derive_seed(1, &feature.name, &sc.name, "part") % n != t {
                    return false;
                }
            }
            let Some(path) = &feature.path else {
                return false;
            };
            let key = path.canonicalize().unwrap_or(path.clone());
            if !selected.contains(&key) {
                return false;
            }
            match lines.get(&key) {
                Some(&line) => covers_line(sc, line),
                None => true,
            }
        };

    quiet_step_panics();
    let result = futures::executor::block_on(cuke.filter_run(files_root(files), filter));
    drop(result);
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

fn slug(m: &ScenarioMeta) -> String {
    let base = Path::new(&m.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = m
        .scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{base}-{}-{name}", m.line)
}

/// Run the features.
pub fn run(opts: &RunOptions) -> Result<RunSummary, RunError> {
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
    let first: Outcomes = Arc::default();
    let progress = std::io::IsTerminal::is_terminal(&io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} scenarios {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    if !files.is_empty() {
        run_once(opts, &files, false, first.clone(), progress.as_ref())?;
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    summary.scenarios = first.lock().map(|v| v.clone()).unwrap_or_default();
    if let Some(path) = &opts.html {
        let sections: Vec<_> = summary
            .scenarios
            .iter()
            .filter_map(|o| o.section.clone())
            .collect();
        std::fs::write(path, crate::report::suite_report("sim run", &sections)).map_err(|e| {
            RunError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            }
        })?;
    }
    if opts.check_determinism {
        let second: Outcomes = Arc::default();
        if !files.is_empty() {
            run_once(opts, &files, true, second.clone(), None)?;
        }
        let again: BTreeMap<(String, usize), String> = second
            .lock()
            .map(|v| {
                v.iter()
                    .map(|o| ((o.meta.file.clone(), o.meta.line), o.timeline.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for o in &summary.scenarios {
            let key = (o.meta.file.clone(), o.meta.line);
            if again.get(&key) != Some(&o.timeline) {
                summary.nondeterministic.push(format!(
                    "{}:{} {:?} (seed {})",
                    o.meta.file, o.meta.line, o.meta.scenario, o.seed
                ));
            }
        }
    }
    Ok(summary)
}
