//! `sim falls eval DIR`: the fall detector over a folder of traces.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

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
    Eval {
        /// Folder of traces (searched recursively).
        dir: PathBuf,
        /// A device profile whose accelerometer and fall settings to use.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Evaluate and print the figures.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let FallsCmd::Eval { dir, profile, json } = args.cmd;
    let profile = super::load_profile(profile.as_deref())?;
    if !dir.is_dir() {
        bail!("{}: not a folder", dir.display());
    }
    let report = sim::falls_eval::eval_dir(&dir, &profile.accel, &profile.fall, &[])?;
    print!("{}", sim::falls_eval::render(&report, json));
    Ok(ExitCode::SUCCESS)
}
