//! The domain language and how scenarios run: the step catalogue and the cucumber
//! World ([`steps`]), the runner ([`runner`]: validation, parallel runs, JUnit/JSON,
//! determinism check, shards), its event stream and the [`sink::Sink`] trait ([`sink`]),
//! and the reports, each a sink ([`report`]).

pub mod report;
pub mod runner;
pub mod sink;
pub mod steps;

pub(crate) use sim_world::{capture, platform, rng, sched, simulation, timeline};

/// Errors of the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The world could not be built or run.
    #[error(transparent)]
    World(#[from] sim_world::WorldError),
    /// A run set-up problem (options, selections).
    #[error("{0}")]
    Setup(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
