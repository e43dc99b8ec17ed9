//! `sim validate PATH…`: check features, traces and device profiles without running
//! anything. Features get exactly the checks `sim run` makes before its first step
//! (text and Gherkin, outline placeholders, every step and its arguments, every trace
//! a step names read to its end), so "ok" means no set-up error at run time. What a
//! file is comes from its extension and content, never from its name: `.feature` is a
//! feature; `.jsonl`, `.ndjson`, `.csv`, `.txt` (SisFall) and `.dat` (FallAllD) are
//! traces, and so is a file whose first line is the `{"trace":"alarm-button",…}`
//! header; another `.json` file, or a
//! file holding one JSON object, is a device profile. A folder is searched recursively;
//! in a folder, files of no such kind are skipped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use sim::runner::{self, RunOptions};

/// Check features, traces and device profiles (files or folders) without running them.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "sim validate features                     # every feature, as `sim run` checks them",
    "sim validate features/alert_sms.feature scenarios/traces/walking.jsonl",
    "sim validate scenarios/profiles/default.json",
))]
pub(crate) struct Args {
    /// `.feature` files, traces, device profiles (`.json` with a profile's fields), or
    /// folders of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Finding nothing to check is not an error (exit 0 instead of 2).
    #[arg(long)]
    allow_empty: bool,
}

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    Feature,
    Trace,
    Profile,
}

/// The first line of a file (at most 64 KiB of it).
fn first_line(path: &Path) -> anyhow::Result<String> {
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut line = Vec::new();
    BufReader::new(f)
        .take(64 << 10)
        .read_until(b'\n', &mut line)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Whether a line is a native trace's header: a JSON object with `"trace":"alarm-button"`.
fn is_trace_header(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line.trim())
        .is_ok_and(|v| v.get("trace").and_then(|t| t.as_str()) == Some("alarm-button"))
}

/// Whether the whole file is one JSON object.
fn is_json_object(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.is_object())
}

/// Decide what `path` holds by its extension and content.
fn classify(path: &Path) -> anyhow::Result<What> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("feature") => return Ok(What::Feature),
        Some("jsonl" | "ndjson" | "csv" | "txt" | "dat") => return Ok(What::Trace),
        _ => {}
    }
    if path.is_dir() {
        bail!("{}: a folder; give a file", path.display());
    }
    if is_trace_header(&first_line(path)?) {
        return Ok(What::Trace);
    }
    if ext.as_deref() == Some("json") || is_json_object(path) {
        return Ok(What::Profile);
    }
    bail!(
        "{}: cannot tell what this file is: not a `.feature`, not a trace (`.jsonl`, `.csv`, \
         SisFall `.txt`, FallAllD `.dat`, or a first line {{\"trace\":\"alarm-button\",…}}) and not a device \
         profile (a `.json` object)",
        path.display()
    )
}

/// Every file to check under `path` (a folder: recursively, only known kinds).
fn files_of(path: &Path, out: &mut Vec<(PathBuf, What)>) -> anyhow::Result<()> {
    if !path.is_dir() {
        out.push((path.to_path_buf(), classify(path)?));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading {}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_of(&p, out)?;
        } else if let Ok(what) = classify(&p) {
            out.push((p, what));
        }
    }
    Ok(())
}

/// Check one trace or profile: its line of output, or the error.
fn check_file(path: &Path, what: What) -> anyhow::Result<String> {
    Ok(match what {
        What::Feature => format!("{}: ok", path.display()),
        What::Profile => {
            device_model::DeviceProfile::load(path)?;
            format!("{}: ok (device profile)", path.display())
        }
        What::Trace => {
            let mut n = 0u64;
            for rec in sim::trace::open_trace(path)? {
                rec?;
                n += 1;
            }
            format!("{}: ok ({n} records)", path.display())
        }
    })
}

/// The features, checked together as `sim run` would plan them: their problems.
fn check_features(features: &[&PathBuf]) -> anyhow::Result<Vec<String>> {
    if features.is_empty() {
        return Ok(Vec::new());
    }
    let opts = RunOptions {
        paths: features.iter().map(|p| p.display().to_string()).collect(),
        ..RunOptions::default()
    };
    Ok(runner::plan(&opts)?.problems)
}

/// Check everything; exit 2 when anything is unreadable, malformed, not recognised or
/// (unless `--allow-empty`) when there is nothing to check.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in &args.paths {
        files_of(p, &mut files)?;
    }
    if files.is_empty() {
        if args.allow_empty {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: nothing to check (--allow-empty to accept)");
        return Ok(super::bad_input());
    }
    let features: Vec<&PathBuf> = files
        .iter()
        .filter(|(_, w)| *w == What::Feature)
        .map(|(p, _)| p)
        .collect();
    let mut bad = 0;
    let problems = check_features(&features)?;
    for p in &problems {
        eprintln!("error: {p}");
    }
    bad += problems.len();
    for (path, what) in &files {
        let shown = path.display().to_string();
        let failed = *what == What::Feature && problems.iter().any(|p| p.contains(&shown));
        match check_file(path, *what) {
            Ok(line) if !failed => println!("{line}"),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e:#}");
                bad += 1;
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        super::bad_input()
    })
}

#[cfg(test)]
mod tests {
    use super::is_trace_header;

    #[test]
    fn trace_headers() {
        assert!(is_trace_header(
            "{\"trace\":\"alarm-button\",\"version\":1}\n"
        ));
        assert!(!is_trace_header("{\"trace\":\"other\"}"));
        assert!(!is_trace_header("{"));
        assert!(!is_trace_header("t_ms,ax_g,ay_g,az_g"));
    }
}
