//! The capture sink: each scenario's BLE traffic as a btsnoop file (HCI H4, datalink
//! 1002) named after its feature file, line and scenario.

use std::path::{Path, PathBuf};

use crate::sink::{Event, Sink};
use crate::steps::world::ScenarioMeta;
use crate::RunError;

/// Writes `DIR/<file stem>-<line>-<scenario>.btsnoop` per scenario that ran a simulation.
pub struct CaptureSink {
    dir: PathBuf,
}

impl CaptureSink {
    /// Into `dir` (which must exist).
    pub fn new(dir: &Path) -> Self {
        CaptureSink {
            dir: dir.to_path_buf(),
        }
    }
}

/// The file name of a scenario's capture, without extension.
pub fn slug(m: &ScenarioMeta) -> String {
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

impl Sink for CaptureSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        if let Event::ScenarioFinished(sc, end) = event {
            if let Some(bytes) = &end.capture {
                let file = self.dir.join(format!("{}.btsnoop", slug(&sc.meta)));
                // A capture that cannot be written is reported, not fatal to the run.
                if let Err(e) = std::fs::write(&file, bytes) {
                    eprintln!("capture: {}: {e}", file.display());
                }
            }
        }
        Ok(())
    }
}
