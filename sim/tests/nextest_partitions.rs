//! The scenarios as nextest tests: `cargo nextest list` shows exactly one test per
//! scenario and outline row of `features/` (named `feature::scenario[::row]`), and
//! `cargo nextest run --partition count:1/2` and `count:2/2` together run each of them
//! exactly once, in two nearly equal halves. Skipped with a notice when cargo-nextest
//! is not installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use sim::runner::{self, RunOptions};

/// `cargo nextest ARGS` in the workspace, with the outer nextest run's variables removed.
fn nextest(args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("nextest")
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    for (k, _) in std::env::vars() {
        if k.starts_with("NEXTEST") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("run cargo nextest")
}

fn installed() -> bool {
    nextest(&["--version"]).status.success()
}

/// The scenario test names the runner plans for `features/`.
fn planned_names() -> Vec<String> {
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");
    let plan = runner::plan(&RunOptions {
        paths: vec![features.display().to_string()],
        ..RunOptions::default()
    })
    .expect("plan");
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    let mut names: Vec<String> = plan.scenarios.into_iter().map(|p| p.name).collect();
    names.sort();
    names
}

/// The names `cargo nextest list` shows for the scenario tests.
fn listed_names() -> Vec<String> {
    let out = nextest(&[
        "list",
        "-p",
        "sim",
        "--test",
        "scenarios",
        "--message-format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("nextest list json");
    let suites = v["rust-suites"].as_object().expect("rust-suites");
    let mut names = Vec::new();
    for suite in suites.values() {
        if let Some(cases) = suite["testcases"].as_object() {
            names.extend(cases.keys().cloned());
        }
    }
    names.sort();
    names
}

/// The tests a partition ran and passed (from nextest's `PASS` lines).
fn partition(k: u32) -> Vec<String> {
    let part = format!("count:{k}/2");
    let out = nextest(&[
        "run",
        "-p",
        "sim",
        "--test",
        "scenarios",
        "--partition",
        &part,
        "--no-fail-fast",
        "--status-level",
        "pass",
        "--final-status-level",
        "none",
        "--color",
        "never",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "partition {part}:\n{err}");
    err.lines()
        .filter(|l| l.trim_start().starts_with("PASS"))
        .filter_map(|l| {
            l.split_once("sim::scenarios ")
                .map(|(_, n)| n.trim().to_string())
        })
        .collect()
}

#[test]
fn nextest_lists_each_scenario_once_and_two_partitions_run_each_exactly_once() {
    if !installed() {
        println!("notice: cargo-nextest is not installed; skipping the nextest partition check");
        return;
    }
    let planned = planned_names();
    assert!(planned.len() >= 10, "{planned:?}");
    assert_eq!(listed_names(), planned);
    let (a, b) = (partition(1), partition(2));
    assert!(
        a.len().abs_diff(b.len()) <= 1,
        "uneven partitions: {} and {}",
        a.len(),
        b.len()
    );
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for n in a.into_iter().chain(b) {
        *runs.entry(n).or_default() += 1;
    }
    let ran: Vec<String> = runs.keys().cloned().collect();
    assert_eq!(ran, planned, "every scenario runs in one of the partitions");
    assert!(
        runs.values().all(|&n| n == 1),
        "a scenario ran twice: {runs:?}"
    );
}
