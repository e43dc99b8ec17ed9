//! The options and the report of a rig run.

use std::io::IsTerminal as _;
use std::time::Duration;

use protocol::BondKey;

/// Options of a hardware run.
#[derive(Clone, Debug)]
pub struct HilOptions {
    /// The bond key the button's firmware holds (the phone verifies event tags with it).
    pub key: BondKey,
    /// How long to wait for the operator to perform a step asked on the terminal.
    pub operator_timeout: Duration,
    /// Whether the operator may be asked (default: stdin is a terminal).
    pub interactive: bool,
    /// Longest wait (a When step letting time pass) run for real; a longer one is not
    /// run on hardware.
    pub max_wait: Duration,
    /// How long to wait for the button to connect at the start of a scenario.
    pub connect_timeout: Duration,
    /// Settling time after connecting (stale queued events are acknowledged).
    pub settle: Duration,
}

impl HilOptions {
    /// Defaults for a rig with bond key `key`.
    pub fn new(key: BondKey) -> Self {
        HilOptions {
            key,
            operator_timeout: Duration::from_secs(30),
            interactive: std::io::stdin().is_terminal(),
            max_wait: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            settle: Duration::from_secs(3),
        }
    }
}

/// How one scenario ended on hardware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioStatus {
    /// Every step ran on hardware and every check held.
    Passed,
    /// A step failed (why).
    Failed(String),
    /// A step cannot be performed or checked on hardware (which, and why).
    NotRunOnHardware(String),
}

/// One scenario's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioResult {
    /// `file:line`.
    pub location: String,
    /// Scenario name.
    pub name: String,
    /// Outcome.
    pub status: ScenarioStatus,
    /// What happened (phone log and rig notes, then what the phone recorded), for
    /// failures.
    pub log: Vec<String>,
    /// From the first press to the first SMS the phone sent, when both happened.
    pub press_to_sms: Option<std::time::Duration>,
}

/// The outcome of `sim hil run`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HilReport {
    /// The device the scenarios ran against.
    pub device: String,
    /// Each `@hil` scenario, in file order.
    pub scenarios: Vec<ScenarioResult>,
}

impl HilReport {
    fn count(&self, f: impl Fn(&ScenarioStatus) -> bool) -> usize {
        self.scenarios.iter().filter(|s| f(&s.status)).count()
    }

    /// Scenarios that passed on hardware.
    pub fn passed(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::Passed))
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::Failed(_)))
    }

    /// Scenarios not run on hardware.
    pub fn not_run(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::NotRunOnHardware(_)))
    }

    /// No scenario failed (scenarios not run on hardware do not fail the run, and are not
    /// passes either).
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// The human report: one line per scenario, the log of failures, a count.
    pub fn render(&self) -> String {
        let mut out = format!("hardware run against {}\n", self.device);
        for s in &self.scenarios {
            let (tag, why) = match &s.status {
                ScenarioStatus::Passed => ("PASS", String::new()),
                ScenarioStatus::Failed(w) => ("FAIL", format!(": {w}")),
                ScenarioStatus::NotRunOnHardware(w) => ("NOT RUN ON HARDWARE", format!(": {w}")),
            };
            let latency = s.press_to_sms.map_or(String::new(), |d| {
                format!(" (press→SMS {} ms)", d.as_millis())
            });
            out.push_str(&format!("{tag} {} {}{why}{latency}\n", s.location, s.name));
            if matches!(s.status, ScenarioStatus::Failed(_)) {
                for l in &s.log {
                    out.push_str(&format!("    {l}\n"));
                }
            }
        }
        out.push_str(&format!(
            "{} scenarios: {} passed, {} failed, {} not run on hardware\n",
            self.scenarios.len(),
            self.passed(),
            self.failed(),
            self.not_run()
        ));
        out
    }
}
