//! Running planned scenarios: each on a fresh [`AlarmWorld`], its steps parsed into
//! typed steps and run on the simulator ([`SimBench`]), on `--jobs` threads that take
//! the next scenario as they free up. The sinks hear every scenario in file order as
//! soon as it and all before it have finished, with feature events around them, so the
//! console is one stream whatever the number of threads.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use super::plan::{Planned, PlannedStep};
use crate::sink::{Event, FeatureInfo, ScenarioEnd, ScenarioRecord, Sink, StepResult, StepStatus};
use crate::steps::{self, AlarmWorld, Kind, SimBench};
use crate::RunError;

/// What to record while running.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecConfig {
    /// Record BLE captures.
    pub capture: bool,
    /// Record plots (for the HTML report).
    pub plots: bool,
    /// Record Perfetto traces.
    pub perfetto: bool,
    /// Stop starting scenarios after the first failure.
    pub fail_fast: bool,
    /// Take idle heartbeats in bulk (`Simulation::fast_forward`; off: every frame goes
    /// the full path, as the determinism check's second run does).
    pub fast_forward: bool,
}

/// Scenario threads need room: the simulation is deep in debug builds.
const STACK: usize = 64 << 20;

/// Step failures caught from the simulator must not print "thread panicked" noise on
/// the scenario threads; installed once for the process.
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

/// Run one step on the world: `Err` with its status and message when it did not pass.
fn run_step(w: &mut AlarmWorld, st: &PlannedStep, file: &str) -> Result<(), (StepStatus, String)> {
    let at = format!(
        "{file}:{}:{}: {}{}",
        st.line, st.column, st.keyword, st.text
    );
    let step = steps::parse(st.kind, &st.text, st.table.as_deref()).map_err(|e| match e {
        RunError::UndefinedStep { .. } | RunError::AmbiguousStep { .. } => {
            (StepStatus::Undefined, format!("{at}\n{e}"))
        }
        e => (StepStatus::Failed, format!("{at}\n{e}")),
    })?;
    let done = catch_unwind(AssertUnwindSafe(|| {
        steps::run_step(&mut SimBench::new(w), &step)
    }));
    w.steps_done += 1;
    let e = match done {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            format!("the harness failed: {why}")
        }
    };
    let message = match st.kind {
        Kind::Then => format!("{at}\n  expected: {}\n  found: {e}", expected(&st.text)),
        Kind::Given | Kind::When => format!("{at}\n  failed: {e}"),
    };
    Err((StepStatus::Failed, message))
}

/// What a Then step expects: its text, a `within {n} s` prefix moved to the end.
fn expected(text: &str) -> String {
    let within = text
        .strip_prefix("within ")
        .and_then(|r| r.split_once(" s "));
    match within {
        Some((n, rest)) => format!("{rest} (within {n} s)"),
        None => text.to_string(),
    }
}

/// Run one scenario to its record.
pub fn run_one(p: &Planned, cfg: ExecConfig) -> ScenarioRecord {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let mut w = AlarmWorld {
        meta: p.info.meta.clone(),
        record_accel: cfg.plots || cfg.perfetto,
        ..AlarmWorld::default()
    };
    w.setup.capture = cfg.capture;
    w.setup.fast_forward = cfg.fast_forward;
    let mut steps = Vec::with_capacity(p.steps.len());
    let mut message = None;
    for st in &p.steps {
        let t = Instant::now();
        let (status, error) = if message.is_some() {
            (StepStatus::Skipped, None)
        } else {
            match run_step(&mut w, st, &p.info.meta.file) {
                Ok(()) => (StepStatus::Passed, None),
                Err((status, e)) => {
                    message = Some(e.clone());
                    (status, Some(e))
                }
            }
        };
        steps.push(StepResult {
            keyword: st.keyword.clone(),
            text: st.text.clone(),
            line: st.line,
            column: st.column,
            background: st.background,
            status,
            duration: t.elapsed(),
            error,
        });
    }
    let mut info = p.info.clone();
    info.started = Some(started_at);
    ScenarioRecord {
        feature: p.feature.clone(),
        info,
        steps,
        end: end_of(&w, message, cfg, started.elapsed()),
    }
}

fn end_of(w: &AlarmWorld, message: Option<String>, cfg: ExecConfig, d: Duration) -> ScenarioEnd {
    let sim = w.sim.as_ref();
    ScenarioEnd {
        passed: message.is_none(),
        message,
        seed: sim.map_or_else(|| w.seed(), |s| s.seed()),
        sim_seed: sim.map(|s| s.seed()),
        virtual_us: sim.map(|s| s.now()),
        timeline: sim.map(|s| s.timeline.render()).unwrap_or_default(),
        duration: d,
        capture: sim
            .filter(|_| cfg.capture)
            .map(crate::capture::btsnoop_bytes),
        plots: sim
            .filter(|_| cfg.plots)
            .map(crate::report::scenario_timeline_html),
        perfetto: sim.filter(|_| cfg.perfetto).map(|s| {
            let title = format!("{} / {}", w.meta.feature, w.meta.scenario);
            crate::report::perfetto::perfetto_trace(&title, s).to_string()
        }),
    }
}

/// Tells sinks the records in file order as they become available.
pub(crate) struct Teller<'s> {
    sinks: &'s mut [Box<dyn Sink>],
    pending: BTreeMap<usize, ScenarioRecord>,
    next: usize,
    feature: Option<FeatureInfo>,
    /// Every record told, in order.
    pub told: Vec<ScenarioRecord>,
}

impl<'s> Teller<'s> {
    pub(crate) fn new(sinks: &'s mut [Box<dyn Sink>]) -> Self {
        Teller {
            sinks,
            pending: BTreeMap::new(),
            next: 0,
            feature: None,
            told: Vec::new(),
        }
    }

    fn each(&mut self, ev: &Event<'_>) -> Result<(), RunError> {
        self.sinks.iter_mut().try_for_each(|s| s.on_event(ev))
    }

    fn tell(&mut self, r: ScenarioRecord) -> Result<(), RunError> {
        if self.feature.as_ref() != Some(&r.feature) {
            if let Some(f) = self.feature.take() {
                self.each(&Event::FeatureFinished(&f))?;
            }
            self.each(&Event::FeatureStarted(&r.feature))?;
            self.feature = Some(r.feature.clone());
        }
        for s in self.sinks.iter_mut() {
            r.tell(s.as_mut())?;
        }
        self.told.push(r);
        Ok(())
    }

    /// Scenario `i` finished: tell it and every finished one after it, in order.
    fn finished(&mut self, i: usize, r: ScenarioRecord) -> Result<(), RunError> {
        self.pending.insert(i, r);
        while let Some(r) = self.pending.remove(&self.next) {
            self.tell(r)?;
            self.next += 1;
        }
        Ok(())
    }

    /// No more scenarios: tell what is left (after a fail-fast stop), close the feature.
    pub(crate) fn close(mut self) -> Result<Vec<ScenarioRecord>, RunError> {
        for r in std::mem::take(&mut self.pending).into_values() {
            self.tell(r)?;
        }
        if let Some(f) = self.feature.take() {
            self.each(&Event::FeatureFinished(&f))?;
        }
        Ok(self.told)
    }
}

/// Run the scenarios on `jobs` threads; `teller` hears them in file order.
pub(crate) fn execute(
    plans: &[Planned],
    cfg: ExecConfig,
    jobs: usize,
    teller: &mut Teller,
) -> Result<(), RunError> {
    quiet_step_panics();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, ScenarioRecord)>();
    std::thread::scope(|scope| -> Result<(), RunError> {
        for t in 0..jobs.clamp(1, plans.len().max(1)) {
            let (tx, next, stop) = (tx.clone(), &next, &stop);
            std::thread::Builder::new()
                .name(format!("scenarios-{t}"))
                .stack_size(STACK)
                .spawn_scoped(scope, move || {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = plans.get(i) else { break };
                        let r = run_one(p, cfg);
                        if cfg.fail_fast && !r.end.passed {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| RunError::Setup(format!("cannot start a scenario thread: {e}")))?;
        }
        drop(tx);
        for (i, r) in rx {
            teller.finished(i, r)?;
        }
        Ok(())
    })
}
