//! `sim run [PATHS…]`: run feature files; the clap arguments convert into the runner's
//! [`RunOptions`]; the console (and, on a terminal, the progress indicator) are sinks
//! of the run's events.

use std::path::PathBuf;
use std::process::ExitCode;

use sim::report::console::ConsoleSink;
use sim::report::progress::ProgressSink;
use sim::runner::{self, RunOptions};
use sim_steps::sink::Sink;

/// Run feature files (default: `features/`); exit code 0 only when all pass.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Feature files or folders (default `features/`); `FILE:LINE` runs the scenario at
    /// that line.
    paths: Vec<String>,
    /// Tag expression, e.g. '@smoke and not @slow'.
    #[arg(long)]
    tags: Option<String>,
    /// Only scenarios whose name matches this regex.
    #[arg(long)]
    name: Option<String>,
    /// The run's seed (each scenario's seed derives from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write Cucumber JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run shard K of N (1-based), e.g. 2/4: N machines together run each scenario once.
    #[arg(long, value_parser = super::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Run every scenario twice; fail any whose event timeline differs.
    #[arg(long)]
    check_determinism: bool,
    /// Write each scenario's BLE traffic as a btsnoop file into DIR.
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
    /// Write one self-contained HTML report of the run (steps, results, plots).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Scenarios run in parallel on this many threads (0 = all cores).
    #[arg(long, short, default_value_t = 0)]
    jobs: usize,
    /// Only the summary, not every step.
    #[arg(long, short)]
    quiet: bool,
}

impl From<Args> for RunOptions {
    fn from(a: Args) -> Self {
        RunOptions {
            paths: a.paths,
            tags: a.tags,
            name: a.name,
            seed: a.seed,
            junit: a.junit,
            json: a.json,
            shard: a.shard,
            check_determinism: a.check_determinism,
            capture: a.capture,
            html: a.html,
            jobs: a.jobs,
            quiet: a.quiet,
        }
    }
}

/// Run; exit 1 when a scenario failed, a step is undefined or a timeline differed.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let opts = RunOptions::from(args);
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(ConsoleSink::stdout(!opts.quiet))];
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        sinks.push(Box::new(ProgressSink::new()));
    }
    let summary = runner::run_with(&opts, sinks)?;
    Ok(if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
