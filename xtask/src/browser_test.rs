//! `cargo xtask browser-test [--suite FILE]`: open the interactive reports in headless
//! Chromium and check them.
//!
//! It writes a replay report of a fall (`sim replay scenarios/traces/fall_forward.jsonl
//! --html`) and takes a suite report (`--suite FILE`, as `.ci/run` writes it, or runs
//! `sim run features/falls.feature --html` itself), then for each page: headless
//! Chromium, driven over the DevTools protocol (`cdp.rs`), loads it from the file with
//! `#selftest`; the page's own self-test (`report.js`) checks that every plot drew
//! pixels and holds data, that a zoom changes the visible range of every plot alike,
//! and counts errors (uncaught exceptions, rejected promises, `console.error`); its JSON
//! result is read back in real time (up to two minutes: a 24-hour report takes
//! seconds). The DevTools events must show no exception, `console.error` or error log
//! entry either. A screenshot of each page is saved under `target/ci/browser/` (CI keeps
//! `target/ci/` as its artefacts).
//!
//! Nothing is fetched: the pages are self-contained and Chromium runs offline. Without a
//! Chromium (`chromium`, `chromium-browser` or `google-chrome` on the PATH) the test is
//! SKIPPED with a banner and a `SKIPPED` file, never passed silently; `.ci/run`
//! installs Debian's `chromium` when it runs as root.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::cdp::Browser;

const OUT: &str = "target/ci/browser";
const TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Check one page; save its screenshot. The self-test's result.
pub(crate) fn check_page(
    chromium: &Path,
    page: &Path,
    shot: &Path,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("file://{}#selftest", page.canonicalize()?.display());
    let mut b = Browser::open(chromium, &url, 1400, 2400)?;
    let result = b
        .wait_for(
            "(document.getElementById('selftest-result') || {}).textContent || ''",
            TIMEOUT,
        )
        .with_context(|| {
            format!(
                "{}: no self-test result (did its script run?)",
                page.display()
            )
        })?;
    let v: serde_json::Value = serde_json::from_str(&result)
        .with_context(|| format!("{}: self-test result {result}", page.display()))?;
    std::fs::write(shot, b.screenshot()?)?;
    if !b.errors.is_empty() {
        bail!(
            "{}: console errors:\n{}",
            page.display(),
            b.errors.join("\n")
        );
    }
    if v["ok"] != true {
        bail!("{}: self-test failed: {v}", page.display());
    }
    Ok(v)
}

fn sim(args: &[&str]) -> anyhow::Result<()> {
    super::run("cargo", &[&["run", "-q", "-p", "sim", "--"], args].concat())
}

/// `browser-test [--suite FILE | --page FILE]`: `--page` checks that one page only
/// (its screenshot beside it, `.png`) and prints the self-test's result.
pub(crate) fn browser_test(args: &[String]) -> anyhow::Result<()> {
    if let [flag, file] = args {
        if flag == "--page" {
            let chromium = find_chromium().context("no chromium on the PATH")?;
            let page = PathBuf::from(file);
            let v = check_page(&chromium, &page, &page.with_extension("png"))?;
            println!("{v}");
            return Ok(());
        }
    }
    let out = Path::new(OUT);
    std::fs::create_dir_all(out)?;
    let _ = std::fs::remove_file(out.join("SKIPPED"));
    let Some(chromium) = find_chromium() else {
        let msg = "chromium not found (chromium, chromium-browser or google-chrome): \
                   the browser test was NOT run";
        eprintln!("\n==================== BROWSER TEST SKIPPED ====================");
        eprintln!("{msg}");
        eprintln!("==============================================================\n");
        std::fs::write(out.join("SKIPPED"), format!("{msg}\n"))?;
        return Ok(());
    };
    let replay = out.join("replay.html");
    sim(&[
        "replay",
        "scenarios/traces/fall_forward.jsonl",
        "--html",
        &replay.display().to_string(),
    ])?;
    let suite = match args {
        [flag, file] if flag == "--suite" => PathBuf::from(file),
        [] => {
            let suite = out.join("suite.html");
            let s = suite.display().to_string();
            sim(&["run", "features/falls.feature", "--quiet", "--html", &s])?;
            suite
        }
        _ => bail!("usage: cargo xtask browser-test [--suite FILE | --page FILE]"),
    };
    for (page, shot) in [(&replay, "replay.png"), (&suite, "suite.png")] {
        let v = check_page(&chromium, page, &out.join(shot))?;
        eprintln!(
            "browser test: {} ok ({} plots, zoom {} -> {}), screenshot {}",
            page.display(),
            v["plots"],
            v["zoom"]["before"],
            v["zoom"]["after"],
            out.join(shot).display()
        );
    }
    Ok(())
}
