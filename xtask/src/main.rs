//! Developer and CI automation: `cargo xtask ci | soak`.
//!
//! - `ci`: what `.ci/run` does (tests, the bundled suite with the determinism check,
//!   clippy with and without `hil`, rustfmt);
//! - `bench [--runs N] [--only IDS]`: speed and memory figures (release build),
//!   `target/bench.json`; `--only m` gives the firmware core's memory alone, with the
//!   stack depth of one `Button::handle` call (m7, static, needs `cargo +nightly`);
//! - `soak --cases N`: the delivery property test over N random fault schedules;
//! - `tune-falls --exclude SUBJECT`: fit the fall detector, score the left-out subject;
//! - `gen-traces`: regenerate the synthetic traces under `scenarios/traces/`;
//! - `layers`: check the crate layering of ARCHITECTURE.md against `cargo metadata`;
//! - `browser-test [--suite FILE]`: open a replay report and a suite report in headless
//!   Chromium, check them and save screenshots (`target/ci/browser/`);
//! - `report-day [--hours H]`: a 24-hour synthetic capture into the interactive report,
//!   with its size and load time;
//! - `hil-rehearsal`: the BlueZ D-Bus rehearsal of the hardware paths
//!   (`scripts/hil-rehearsal.sh`: a private bus, bluezoo, `sim hil serve` and
//!   `sim hil run`; docs/hil.md);
//! - `fuzz [--seconds N] [--target NAME]`: every cargo-fuzz target of `fuzz/` for N
//!   seconds each, with executions and coverage per target.

mod browser_test;
mod cdp;
mod fuzz;
mod gen_traces;
mod layers;
mod report_day;
mod stack;
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
    // One definition of CI: the script the CI machine runs.
    run("bash", &[".ci/run"])
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

/// `bench [--runs N] [--only IDS]`: build `sim` in release, run its measurements (or
/// only those named, comma-separated), print the table and write `target/bench.json`.
fn bench(args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: cargo xtask bench [--runs N] [--only IDS]";
    let (mut runs, mut only) = (5, String::new());
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().context(usage)?;
        match flag.as_str() {
            "--runs" => runs = value.parse::<usize>().context("--runs takes a number")?,
            "--only" => only = value.clone(),
            _ => bail!(usage),
        }
    }
    run("cargo", &["build", "--release", "-q", "-p", "sim"])?;
    // The build's target folder: `CARGO_TARGET_DIR` when set, else `target`.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from("target"),
        std::path::PathBuf::from,
    );
    let sim = target.join("release/sim");
    let runs_text = runs.to_string();
    let mut sim_args = vec![
        "bench",
        "--json",
        "--runs",
        &runs_text,
        "--features",
        "features",
    ];
    if !only.is_empty() {
        sim_args.extend(["--only", &only]);
    }
    let out = Command::new(&sim)
        .args(&sim_args)
        .output()
        .context("running sim bench")?;
    if !out.status.success() {
        bail!("sim bench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut figs: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading sim bench output")?;
    let notes = if only.is_empty() || only.split(',').any(|o| o.starts_with('m')) {
        stack_figure(&target, &mut figs)?
    } else {
        Vec::new()
    };
    let machine = serde_json::json!({
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "runs": runs,
    });
    let doc = serde_json::json!({ "machine": machine, "figures": figs });
    let json = target.join("bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(&doc)?)
        .with_context(|| format!("writing {}", json.display()))?;
    println!(
        "{:<3} {:<66} {:>14} {:<12} {:<24} met",
        "", "measure (median of runs)", "value", "unit", "goal"
    );
    for f in figs.as_array().into_iter().flatten() {
        println!(
            "{:<3} {:<66} {:>14.3} {:<12} {:<24} {}",
            f["id"].as_str().unwrap_or(""),
            f["what"].as_str().unwrap_or(""),
            f["value"].as_f64().unwrap_or(0.0),
            f["unit"].as_str().unwrap_or(""),
            f["goal"].as_str().unwrap_or(""),
            if f["met"].as_bool().unwrap_or(false) {
                "yes"
            } else {
                "NO"
            }
        );
    }
    for n in notes {
        println!("{n}");
    }
    println!("written: {}", json.display());
    Ok(())
}

/// Figures m7 and m8, the stack depth of one `Button::handle` call ([`stack`]) with
/// and without pairing, appended to `figs`; the lines to print under the table (each
/// worst path and what the analysis does not see, or why it was skipped).
fn stack_figure(
    target: &std::path::Path,
    figs: &mut serde_json::Value,
) -> anyhow::Result<Vec<String>> {
    let [all, no_pairing] = match stack::measure(target)? {
        stack::Outcome::Skipped(why) => {
            return Ok(vec![format!(
                "m7  stack depth of one handle call: skipped: {why}"
            )])
        }
        stack::Outcome::Measured(d) => d,
    };
    let mut notes = Vec::new();
    for (id, what, d) in [
        (
            "m7",
            "stack, one Button::handle call (static, x86-64 host, release)",
            &all,
        ),
        ("m8", "  the same, pairing (X25519) left out", &no_pairing),
    ] {
        if let Some(a) = figs.as_array_mut() {
            a.push(serde_json::json!({
                "id": id, "what": what, "value": d.bytes, "unit": "B",
                "goal": "(figure)", "met": true, "runs": [d.bytes],
            }));
        }
        notes.push(format!(
            "{id}: -Z emit-stack-sizes frames + objdump call graph, {} functions reachable; \
             not counted: {} without a recorded frame (std, alloc, libc), {} indirect calls \
             (not followed), {} recursion cycles. Deepest path (frame bytes, function):",
            d.reachable, d.unknown, d.indirect, d.cycles
        ));
        for (f, size) in &d.path {
            let size = size.map_or("?".to_string(), |s| s.to_string());
            let f: String = f.chars().take(110).collect();
            notes.push(format!("      {size:>6}  {f}"));
        }
    }
    Ok(notes)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("soak") => soak(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("tune-falls") => tune_falls::run(&args[1..]),
        Some("gen-traces") => gen_traces::run(&args[1..]),
        Some("layers") => layers::run(),
        // One definition of the rehearsal: the script CI runs.
        Some("hil-rehearsal") => run("bash", &["scripts/hil-rehearsal.sh"]),
        Some("browser-test") => browser_test::browser_test(&args[1..]),
        Some("report-day") => report_day::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci | bench [--runs N] [--only IDS] | soak [--cases N] | tune-falls | gen-traces | layers | hil-rehearsal | browser-test [--suite FILE] | report-day [--hours H] | fuzz [--seconds N] [--target NAME]>");
            bail!("unknown or missing subcommand")
        }
    }
}
