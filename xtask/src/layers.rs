//! `cargo xtask layers`: checks the crate layering stated in ARCHITECTURE.md against
//! `cargo metadata`: which workspace crates each crate may depend on, which external
//! crates must not appear among its (transitive, normal) dependencies, and that no
//! library crate uses `anyhow` directly. Then the firmware core's proof: `firmware` is
//! `#![no_std]` without `extern crate alloc`, builds alone (so `protocol` comes without
//! its `std` feature: any `std::` or `alloc::` path in either is a compile error), and
//! passes clippy with its lib's denials (`unwrap`, `expect`, indexing, `panic!`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{bail, Context as _};
use serde_json::Value;

/// A crate, the workspace crates it may use, the lists of crates it must not pull in.
type Rule = (
    &'static str,
    &'static [&'static str],
    &'static [&'static [&'static str]],
);

/// Per crate: the workspace crates it may use directly, and the external crates that
/// must not be anywhere in its normal dependency tree (the union of the lists given).
const RULES: &[Rule] = &[
    ("protocol", &[], &[CORE_FORBIDDEN]),
    (
        "firmware",
        &["protocol"],
        &[CORE_FORBIDDEN, FIRMWARE_ALSO_FORBIDDEN],
    ),
    ("device-model", &["protocol", "firmware"], &[CORE_FORBIDDEN]),
    ("phone", &["protocol"], &[CORE_FORBIDDEN]),
    ("sim-traces", &[], &[CORE_FORBIDDEN]),
    (
        "sim-world",
        &["protocol", "device-model", "phone", "sim-traces"],
        &[CORE_FORBIDDEN],
    ),
    (
        "sim-steps",
        &[
            "protocol",
            "device-model",
            "phone",
            "sim-traces",
            "sim-world",
        ],
        &[&["btleplug", "bluer"]],
    ),
    (
        "sim-rig",
        &[
            "protocol",
            "device-model",
            "phone",
            "sim-traces",
            "sim-world",
            "sim-steps",
        ],
        &[],
    ),
];

/// No async runtime, no CLI parser, no test framework, no BLE stack, no anyhow in the
/// core crates and the world.
const CORE_FORBIDDEN: &[&str] = &[
    "tokio",
    "clap",
    "cucumber",
    "btleplug",
    "bluer",
    "futures",
    "indicatif",
];

/// The firmware core, beyond the core crates' list: nothing that needs std or a heap
/// in its tree either.
const FIRMWARE_ALSO_FORBIDDEN: &[&str] = &["serde_json", "regex", "anyhow", "proptest"];

/// Library crates keep one error enum each: `anyhow` only in binaries and xtask.
const NO_DIRECT_ANYHOW: &str = "anyhow";

fn metadata() -> anyhow::Result<Value> {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).context("reading cargo metadata")
}

/// Package id → (name, normal dependency ids).
fn graph(meta: &Value) -> BTreeMap<String, (String, Vec<String>)> {
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut g = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| d["pkg"].as_str().map(String::from))
            .collect();
        let name = names.get(id).copied().unwrap_or(id).to_string();
        g.insert(id.to_string(), (name, deps));
    }
    g
}

fn closure(g: &BTreeMap<String, (String, Vec<String>)>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(id) = todo.pop() {
        if let Some((_, deps)) = g.get(&id) {
            for d in deps {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
    }
    seen.into_iter()
        .filter_map(|id| g.get(&id).map(|n| n.0.clone()))
        .collect()
}

/// Check every rule; print one line per crate; fail on any violation.
pub fn run() -> anyhow::Result<()> {
    let meta = metadata()?;
    let g = graph(&meta);
    let members: BTreeSet<String> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(|id| g.get(id)).map(|n| n.0.clone()))
        .collect();
    let mut problems = Vec::new();
    for &(name, allowed, forbidden) in RULES {
        let Some((id, (_, direct))) = g.iter().find(|(_, (n, _))| n == name) else {
            problems.push(format!("{name}: not in the workspace"));
            continue;
        };
        let direct: BTreeSet<String> = direct
            .iter()
            .filter_map(|d| g.get(d))
            .map(|n| n.0.clone())
            .collect();
        if direct.contains(NO_DIRECT_ANYHOW) {
            problems.push(format!(
                "{name} uses anyhow: a library crate has its own error enum"
            ));
        }
        for d in direct.iter().filter(|d| members.contains(*d)) {
            if !allowed.contains(&d.as_str()) {
                problems.push(format!(
                    "{name} depends on {d}, which its layer may not use"
                ));
            }
        }
        let all = closure(&g, id);
        for f in forbidden
            .iter()
            .copied()
            .flatten()
            .filter(|f| all.contains(**f))
        {
            problems.push(format!("{name} pulls in {f} (forbidden in its layer)"));
        }
        println!(
            "{name:<13} ok to use {allowed:?}; {} crates in its tree",
            all.len()
        );
    }
    if !problems.is_empty() {
        bail!("layering violated:\n  {}", problems.join("\n  "));
    }
    println!("layers: ok");
    no_std_core()
}

/// Run `cargo` with `args`; its output on failure.
fn cargo(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("cargo")
        .args(args)
        .output()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "cargo {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The firmware core builds as `no_std` without a heap, and its lib's clippy denials hold.
fn no_std_core() -> anyhow::Result<()> {
    let lib =
        std::fs::read_to_string("firmware/src/lib.rs").context("reading firmware/src/lib.rs")?;
    let code: String = lib
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    if !code.contains("#![no_std]") || code.contains("extern crate alloc") {
        bail!("firmware/src/lib.rs must be #![no_std] without extern crate alloc");
    }
    for lint in ["unwrap_used", "expect_used", "indexing_slicing", "panic"] {
        if !code.contains(&format!("clippy::{lint}")) {
            bail!("firmware/src/lib.rs must deny clippy::{lint}");
        }
    }
    // Alone, so that no other crate of the workspace turns protocol's `std` on.
    cargo(&["build", "-q", "-p", "firmware", "--lib"])?;
    // Normal edges only: the tests (dev-dependencies) may sign commands with std.
    let features = cargo(&[
        "tree",
        "-p",
        "firmware",
        "-e",
        "normal,features",
        "--prefix",
        "none",
    ])?;
    if let Some(l) = features
        .lines()
        .find(|l| l.starts_with("protocol feature \"std\""))
    {
        bail!("firmware's build turns protocol's std on: {l}");
    }
    cargo(&[
        "clippy", "-q", "-p", "firmware", "--lib", "--", "-D", "warnings",
    ])?;
    println!(
        "firmware      no_std, no alloc: builds alone, protocol without std; clippy denials hold"
    );
    Ok(())
}
