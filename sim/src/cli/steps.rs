//! `sim steps`: every step the harness understands, with an example each.

use std::process::ExitCode;

use sim::steps::{self, Kind};

/// Print every step the harness understands, with an example each.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!("sim steps", "sim steps | grep SMS"))]
pub(crate) struct Args {}

/// Print the catalogue, grouped by keyword.
pub(crate) fn exec(_args: Args) -> anyhow::Result<ExitCode> {
    for kind in [Kind::Given, Kind::When, Kind::Then] {
        println!("{}:", kind.name());
        for (d, _) in steps::catalogue().iter().filter(|(d, _)| d.kind == kind) {
            let within = if d.check {
                "  [also: within {n} s ...]"
            } else {
                ""
            };
            println!(
                "  {} {}{within}\n      e.g. {} {}",
                kind.name(),
                d.pattern,
                kind.name(),
                d.example
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
