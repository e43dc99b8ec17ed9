//! Developer and CI automation: `cargo xtask ci | soak`.
//!
//! - `ci`: what `.ci/run` does (tests, the bundled suite with the determinism check,
//!   clippy with and without `hil`, rustfmt);
//! - `soak --cases N`: the delivery property test over N random fault schedules;
//! - `tune-falls --exclude SUBJECT`: fit the fall detector, score the left-out subject;
//! - `gen-traces`: regenerate the synthetic traces under `scenarios/traces/`.

mod gen_traces;
mod tune_falls;

use std::process::Command;

use anyhow::{bail, Context as _};

fn run(cmd: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {cmd} {}", args.join(" "));
    let st = Command::new(cmd)
        .args(args)
        .status()
        .with_context(|| format!("starting {cmd}"))?;
    if !st.success() {
        bail!("{cmd} {} failed ({st})", args.join(" "));
    }
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    run("cargo", &["test", "--workspace"])?;
    run(
        "cargo",
        &[
            "run",
            "-q",
            "-p",
            "sim",
            "--",
            "run",
            "features",
            "--check-determinism",
            "--quiet",
        ],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "sim",
            "--all-targets",
            "--features",
            "hil",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["fmt", "--all", "--check"])
}

/// `soak --cases N`: the delivery property test with N random fault schedules.
fn soak(args: &[String]) -> anyhow::Result<()> {
    let cases = match args {
        [flag, n] if flag == "--cases" => n.parse::<u64>().context("--cases takes a number")?,
        [] => 100_000,
        _ => bail!("usage: cargo xtask soak [--cases N]"),
    };
    eprintln!("soak: {cases} random fault schedules");
    let st = Command::new("cargo")
        .args([
            "test",
            "--release",
            "-p",
            "sim",
            "--test",
            "delivery_props",
            "--",
            "--nocapture",
        ])
        .env("SOAK_CASES", cases.to_string())
        .status()
        .context("starting cargo")?;
    if !st.success() {
        bail!("soak failed");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("soak") => soak(&args[1..]),
        Some("tune-falls") => tune_falls::run(&args[1..]),
        Some("gen-traces") => gen_traces::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci | soak [--cases N] | tune-falls | gen-traces>");
            bail!("unknown or missing subcommand")
        }
    }
}
