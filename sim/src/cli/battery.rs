//! `sim battery`: the button's battery lifetime estimate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use device_model::power::{CellProfile, PowerProfile};

/// Estimate the button's battery lifetime.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "sim battery",
    "sim battery --cell scenarios/profiles/cells/cr2032.json --presses-per-day 5 --json",
))]
pub(crate) struct Args {
    /// A cell profile (JSON, see scenarios/profiles/cells/); default CR2032.
    #[arg(long, value_name = "FILE")]
    cell: Option<PathBuf>,
    /// Alert presses per day.
    #[arg(long, default_value_t = 2.0)]
    presses_per_day: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Write the JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
}

/// A cell profile from a file (errors name file, line and column).
fn load_cell(p: &Path) -> anyhow::Result<CellProfile> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    let cell: CellProfile = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: {e}", p.display(), e.line(), e.column()))?;
    cell.validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    Ok(cell)
}

/// Estimate and print.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let cell = match &args.cell {
        Some(p) => load_cell(p)?,
        None => CellProfile::cr2032(),
    };
    if !(0.0..=1000.0).contains(&args.presses_per_day) {
        bail!("--presses-per-day must be within 0..=1000");
    }
    let est = sim::battery::estimate(&cell, &PowerProfile::default(), args.presses_per_day);
    super::emit_json(&est.to_json(), args.json, args.json_out.as_deref())?;
    if !args.json {
        print!("{}", est.to_table());
    }
    Ok(ExitCode::SUCCESS)
}
