//! The console sink: each feature, scenario and step as it ran (in the layout of
//! cucumber's console writer), a `[Summary]` of the counts, the timelines of failed
//! scenarios, then the closing lines of [`RunSummary::report`] (problems, each failure
//! with its seed and replay command, the counts). Quiet, only the closing lines.

use std::io::Write;

use crate::runner::RunSummary;
use crate::sink::{Event, ScenarioInfo, Sink, StepResult, StepStatus};
use crate::RunError;

/// One step as the console shows it; a step that did not run shows nothing.
pub fn step_text(file: &str, step: &StepResult) -> String {
    let mark = if step.background { '>' } else { ' ' };
    let head = |sign: char| format!("   {sign}{mark} {}{}\n", step.keyword, step.text);
    let at = format!("{file}:{}:{}", step.line, step.column);
    match step.status {
        StepStatus::Passed => head('✔'),
        StepStatus::Skipped => String::new(),
        StepStatus::Undefined => format!("{}      Step undefined: {at}\n", head('?')),
        StepStatus::Failed => format!(
            "{}      Step failed:\n      {}\n",
            head('✘'),
            step.error
                .as_deref()
                .unwrap_or("failed")
                .replace('\n', "\n      ")
        ),
    }
}

/// A scenario as the console shows it: its heading and each step that ran.
pub fn scenario_text(info: &ScenarioInfo, steps: &[StepResult]) -> String {
    let mut s = format!("  {}: {}\n", info.keyword, info.meta.scenario);
    for step in steps {
        s.push_str(&step_text(&info.meta.file, step));
    }
    s
}

/// `1 scenario`, `3 scenarios (2 passed, 1 failed)`.
fn count(n: usize, what: &str, parts: &[(usize, &str)]) -> String {
    let mut s = format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let parts: Vec<String> = parts
        .iter()
        .filter(|(k, _)| *k > 0)
        .map(|(k, name)| format!("{k} {name}"))
        .collect();
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    s
}

/// Counts for the `[Summary]` block.
#[derive(Default)]
struct Counts {
    features: usize,
    passed: usize,
    failed: usize,
    steps_passed: usize,
    steps_skipped: usize,
    steps_failed: usize,
}

impl Counts {
    fn render(&self) -> String {
        format!(
            "[Summary]\n{}\n{}\n{}\n",
            count(self.features, "feature", &[]),
            count(
                self.passed + self.failed,
                "scenario",
                &[(self.passed, "passed"), (self.failed, "failed")]
            ),
            count(
                self.steps_passed + self.steps_skipped + self.steps_failed,
                "step",
                &[
                    (self.steps_passed, "passed"),
                    (self.steps_skipped, "skipped"),
                    (self.steps_failed, "failed"),
                ]
            ),
        )
    }
}

/// Writes the run to the console (or any writer).
pub struct ConsoleSink<W: Write + Send> {
    out: W,
    verbose: bool,
    counts: Counts,
}

impl ConsoleSink<std::io::Stdout> {
    /// To standard output; `verbose` shows every step, not only the summary.
    pub fn stdout(verbose: bool) -> Self {
        ConsoleSink::new(std::io::stdout(), verbose)
    }
}

impl<W: Write + Send> ConsoleSink<W> {
    /// To `out`; `verbose` shows every step, not only the summary.
    pub fn new(out: W, verbose: bool) -> Self {
        ConsoleSink {
            out,
            verbose,
            counts: Counts::default(),
        }
    }

    /// The writer (to read back what was written).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn show(&mut self, text: &str) {
        // Like `print!` without its panic: a closed pipe loses the output, not the run.
        let _ = self.out.write_all(text.as_bytes());
    }

    fn finished(&mut self, summary: &RunSummary) {
        if self.verbose {
            let counts = self.counts.render();
            self.show(&counts);
        }
        self.show(&summary.report_with(self.verbose));
        let _ = self.out.flush();
    }
}

impl<W: Write + Send> Sink for ConsoleSink<W> {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        let c = &mut self.counts;
        let text = match event {
            Event::FeatureStarted(f) => {
                c.features += 1;
                format!("{}: {}\n", f.keyword, f.name)
            }
            Event::ScenarioStarted(_, sc) => format!("  {}: {}\n", sc.keyword, sc.meta.scenario),
            Event::StepFinished(sc, step) => {
                match step.status {
                    StepStatus::Passed => c.steps_passed += 1,
                    StepStatus::Failed => c.steps_failed += 1,
                    StepStatus::Undefined => c.steps_skipped += 1,
                    StepStatus::Skipped => {}
                }
                step_text(&sc.meta.file, step)
            }
            Event::ScenarioFinished(_, end) => {
                *(if end.passed {
                    &mut c.passed
                } else {
                    &mut c.failed
                }) += 1;
                String::new()
            }
            Event::RunFinished(summary) => {
                self.finished(summary);
                return Ok(());
            }
            Event::RunStarted(_) | Event::FeatureFinished(_) => String::new(),
        };
        if self.verbose {
            self.show(&text);
        }
        Ok(())
    }
}
