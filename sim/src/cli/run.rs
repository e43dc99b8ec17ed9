//! `sim run [PATHS…]`: run feature files; the clap arguments convert into the runner's
//! [`RunOptions`]; the console (and, on a terminal, the progress indicator) are sinks
//! of the run's events. `--list` prints the selected scenarios without running them.

use std::path::PathBuf;
use std::process::ExitCode;

use sim::report::console::ConsoleSink;
use sim::report::progress::ProgressSink;
use sim::runner::{self, RunOptions};
use sim_steps::sink::Sink;

/// Run feature files (default: `features/`); exit code 0 only when all pass.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "sim run features",
    "sim run features/alert_sms.feature:17 --seed 0      # one scenario, or one outline row",
    "sim run features --tags '@smoke and not @slow' -j 4",
    "sim run features --check-determinism --junit target/junit.xml --json-out target/cucumber.json",
    "sim run features --shard 1/2 --quiet                # machine 1 of 2",
    "sim run features --list",
))]
pub(crate) struct Args {
    /// Feature files or folders (default `features/`); `FILE:LINE` runs the scenario
    /// covering that line, or the one example row at that line.
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
    /// Write JUnit XML to FILE (one testsuite per feature, one testcase per scenario).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write Cucumber JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
    /// Deprecated: `--json-out FILE`.
    #[arg(long, value_name = "FILE", hide = true, conflicts_with = "json_out")]
    json: Option<PathBuf>,
    /// Run shard K of N (1-based), e.g. 2/4: N machines together run each scenario
    /// once, the shards differing by at most one scenario.
    #[arg(long, value_parser = super::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Run every scenario twice; fail any whose event timeline differs.
    #[arg(long)]
    check_determinism: bool,
    /// Write each scenario's BLE traffic as a btsnoop file into DIR.
    #[arg(long, value_name = "DIR")]
    capture: Option<PathBuf>,
    /// Write one self-contained interactive HTML report of the run (steps, results,
    /// plots).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write each scenario's run as Chrome trace-event JSON (ui.perfetto.dev) into DIR.
    #[arg(long, value_name = "DIR")]
    perfetto: Option<PathBuf>,
    /// Scenarios run in parallel on this many threads (0 = all cores).
    #[arg(long, short, default_value_t = 0)]
    jobs: usize,
    /// Only the summary, not every step.
    #[arg(long, short)]
    quiet: bool,
    /// Print the selected scenarios (FILE:LINE and test name) without running them.
    #[arg(long)]
    list: bool,
    /// Stop starting scenarios after the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Selecting no scenario is not an error (exit 0 instead of 2).
    #[arg(long)]
    allow_empty: bool,
}

impl From<Args> for RunOptions {
    fn from(a: Args) -> Self {
        RunOptions {
            paths: a.paths,
            tags: a.tags,
            name: a.name,
            seed: a.seed,
            junit: a.junit,
            json: a.json_out.or(a.json),
            shard: a.shard,
            check_determinism: a.check_determinism,
            capture: a.capture,
            html: a.html,
            perfetto: a.perfetto,
            jobs: a.jobs,
            quiet: a.quiet,
            fail_fast: a.fail_fast,
        }
    }
}

/// `--list`: the selected scenarios, or the problems that stop the run.
fn list(opts: &RunOptions, allow_empty: bool) -> anyhow::Result<ExitCode> {
    let plan = runner::plan(opts)?;
    for p in &plan.problems {
        eprintln!("error: {p}");
    }
    for p in &plan.scenarios {
        println!("{}:{}\t{}", p.info.meta.file, p.info.meta.line, p.name);
    }
    if !plan.problems.is_empty() {
        return Ok(super::bad_input());
    }
    if plan.scenarios.is_empty() && !allow_empty {
        eprintln!("error: no scenario selected (--allow-empty to accept)");
        return Ok(super::bad_input());
    }
    Ok(ExitCode::SUCCESS)
}

/// Run; exit 1 when a scenario failed or a timeline differed, 2 on bad input.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    if args.json.is_some() {
        eprintln!("warning: `--json FILE` is deprecated on `sim run`: use `--json-out FILE`");
    }
    let (list_only, allow_empty) = (args.list, args.allow_empty);
    let opts = RunOptions::from(args);
    if list_only {
        return list(&opts, allow_empty);
    }
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(ConsoleSink::stdout(!opts.quiet))];
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        sinks.push(Box::new(ProgressSink::new()));
    }
    // Problems are in the console's closing lines.
    let summary = runner::run_with(&opts, sinks)?;
    if summary.problems.is_empty() && summary.selected == 0 && !allow_empty {
        eprintln!("error: no scenario selected (--allow-empty to accept)");
    }
    Ok(ExitCode::from(summary.exit_code(allow_empty)))
}
