//! The README's examples run as written: every `cargo run [--release] -p sim -- …` line
//! in its `sh` blocks is run with this build's `sim` binary from the repository root and
//! must exit 0 (examples that read the SisFall data are skipped, with a notice, where the
//! data is absent). `docs/steps.md` must hold what `sim steps` prints.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Split a command line the way a POSIX shell would for these simple examples.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn readme_examples_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut in_sh = false;
    let mut ran = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let args = words(line);
        let Some(pos) = args.iter().position(|a| a == "--") else {
            continue;
        };
        if !(args.first().is_some_and(|a| a == "cargo") && args.iter().any(|a| a == "sim")) {
            continue;
        }
        let sim_args = &args[pos + 1..];
        if sim_args.iter().any(|a| a.contains("sisfall-dev"))
            && !root().join("../shared/data/sisfall-dev").is_dir()
        {
            eprintln!("notice: SisFall data absent; skipped `{line}`");
            continue;
        }
        std::fs::create_dir_all(root().join("target")).expect("target dir");
        let out = Command::new(env!("CARGO_BIN_EXE_sim"))
            .args(sim_args)
            .current_dir(root())
            .output()
            .expect("run sim");
        assert!(
            out.status.success(),
            "README example failed: {line}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} README examples found");
}

#[test]
fn the_step_list_in_docs_is_current() {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("steps")
        .output()
        .expect("sim steps");
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc = std::fs::read_to_string(root().join("docs/steps.md")).expect("docs/steps.md");
    assert!(
        doc.contains(listed.trim()),
        "docs/steps.md is out of date: regenerate it from `sim steps`"
    );
}
