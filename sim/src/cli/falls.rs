//! `sim falls eval DIR`: the fall detector over a folder of traces.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};

/// Fall-detector evaluation.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(subcommand)]
    cmd: FallsCmd,
}

#[derive(clap::Subcommand, Debug)]
enum FallsCmd {
    /// Run the fall detector over every trace under DIR (SisFall naming: F* falls,
    /// D* daily activities) and print the confusion matrix and per-code figures.
    #[command(after_help = after_help!(
        "sim falls eval ../shared/data/sisfall-dev",
        "sim falls eval ../shared/data/sisfall-dev --json",
        "sim falls eval DIR --device-profile scenarios/profiles/default.json --json-out target/falls.json",
    ))]
    Eval {
        /// Folder of traces (searched recursively).
        dir: PathBuf,
        /// A device profile whose accelerometer and fall settings to use.
        #[arg(long, value_name = "FILE")]
        device_profile: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Write the JSON object to FILE.
        #[arg(long, value_name = "FILE")]
        json_out: Option<PathBuf>,
    },
}

/// Evaluate and print the figures.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let FallsCmd::Eval {
        dir,
        device_profile,
        json,
        json_out,
    } = args.cmd;
    let profile = super::load_profile(device_profile.as_deref())?;
    if !dir.is_dir() {
        bail!("{}: not a folder", dir.display());
    }
    let report = sim::falls_eval::eval_dir(&dir, &profile.accel, &profile.fall, &[])?;
    if let Some(out) = &json_out {
        let text = sim::falls_eval::render(&report, true);
        std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    }
    if json || json_out.is_none() {
        print!("{}", sim::falls_eval::render(&report, json));
    }
    Ok(ExitCode::SUCCESS)
}
