//! `sim validate PATH`: parse and check a feature, trace or device profile without
//! running it.

use std::path::PathBuf;
use std::process::ExitCode;

use sim::runner;

/// Parse and check a feature or trace file without running it.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// A `.feature` file, a trace, or a device profile (`.json` with a profile's fields).
    path: PathBuf,
}

/// Check the file; exit 1 when a feature has problems, 2 when a file is unreadable.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let path = args.path;
    if path.extension().is_some_and(|e| e == "feature") {
        let problems = runner::validate_feature(&path);
        for p in &problems {
            eprintln!("error: {p}");
        }
        if problems.is_empty() {
            println!("{}: ok", path.display());
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(ExitCode::FAILURE);
    }
    if path.extension().is_some_and(|e| e == "json")
        && std::fs::read_to_string(&path).is_ok_and(|t| !t.contains("\"trace\""))
    {
        device_model::DeviceProfile::load(&path)?;
        println!("{}: ok (device profile)", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut n = 0u64;
    for rec in sim::trace::open_trace(&path)? {
        rec?;
        n += 1;
    }
    println!("{}: ok ({n} records)", path.display());
    Ok(ExitCode::SUCCESS)
}
