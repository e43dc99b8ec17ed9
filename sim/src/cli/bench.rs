//! `sim bench` (hidden): the speed and memory figures of `cargo xtask bench`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Measure speed and memory (used by `cargo xtask bench`; run it in a release build).
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!("cargo build --release -p sim && target/release/sim bench --runs 5 --json"))]
pub(crate) struct Args {
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The bundled feature suite.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Only these figures (ids, comma-separated: a,a',b,c,d,e,f; m for the memory ones).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// Measure and print the figures.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let figs = sim::bench::run(args.runs, &args.features, &args.only)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figs)?);
    } else {
        print!("{}", sim::bench::table(&figs));
    }
    Ok(ExitCode::SUCCESS)
}
