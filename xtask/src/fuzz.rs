//! `cargo xtask fuzz [--seconds N] [--target NAME]`: build the fuzz targets of `fuzz/`
//! with `cargo fuzz build -s none` (stable Rust, no sanitizer) and run each for N
//! seconds (default 60) from its seed corpus (`fuzz/corpus/<target>`, read only; what
//! libFuzzer finds goes to `target/fuzz/corpus/<target>`) with its dictionary
//! (`fuzz/dicts/`). Prints, per target, the executions, coverage (libFuzzer's `cov`
//! edges and `ft` features) and the corpus size; a crash fails the run and leaves its
//! input under `target/fuzz/artifacts/<target>/` — every one becomes a unit test.
//! Needs `cargo install cargo-fuzz` (it is installed when missing).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

/// Every target, with its dictionary.
pub const TARGETS: &[(&str, &str)] = &[
    ("wire_to_phone", "wire.dict"),
    ("wire_to_button", "wire.dict"),
    ("button_write", "wire.dict"),
    ("phone_frames", "wire.dict"),
    ("trace_jsonl", "json.dict"),
    ("trace_csv", "csv.dict"),
    ("trace_sisfall", "csv.dict"),
    ("trace_fallalld", "csv.dict"),
    ("profile_json", "json.dict"),
    ("feature_validate", "feature.dict"),
    ("store_load", "store.dict"),
];

/// Where the fuzz build goes (its own target dir: other flags than the workspace's).
fn target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| "target/fuzz-build".into(), |d| format!("{d}-fuzz"))
}

/// What libFuzzer said at the end of a run.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    /// Executions.
    pub execs: u64,
    /// Coverage: edges (`cov`).
    pub cov: u64,
    /// Coverage: features (`ft`).
    pub ft: u64,
    /// Corpus entries.
    pub corpus: u64,
}

/// The figures of libFuzzer's last status line (`#N ... cov: C ft: F corp: K/...`).
pub fn parse_figures(log: &str) -> Option<Figures> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.starts_with('#') && l.contains("cov:"))?;
    let after = |key: &str| -> Option<u64> {
        let rest = line.split(key).nth(1)?.trim_start();
        let num: String = rest.chars().take_while(char::is_ascii_digit).collect();
        num.parse().ok()
    };
    let execs = line[1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some(Figures {
        execs,
        cov: after("cov:")?,
        ft: after("ft:")?,
        corpus: after("corp:")?,
    })
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        crate::run("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }
    Ok(())
}

fn args_of(args: &[String]) -> anyhow::Result<(u64, Option<String>)> {
    let mut seconds = 60;
    let mut only = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .context("--seconds takes a number")?
                    .parse()
                    .context("--seconds takes a number")?;
            }
            "--target" => only = Some(it.next().context("--target takes a name")?.clone()),
            _ => bail!("usage: cargo xtask fuzz [--seconds N] [--target NAME]"),
        }
    }
    if let Some(t) = &only {
        if !TARGETS.iter().any(|(n, _)| n == t) {
            bail!("no fuzz target {t:?}; targets: {}", names());
        }
    }
    Ok((seconds, only))
}

fn names() -> String {
    TARGETS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Run one target for `seconds`; its figures.
fn fuzz_one(name: &str, dict: &str, seconds: u64) -> anyhow::Result<Figures> {
    let work = format!("target/fuzz/corpus/{name}");
    let artifacts = format!("target/fuzz/artifacts/{name}/");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {work}"))?;
    std::fs::create_dir_all(&artifacts).with_context(|| format!("creating {artifacts}"))?;
    let abs = |p: &str| -> anyhow::Result<String> {
        Ok(std::fs::canonicalize(p)
            .with_context(|| format!("no {p}"))?
            .display()
            .to_string())
    };
    let (work, seeds) = (abs(&work)?, abs(&format!("fuzz/corpus/{name}"))?);
    let dict = abs(&format!("fuzz/dicts/{dict}"))?;
    let artifacts = format!("{}/", abs(&artifacts)?);
    let out = Command::new("cargo")
        .args([
            "fuzz",
            "run",
            "-s",
            "none",
            "--target-dir",
            &target_dir(),
            name,
        ])
        .args([&work, &seeds])
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            &format!("-dict={dict}"),
            &format!("-artifact_prefix={artifacts}"),
            "-print_final_stats=1",
            "-rss_limit_mb=2048",
            "-max_len=4096",
        ])
        .output()
        .with_context(|| format!("starting cargo fuzz run {name}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzz target {name} failed ({}); its input is under {artifacts}:\n{}",
            out.status,
            tail.join("\n")
        );
    }
    parse_figures(&log).with_context(|| format!("no libFuzzer status line from {name}:\n{log}"))
}

/// `cargo xtask fuzz [--seconds N] [--target NAME]`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (seconds, only) = args_of(args)?;
    if !Path::new("fuzz/Cargo.toml").exists() {
        bail!("run from the repository root (fuzz/Cargo.toml not found)");
    }
    ensure_cargo_fuzz()?;
    let td = target_dir();
    crate::run(
        "cargo",
        &["fuzz", "build", "-s", "none", "--target-dir", &td],
    )?;
    println!(
        "{:<18} {:>8} {:>14} {:>8} {:>8} {:>8}",
        "target", "seconds", "executions", "cov", "ft", "corpus"
    );
    let mut failed = Vec::new();
    for (name, dict) in TARGETS {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        match fuzz_one(name, dict, seconds) {
            Ok(f) => println!(
                "{name:<18} {seconds:>8} {:>14} {:>8} {:>8} {:>8}",
                f.execs, f.cov, f.ft, f.corpus
            ),
            Err(e) => {
                println!("{name:<18} {seconds:>8} CRASH");
                eprintln!("{e:#}");
                failed.push(*name);
            }
        }
    }
    if !failed.is_empty() {
        bail!("fuzz targets crashed: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_status_line_gives_the_figures() {
        let log = "INFO: seed\n#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #52345\tDONE   cov: 812 ft: 2301 corp: 140/9Kb lim: 4096 exec/s: 17448 rss: 61Mb\n\
                   Done 52345 runs in 3 second(s)\n";
        assert_eq!(
            parse_figures(log),
            Some(Figures {
                execs: 52345,
                cov: 812,
                ft: 2301,
                corpus: 140
            })
        );
        assert_eq!(parse_figures("nothing"), None);
    }

    #[test]
    fn every_target_has_a_seed_corpus_a_dictionary_and_a_binary() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap_or_default();
        for (name, dict) in TARGETS {
            let seeds = root.join("fuzz/corpus").join(name);
            let n = std::fs::read_dir(&seeds).map_or(0, |d| d.count());
            assert!(n > 0, "no seeds in {}", seeds.display());
            assert!(root.join("fuzz/dicts").join(dict).is_file(), "{dict}");
            assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}");
            assert!(root.join(format!("fuzz/fuzz_targets/{name}.rs")).is_file());
        }
    }
}
