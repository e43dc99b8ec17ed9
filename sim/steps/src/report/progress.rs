//! The progress indicator: a live sink showing a spinner with the number of scenarios
//! run and the last failure, cleared when the run finishes.

use crate::sink::{Event, Sink};
use crate::RunError;

/// A spinner on standard error (use it when that is a terminal).
pub struct ProgressSink {
    bar: indicatif::ProgressBar,
}

impl ProgressSink {
    /// A new spinner.
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} scenarios {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        ProgressSink { bar }
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for ProgressSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        match event {
            Event::ScenarioFinished(sc, end) => {
                self.bar.inc(1);
                if !end.passed {
                    self.bar
                        .set_message(format!("FAILED {}:{}", sc.meta.file, sc.meta.line));
                }
            }
            Event::RunFinished(_) => self.bar.finish_and_clear(),
            _ => {}
        }
        Ok(())
    }

    fn live(&self) -> bool {
        true
    }
}
