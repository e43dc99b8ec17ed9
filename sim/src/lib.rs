//! The `sim` binary's library: the tools behind its subcommands — fall-detector
//! evaluation ([`falls_eval`]), battery estimate ([`battery`]), fleet runs ([`fleet`]),
//! the benchmark figures ([`bench`]), trace generation ([`gen_traces`]) — and the
//! harness's layer crates re-exported under their historical paths:
//!
//! - `sim_traces` ([`trace`], [`tracegen`]): trace readers and generator;
//! - `sim_world` ([`sched`], [`rng`], [`link`], [`platform`], [`hand`], [`simulation`],
//!   [`timeline`], [`capture`], [`virtual_client`], [`conformance`]): the world;
//! - `sim_steps` ([`steps`], [`runner`], [`report`]): the domain language and runner;
//! - `sim_rig` (`hil`, feature `hil`): hardware in the loop.

pub mod battery;
pub mod bench;
pub mod falls_eval;
pub mod fleet;
pub mod gen_traces;
pub mod long_day;

#[cfg(feature = "hil")]
pub use sim_rig::hil;
pub use sim_steps::{report, runner, steps};
pub use sim_traces as trace;
pub use sim_traces::gen as tracegen;
pub use sim_world::{
    attacker, capture, conformance, hand, link, platform, rng, sched, simulation, timeline,
    virtual_client,
};

/// Errors of the tools.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The world could not be built or run.
    #[error(transparent)]
    World(#[from] sim_world::WorldError),
    /// A run failed to start.
    #[error(transparent)]
    Run(#[from] sim_steps::RunError),
    /// A scenario set-up problem.
    #[error("{0}")]
    Setup(String),
    /// A trace cannot be read.
    #[error(transparent)]
    Trace(#[from] sim_traces::TraceError),
    /// Hardware in the loop: no adapter, no bus, a device that does not answer.
    #[cfg(feature = "hil")]
    #[error(transparent)]
    Hil(#[from] sim_rig::hil::HilError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}
