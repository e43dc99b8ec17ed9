//! The HTML report sink: one self-contained page of the run ([`super::suite_report`]),
//! in file order (the runner tells scenarios in file order whatever `--jobs`), with the
//! run's date, `sim` version and command line, and a section per scenario with its steps
//! and their status, wall and virtual time, the replay command and the scenario's plots.
//! Written when the run finishes.

use std::path::{Path, PathBuf};

use super::{suite_report, ScenarioSection, SuiteMeta};
use crate::sink::{Event, Sink};
use crate::RunError;

/// Collects the run and writes the HTML report to a file.
pub struct HtmlSink {
    path: PathBuf,
    meta: SuiteMeta,
    sections: Vec<ScenarioSection>,
    steps: Vec<(String, String)>,
}

impl HtmlSink {
    /// To `path`; the header says when (now), which `sim` and which command (this
    /// process's arguments).
    pub fn new(path: &Path) -> Self {
        HtmlSink {
            path: path.to_path_buf(),
            meta: SuiteMeta::now(),
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
            Event::ScenarioFinished(sc, end) => {
                let mut section = ScenarioSection::from_parts(
                    &sc.meta,
                    end.passed,
                    end.message.clone(),
                    std::mem::take(&mut self.steps),
                    end.sim_seed,
                    end.plots.clone().unwrap_or_default(),
                );
                section.wall = end.duration;
                section.virtual_us = end.virtual_us;
                self.sections.push(section);
            }
            Event::RunFinished(_) => {
                let html = suite_report("sim run", &self.meta, &self.sections);
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
