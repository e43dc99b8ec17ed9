//! The domain language and how scenarios run: the step catalogue and the cucumber
//! World ([`steps`]), the runner ([`runner`]: validation, parallel runs, JUnit/JSON,
//! determinism check, shards), its event stream and the [`sink::Sink`] trait ([`sink`]),
//! and the reports, each a sink ([`report`]).

pub mod report;
pub mod runner;
pub mod sink;
pub mod steps;

pub(crate) use sim_world::{
    capture, fall_probe, observed, platform, rng, sched, simulation, timeline,
};

/// Errors of the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The world could not be built or run.
    #[error(transparent)]
    World(#[from] sim_world::WorldError),
    /// A run set-up problem (options, selections).
    #[error("{0}")]
    Setup(String),
    /// No step of the keyword matches the text.
    #[error("undefined step `{step}`; closest known steps:\n    {}", closest.join("\n    "))]
    UndefinedStep {
        /// The keyword and the text.
        step: String,
        /// The closest known steps.
        closest: Vec<String>,
    },
    /// Several steps match the text.
    #[error("ambiguous step `{step}` matches {patterns:?}")]
    AmbiguousStep {
        /// The keyword and the text.
        step: String,
        /// The patterns it matches.
        patterns: Vec<&'static str>,
    },
    /// A step matches but an argument is out of range or malformed.
    #[error("{0}")]
    InvalidStep(String),
    /// A step ran and failed (a check that does not hold, an action that went wrong).
    #[error("{0}")]
    StepFailed(String),
    /// The bench cannot perform this step (why): the scenario is not run there.
    #[error("{0}")]
    NotOnThisBench(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
