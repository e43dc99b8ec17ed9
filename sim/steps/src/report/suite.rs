//! The HTML report sink: one self-contained page of the run ([`super::suite_report`]),
//! a section per scenario with its steps and their status, the replay command and the
//! scenario's plots. Written when the run finishes.

use std::path::{Path, PathBuf};

use super::{suite_report, ScenarioSection};
use crate::sink::{Event, Sink};
use crate::RunError;

/// Collects the run and writes the HTML report to a file.
pub struct HtmlSink {
    path: PathBuf,
    sections: Vec<ScenarioSection>,
    steps: Vec<(String, String)>,
}

impl HtmlSink {
    /// To `path`.
    pub fn new(path: &Path) -> Self {
        HtmlSink {
            path: path.to_path_buf(),
            sections: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl Sink for HtmlSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        match event {
            Event::ScenarioStarted(..) => self.steps.clear(),
            Event::StepFinished(_, s) => self.steps.push((
                format!("{}{}", s.keyword, s.text),
                s.status.name().to_string(),
            )),
            Event::ScenarioFinished(sc, end) => self.sections.push(ScenarioSection::from_parts(
                &sc.meta,
                end.passed,
                end.message.clone(),
                std::mem::take(&mut self.steps),
                end.sim_seed,
                end.plots.clone().unwrap_or_default(),
            )),
            Event::RunFinished(_) => {
                let html = suite_report("sim run", &self.sections);
                return std::fs::write(&self.path, html).map_err(|e| RunError::Io {
                    path: self.path.display().to_string(),
                    message: e.to_string(),
                });
            }
            _ => {}
        }
        Ok(())
    }
}
