//! The `sim` command line: run feature suites, replay traces, evaluate the fall
//! detector, list steps, validate files, estimate battery life. This file only parses
//! the arguments and dispatches to the subcommand's module under [`cli`].

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hardware-in-the-loop harness for BLE personal-alarm buttons: runs Gherkin scenarios
/// on a deterministic simulation of the button, the BLE link and the phone app.
#[derive(Parser, Debug)]
#[command(
    name = "sim",
    version,
    about,
    after_help = "Exit codes (every subcommand): 0 everything passed; 1 a scenario or check \
                  failed; 2 bad input or usage (unparsable feature, undefined step, bad \
                  argument, unreadable trace or profile, nothing selected unless \
                  --allow-empty). `sim help COMMAND` has examples."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run feature files (default: `features/`); exit code 0 only when all pass.
    Run(cli::run::Args),
    /// Replay one trace through button, link and phone; print the event timeline.
    Replay(cli::replay::Args),
    /// Fall-detector evaluation.
    Falls(cli::falls::Args),
    /// Simulate N independent wearers for H hours each, with random gestures, falls and
    /// faults, on all cores; print alerts, delivery latency, lost and duplicated.
    Fleet(cli::fleet::Args),
    /// Measure speed and memory (used by `cargo xtask bench`; run it in a release build).
    #[command(hide = true)]
    Bench(cli::bench::Args),
    /// Hardware in the loop: a real button over a real BLE adapter (cargo feature `hil`).
    Hil(cli::hil::Args),
    /// Print every step the harness understands, with an example each.
    Steps(cli::steps::Args),
    /// Check features, traces and device profiles (files or folders) without running
    /// them: exactly the checks `sim run` makes before its first step.
    Validate(cli::validate::Args),
    /// Estimate the button's battery lifetime.
    Battery(cli::battery::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Run(a) => cli::run::exec(a),
        Cmd::Replay(a) => cli::replay::exec(a),
        Cmd::Falls(a) => cli::falls::exec(a),
        Cmd::Fleet(a) => cli::fleet::exec(a),
        Cmd::Bench(a) => cli::bench::exec(a),
        Cmd::Hil(a) => cli::hil::exec(a),
        Cmd::Steps(a) => cli::steps::exec(a),
        Cmd::Validate(a) => cli::validate::exec(a),
        Cmd::Battery(a) => cli::battery::exec(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
