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
    /// D* daily activities; FallAllD waist files by activity id, 101-135 falls)
    /// and print the confusion matrix, per dataset and subject, per-code figures
    /// and every miss and false alarm. An unreadable file is counted and named;
    /// the exit code is then 2, after the matrix.
    #[command(after_help = after_help!(
        "sim falls eval ../shared/data/sisfall-dev",
        "sim falls eval ../shared/data/fallalld-dev --json",
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
    /// Run the detector over N continuous synthetic wearer-days (sitting,
    /// walking, stairs, lying down, getting up, putting the button down) and
    /// print the false alarms per wearer-day.
    Days {
        /// Number of days.
        #[arg(default_value_t = 20)]
        days: u64,
        /// First seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A device profile whose accelerometer and fall settings to use.
        #[arg(long, value_name = "FILE")]
        device_profile: Option<PathBuf>,
    },
}

/// Evaluate and print the figures.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, device_profile, json, json_out) = match args.cmd {
        FallsCmd::Eval {
            dir,
            device_profile,
            json,
            json_out,
        } => (dir, device_profile, json, json_out),
        FallsCmd::Days {
            days,
            seed,
            device_profile,
        } => return days_figure(days, seed, device_profile),
    };
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
    if report.unreadable.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} file(s) could not be read (listed above)",
            report.unreadable.len()
        );
        Ok(ExitCode::from(2))
    }
}

/// `sim falls days N`: false alarms per synthetic wearer-day.
fn days_figure(days: u64, seed: u64, device_profile: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let profile = super::load_profile(device_profile.as_deref())?;
    let s = sim::long_day::run_days(&profile.fall, profile.accel.odr_hz, days, seed);
    let rate = s.falls as f64 / days.max(1) as f64;
    println!(
        "{days} synthetic wearer-days (seeds {seed}..): {rate:.3} false alarms per wearer-day ({} falls raised; {} put-downs on a table, {} rejected by the off-body stage)",
        s.falls, s.put_downs, s.off_body
    );
    Ok(ExitCode::SUCCESS)
}
