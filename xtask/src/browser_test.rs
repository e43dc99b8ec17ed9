//! `cargo xtask browser-test [--suite FILE]`: open the interactive reports in headless
//! Chromium and check them.
//!
//! It writes a replay report of a fall (`sim replay scenarios/traces/fall_forward.jsonl
//! --html`) and takes a suite report (`--suite FILE`, as `.ci/run` writes it, or runs
//! `sim run features/fall_detection.feature --html` itself), then for each page:
//! Chromium (`--headless`, `--dump-dom`, a virtual-time budget) loads it from the file
//! with `#selftest`; the page's own self-test (`report.js`) checks that every plot drew
//! pixels and data, that a zoom changes the visible range of every plot alike, and
//! counts errors (uncaught exceptions, rejected promises, `console.error`); its JSON
//! result is read back from the DOM. Chromium's own console log must show no error
//! either. A screenshot of each page is saved under `target/ci/browser/` (CI keeps
//! `target/ci/` as its artefacts).
//!
//! Nothing is fetched: the pages are self-contained and Chromium runs offline. Without a
//! Chromium (`chromium`, `chromium-browser` or `google-chrome` on the PATH) the test is
//! SKIPPED with a banner and a `SKIPPED` file, never passed silently; `.ci/run`
//! installs Debian's `chromium` when it runs as root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

const OUT: &str = "target/ci/browser";
const TIMEOUT: Duration = Duration::from_secs(120);

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Run a command to its end within [`TIMEOUT`]; its stdout and stderr.
fn run_captured(cmd: &mut Command) -> anyhow::Result<(String, String)> {
    let dir = std::env::temp_dir().join(format!("xtask-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (out_p, err_p) = (dir.join("out"), dir.join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_p)?)
        .stderr(std::fs::File::create(&err_p)?)
        .spawn()
        .context("starting chromium")?;
    let start = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("chromium did not finish within {} s", TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = std::fs::read_to_string(&out_p).unwrap_or_default();
    let err = std::fs::read_to_string(&err_p).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    Ok((out, err))
}

fn chromium_cmd(chromium: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=30000",
        "--window-size=1400,2400",
    ]);
    c
}

/// Console errors in Chromium's log: uncaught exceptions and `console.error` lines.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("CONSOLE")
                && (l.contains("Uncaught") || l.contains("Error") || l.contains(":ERROR:"))
        })
        .collect()
}

/// Check one page; save its screenshot. The self-test's result.
fn check_page(chromium: &Path, page: &Path, shot: &Path) -> anyhow::Result<serde_json::Value> {
    let url = format!("file://{}#selftest", page.canonicalize()?.display());
    let (dom, log) = run_captured(chromium_cmd(chromium).arg("--dump-dom").arg(&url))?;
    let result = dom
        .split("<pre id=\"selftest-result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .with_context(|| {
            format!(
                "{}: no self-test result in the page (did its script run?); chromium said:\n{log}",
                page.display()
            )
        })?;
    let result = result.replace("&quot;", "\"").replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&result)
        .with_context(|| format!("{}: self-test result {result}", page.display()))?;
    let errors = console_errors(&log);
    if !errors.is_empty() {
        bail!("{}: console errors:\n{}", page.display(), errors.join("\n"));
    }
    if v["ok"] != true {
        bail!("{}: self-test failed: {v}", page.display());
    }
    let shot_arg = format!("--screenshot={}", shot.display());
    run_captured(chromium_cmd(chromium).arg(shot_arg).arg(&url))?;
    if !shot.is_file() {
        bail!("{}: no screenshot written to {}", page.display(), shot.display());
    }
    Ok(v)
}

fn sim(args: &[&str]) -> anyhow::Result<()> {
    super::run("cargo", &[&["run", "-q", "-p", "sim", "--"], args].concat())
}

/// `browser-test [--suite FILE]`.
pub fn browser_test(args: &[String]) -> anyhow::Result<()> {
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
            sim(&["run", "features/fall_detection.feature", "--quiet", "--html", &s])?;
            suite
        }
        _ => bail!("usage: cargo xtask browser-test [--suite FILE]"),
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

#[cfg(test)]
mod tests {
    use super::console_errors;

    #[test]
    fn console_errors_are_found_in_chromium_logs() {
        let log = "[1:2:INFO:CONSOLE(3)] \"Uncaught TypeError: x is undefined\", source: file:///r.html (3)\n\
                   [1:2:INFO:CONSOLE(9)] \"drawn\", source: file:///r.html (9)\n\
                   [1:2:ERROR:gpu_init.cc(1)] unrelated";
        assert_eq!(console_errors(log).len(), 1);
    }
}
