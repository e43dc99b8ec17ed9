//! `sim validate PATH`: parse and check a feature, trace or device profile without
//! running it. What a file is comes from its extension and content, never from its
//! name: `.feature` is a feature; `.jsonl`, `.ndjson`, `.csv` and `.txt` are traces, and
//! so is a file whose first line is the `{"trace":"alarm-button",…}` header; another
//! `.json` file, or a file holding one JSON object, is a device profile.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use sim::runner;

/// Parse and check a feature or trace file without running it.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// A `.feature` file, a trace, or a device profile (`.json` with a profile's fields).
    path: PathBuf,
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
        Some("jsonl" | "ndjson" | "csv" | "txt") => return Ok(What::Trace),
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
         SisFall `.txt`, or a first line {{\"trace\":\"alarm-button\",…}}) and not a device \
         profile (a `.json` object)",
        path.display()
    )
}

/// Check the file; exit 1 when a feature has problems, 2 when a file is unreadable,
/// malformed or not recognised.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let path = args.path;
    match classify(&path)? {
        What::Feature => {
            let problems = runner::validate_feature(&path);
            for p in &problems {
                eprintln!("error: {p}");
            }
            if !problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
            println!("{}: ok", path.display());
        }
        What::Profile => {
            device_model::DeviceProfile::load(&path)?;
            println!("{}: ok (device profile)", path.display());
        }
        What::Trace => {
            let mut n = 0u64;
            for rec in sim::trace::open_trace(&path)? {
                rec?;
                n += 1;
            }
            println!("{}: ok ({n} records)", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
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
