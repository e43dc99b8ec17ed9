//! Every scenario of the bundled `features/` as a native test, named
//! `feature::scenario[::row]`: `cargo nextest list` shows one test per scenario and per
//! outline row, `cargo nextest run --partition count:K/N` splits them evenly (and
//! `cargo nextest archive` builds once for other machines), `cargo test` runs them all.
//! Each test runs its scenario through the runner's own planning and execution; a
//! failure prints the step, what was expected and found, and the replay command.

use std::path::Path;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use sim::runner::exec::{run_one, ExecConfig};
use sim::runner::plan::Planned;
use sim::runner::{self, RunOptions, ScenarioOutcome};

/// Run one planned scenario on a thread with room for the simulation.
fn run(p: Planned) -> Result<(), Failed> {
    let record = std::thread::Builder::new()
        .name("scenarios-test".into())
        .stack_size(64 << 20)
        .spawn(move || {
            run_one(
                &p,
                ExecConfig {
                    fast_forward: true,
                    ..ExecConfig::default()
                },
            )
        })
        .map_err(|e| Failed::from(format!("cannot start the scenario thread: {e}")))?
        .join()
        .map_err(|_| Failed::from("the scenario thread panicked"))?;
    if record.end.passed {
        return Ok(());
    }
    let o = ScenarioOutcome::from(&record);
    Err(Failed::from(format!(
        "{}\nreplay: {}\n--- timeline\n{}",
        o.message.as_deref().unwrap_or("failed"),
        o.replay_command(),
        o.timeline
    )))
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");
    let opts = RunOptions {
        paths: vec![features.display().to_string()],
        ..RunOptions::default()
    };
    let trials = match runner::plan(&opts) {
        Ok(plan) if plan.problems.is_empty() => plan
            .scenarios
            .into_iter()
            .map(|p| Trial::test(p.name.clone(), move || run(p)))
            .collect(),
        Ok(plan) => {
            let problems = plan.problems.join("\n");
            vec![Trial::test("features::plan", move || Err(problems.into()))]
        }
        Err(e) => {
            let e = e.to_string();
            vec![Trial::test("features::plan", move || Err(e.into()))]
        }
    };
    libtest_mimic::run(&args, trials).exit_code()
}
