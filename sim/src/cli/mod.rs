//! The `sim` subcommands, one module each: every module owns its clap arguments
//! (`Args`) and runs them (`exec`), returning the process exit code. One contract for
//! every subcommand ([`EXIT_CODES`]): 0 everything passed, 1 a scenario or check
//! failed, 2 bad input or usage (unparsable feature, undefined step, bad argument,
//! unreadable file, nothing selected unless `--allow-empty`). Flags mean the same
//! everywhere: `--json` prints JSON, `--json-out FILE` writes it, `-j/--jobs` sets the
//! threads, `--device-profile` is a device profile and `--cell` a cell profile.

/// The `--help` epilogue of a subcommand: its examples, then the exit codes.
macro_rules! after_help {
    ($($example:literal),+ $(,)?) => {
        concat!(
            "Examples:\n",
            $("  ", $example, "\n",)+
            "\nExit codes:\n",
            "  0  everything passed\n",
            "  1  a scenario or check failed\n",
            "  2  bad input or usage: unparsable feature, undefined step, bad argument,\n",
            "     unreadable trace or profile, nothing selected (unless --allow-empty)"
        )
    };
}

pub(crate) mod battery;
pub(crate) mod bench;
pub(crate) mod falls;
pub(crate) mod fleet;
pub(crate) mod hil;
pub(crate) mod hil_serve;
pub(crate) mod replay;
pub(crate) mod run;
pub(crate) mod steps;
pub(crate) mod validate;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

/// The exit codes of every subcommand, as `--help` and the README state them.
#[allow(dead_code)]
pub(crate) const EXIT_CODES: &str = "0 everything passed; 1 a scenario or check failed; 2 bad \
     input or usage (unparsable feature, undefined step, bad argument, unreadable trace or \
     profile, nothing selected unless --allow-empty)";

/// Exit code 2: bad input or usage.
pub(crate) fn bad_input() -> ExitCode {
    ExitCode::from(2)
}

/// Print `value` as JSON (`--json`) and/or write it to a file (`--json-out FILE`).
pub(crate) fn emit_json(
    value: &serde_json::Value,
    print: bool,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    if print {
        println!("{text}");
    }
    if let Some(p) = out {
        std::fs::write(p, format!("{text}\n"))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// Parse `K/N` (1 <= K <= N), as `sim run --shard` and `sim fleet --shard` take it.
pub(crate) fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let k: u64 = k.parse().map_err(|_| format!("bad shard index {k:?}"))?;
    let n: u64 = n.parse().map_err(|_| format!("bad shard count {n:?}"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("expected 1 <= K <= N, got {k}/{n}"));
    }
    Ok((k, n))
}

/// A device profile from a file, or the default one.
pub(crate) fn load_profile(p: Option<&Path>) -> anyhow::Result<device_model::DeviceProfile> {
    Ok(match p {
        Some(p) => device_model::DeviceProfile::load(p)?,
        None => device_model::DeviceProfile::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_shard;

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("3/2").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }
}
