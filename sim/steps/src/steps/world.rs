//! The cucumber `World`: one per scenario, owning the scenario's [`Setup`] while Given
//! steps configure it and the [`Simulation`] from the first When or Then step on.

use crate::rng::derive_seed;
use crate::sched::Micros;
use crate::simulation::{Setup, Simulation};

/// Where a scenario comes from (for seeds, reports and replay commands).
#[derive(Clone, Debug, Default)]
pub struct ScenarioMeta {
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// Example row of an outline (cells joined), empty otherwise.
    pub example_row: String,
    /// Feature file.
    pub file: String,
    /// Line of the scenario.
    pub line: usize,
    /// The run's seed.
    pub run_seed: u64,
}

/// The World.
#[derive(Debug, Default, cucumber::World)]
pub struct AlarmWorld {
    /// What the Given steps configured.
    pub setup: Setup,
    /// Set by `the random seed is {n}`.
    pub explicit_seed: Option<u64>,
    /// The simulation, once started.
    pub sim: Option<Simulation>,
    /// Virtual time at the end of the last When step.
    pub last_when_end: Micros,
    /// Scenario metadata.
    pub meta: ScenarioMeta,
    /// A start-up error, reported by the first step that needs the simulation.
    pub start_error: Option<String>,
    /// Steps completed so far (for reports).
    pub steps_done: usize,
    /// Record the accelerometer samples (for reports).
    pub record_accel: bool,
}

impl AlarmWorld {
    /// The scenario seed.
    pub fn seed(&self) -> u64 {
        self.explicit_seed.unwrap_or_else(|| {
            derive_seed(
                self.meta.run_seed,
                &self.meta.feature,
                &self.meta.scenario,
                &self.meta.example_row,
            )
        })
    }

    /// Whether the simulation has started.
    pub fn started(&self) -> bool {
        self.sim.is_some()
    }

    /// The simulation, started at t = 0 on first use.
    pub fn sim(&mut self) -> Result<&mut Simulation, String> {
        if self.sim.is_none() {
            let mut setup = self.setup.clone();
            setup.seed = self.seed();
            let mut sim =
                Simulation::new(setup).map_err(|e| format!("cannot start the simulation: {e}"))?;
            if self.record_accel {
                sim.record_accel();
            }
            self.sim = Some(sim);
        }
        self.sim.as_mut().ok_or_else(|| "no simulation".to_string())
    }

    /// Mark the end of a When step.
    pub fn when_done(&mut self) {
        if let Some(s) = &self.sim {
            self.last_when_end = s.now();
        }
    }
}
