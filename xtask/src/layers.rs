//! `cargo xtask layers`: checks the crate layering stated in ARCHITECTURE.md against
//! `cargo metadata`: which workspace crates each crate may depend on, which external
//! crates must not appear among its (transitive, normal) dependencies, and that no
//! library crate uses `anyhow` directly. Then the firmware core's proof, for
//! `protocol --no-default-features` and for `firmware` built alone (so `protocol` comes
//! without its `std` feature): each lib is `no_std` without `extern crate alloc` (any
//! `std::` or `alloc::` path is a compile error), builds, has no `std` or `alloc`
//! feature on anywhere in its dependency tree, and passes clippy with its lib's denials
//! (`unwrap`, `expect`, indexing, `panic!`).

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

/// The firmware core and `protocol` without its `std` feature build as `no_std` without
/// a heap, and their libs' clippy denials hold.
fn no_std_core() -> anyhow::Result<()> {
    // `protocol` first: the firmware's build below is the same code with the same
    // features, plus the firmware's own.
    no_std_crate(&NoStd {
        name: "protocol",
        marker: "#![cfg_attr(not(feature = \"std\"), no_std)]",
        args: &["--no-default-features"],
        note: "without std;",
    })?;
    // Alone, so that no other crate of the workspace turns protocol's `std` on.
    no_std_crate(&NoStd {
        name: "firmware",
        marker: "#![no_std]",
        args: &[],
        note: "builds alone, protocol without std;",
    })
}

/// A crate that must build `no_std` without a heap.
struct NoStd {
    /// The package (its lib is `<name>/src/lib.rs`).
    name: &'static str,
    /// The attribute that makes its lib `no_std` (in that build).
    marker: &'static str,
    /// Cargo arguments selecting that build.
    args: &'static [&'static str],
    /// What the build shows, for the summary line.
    note: &'static str,
}

/// `krate`'s lib is `no_std` without `extern crate alloc` and denies the four lints;
/// it builds; no crate in its (normal) tree has a `std` or `alloc` feature on; clippy
/// passes.
fn no_std_crate(krate: &NoStd) -> anyhow::Result<()> {
    let name = krate.name;
    let path = format!("{name}/src/lib.rs");
    let lib = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let code: String = lib
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    if !code.contains(krate.marker) || code.contains("extern crate alloc") {
        bail!("{path} must be {} without extern crate alloc", krate.marker);
    }
    for lint in ["unwrap_used", "expect_used", "indexing_slicing", "panic"] {
        if !code.contains(&format!("clippy::{lint}")) {
            bail!("{path} must deny clippy::{lint}");
        }
    }
    let with = |head: &[&'static str], tail: &[&'static str]| {
        let mut v: Vec<&str> = head.to_vec();
        v.extend_from_slice(krate.args);
        v.extend_from_slice(tail);
        v
    };
    cargo(&with(&["build", "-q", "-p", name, "--lib"], &[]))?;
    // Normal edges only: the tests (dev-dependencies) may use std.
    let features = cargo(&with(
        &[
            "tree",
            "-p",
            name,
            "-e",
            "normal,features",
            "--prefix",
            "none",
        ],
        &[],
    ))?;
    if let Some(l) = features
        .lines()
        .find(|l| l.contains("feature \"std\"") || l.contains("feature \"alloc\""))
    {
        bail!("{name}'s no_std build turns a std or alloc feature on: {l}");
    }
    cargo(&with(
        &["clippy", "-q", "-p", name, "--lib"],
        &["--", "-D", "warnings"],
    ))?;
    println!(
        "{name:<13} no_std, no alloc: {} no std/alloc feature in its tree; clippy denials hold",
        krate.note
    );
    Ok(())
}
