//! Developer and CI automation: `cargo xtask ci | bench`.
//!
//! - `ci`: what `.ci/run` does (tests, the bundled suite with the determinism check,
//!   clippy with and without `hil`, rustfmt).

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

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        _ => {
            eprintln!("usage: cargo xtask <ci>");
            bail!("unknown or missing subcommand")
        }
    }
}
