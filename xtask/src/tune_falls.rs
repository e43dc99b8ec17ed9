//! `cargo xtask tune-falls --exclude SUBJECT [--data DIR] [--loso]`: grid search
//! of the fall detector's thresholds on the SisFall and FallAllD development
//! subjects (FallAllD from `$FALLALLD_DIR`, else `../shared/data/fallalld-dev`,
//! when present). Data split: leave-one-subject-out over the seven development
//! subjects (SisFall SA01-SA03, SE01; FallAllD S01, S03, S08); the other
//! subjects of both datasets are held apart by the data owners for scoring.
//! `--dump FILE` writes every candidate's judgement per trace (JSON lines).
//!
//! All traces are loaded and resampled once (button accelerometer defaults:
//! 50 Hz, ±8 g), then every configuration of the grid is scored on the
//! training subjects (all but the excluded one). The objective is the smaller of
//! sensitivity and specificity plus the worst training subject's smaller one
//! (so that the choice holds across people), ties broken by their sum, then by
//! closeness to the default configuration. The chosen configuration is printed as JSON with
//! its training score and its score on the excluded subject. `--loso` runs this
//! for every subject in turn (leave-one-subject-out) and prints each fold.
//!
//! Data folder: `--data DIR`, else `$SISFALL_DIR`, else
//! `../shared/data/sisfall-dev` relative to the workspace root. When it is
//! absent the command prints a notice and succeeds.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use device_model::accel::AccelConfig;
use device_model::fall::FallDetectorConfig;
use sim::falls_eval::{load_dir, par_map, score, EvalReport, LoadedTrace, SubjectFilter};

/// The SisFall folder to use, if it exists.
pub fn data_dir(arg: Option<PathBuf>) -> Option<PathBuf> {
    let dir = arg
        .or_else(|| std::env::var_os("SISFALL_DIR").map(PathBuf::from))
        .unwrap_or_else(|| workspace_root().join("../shared/data/sisfall-dev"));
    dir.is_dir().then_some(dir)
}

/// The FallAllD folder to use, if it exists (`$FALLALLD_DIR`, else
/// `../shared/data/fallalld-dev`).
pub fn fallalld_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FALLALLD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data/fallalld-dev"));
    dir.is_dir().then_some(dir)
}

/// The workspace root (parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The configurations tried by the grid search (64).
pub fn grid() -> Vec<FallDetectorConfig> {
    let base = FallDetectorConfig::default();
    let mut out = Vec::new();
    for trigger_mg in [1600u16, 1800] {
        for strong_impact_mg in [2500u16, 3000] {
            for min_tilt_deg in [45u8, 55] {
                for still_max_mg in [150u16, 250] {
                    for lying_min_deg in [60u8, 70] {
                        for slide_impact_mg in [3500u16, 8000] {
                            out.push(FallDetectorConfig {
                                trigger_mg,
                                strong_impact_mg,
                                min_tilt_deg,
                                still_max_mg,
                                lying_min_deg,
                                slide_impact_mg,
                                ..base.clone()
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// Distance of a configuration to the default (ties prefer the default).
fn distance(c: &FallDetectorConfig) -> i64 {
    let d = FallDetectorConfig::default();
    (i64::from(c.trigger_mg) - i64::from(d.trigger_mg)).abs()
        + (i64::from(c.strong_impact_mg) - i64::from(d.strong_impact_mg)).abs() / 2
        + (i64::from(c.min_tilt_deg) - i64::from(d.min_tilt_deg)).abs() * 20
        + (i64::from(c.still_max_mg) - i64::from(d.still_max_mg)).abs() * 4
        + (i64::from(c.lying_min_deg) - i64::from(d.lying_min_deg)).abs() * 5
        + (i64::from(c.slide_impact_mg) - i64::from(d.slide_impact_mg)).abs() / 10
}

/// Best configuration of the grid on `traces`.
pub fn search(traces: &[LoadedTrace], odr_hz: u32) -> (FallDetectorConfig, EvalReport) {
    let grid = grid();
    // Parallelise over configurations; each scores sequentially.
    let mut subjects: Vec<Option<&str>> = traces.iter().map(|t| t.subject.as_deref()).collect();
    subjects.sort();
    subjects.dedup();
    let results = par_map(&grid, |cfg| {
        // Per subject: [tp, falls, tn, adls].
        let mut per = vec![[0usize; 4]; subjects.len()];
        for t in traces {
            let det = sim::falls_eval::run_detector(&t.samples, cfg, odr_hz)
                .0
                .is_some();
            let i = subjects
                .binary_search(&t.subject.as_deref())
                .unwrap_or_default();
            if t.is_fall {
                per[i][0] += usize::from(det);
                per[i][1] += 1;
            } else {
                per[i][2] += usize::from(!det);
                per[i][3] += 1;
            }
        }
        let rate = |k: usize, n: usize| if n == 0 { 1.0 } else { k as f64 / n as f64 };
        let mut worst = 1.0f64;
        let mut total = [0usize; 4];
        for c in &per {
            worst = worst.min(rate(c[0], c[1])).min(rate(c[2], c[3]));
            for (t, v) in total.iter_mut().zip(c) {
                *t += v;
            }
        }
        let se = rate(total[0], total[1]);
        let sp = rate(total[2], total[3]);
        // Overall balance plus the worst subject: generalise across people.
        (se.min(sp) + worst, se + sp)
    });
    let mut best = 0usize;
    for (i, r) in results.iter().enumerate() {
        let b = &results[best];
        let better = r.0 > b.0
            || (r.0 == b.0 && r.1 > b.1)
            || (r.0 == b.0 && r.1 == b.1 && distance(&grid[i]) < distance(&grid[best]));
        if better {
            best = i;
        }
    }
    let cfg = grid[best].clone();
    let report = score(traces, &cfg, odr_hz);
    (cfg, report)
}

fn summary(r: &EvalReport) -> String {
    format!(
        "sensitivity {:.4} ({}/{}), specificity {:.4} ({}/{})",
        r.sensitivity(),
        r.tp,
        r.falls,
        r.specificity(),
        r.tn,
        r.adls
    )
}

fn fold(all: &[LoadedTrace], subject: &str, odr: u32) -> Result<()> {
    let train: Vec<LoadedTrace> = all
        .iter()
        .filter(|t| t.subject.as_deref() != Some(subject))
        .cloned()
        .collect();
    let test: Vec<LoadedTrace> = all
        .iter()
        .filter(|t| t.subject.as_deref() == Some(subject))
        .cloned()
        .collect();
    if test.is_empty() {
        bail!("no trace of subject {subject}");
    }
    let (cfg, train_report) = search(&train, odr);
    let test_report = score(&test, &cfg, odr);
    let default_report = score(&test, &FallDetectorConfig::default(), odr);
    println!("== fold: {subject} held out");
    println!("{}", serde_json::to_string_pretty(&cfg)?);
    println!("train:            {}", summary(&train_report));
    println!("held out (tuned): {}", summary(&test_report));
    println!("held out (default config): {}", summary(&default_report));
    Ok(())
}

/// Entry point: parses `args` (after `tune-falls`).
pub fn run(args: &[String]) -> Result<()> {
    let mut exclude: Option<String> = None;
    let mut data: Option<PathBuf> = None;
    let mut loso = false;
    let mut report = false;
    let mut dump: Option<PathBuf> = None;
    let mut config = FallDetectorConfig::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--exclude" => exclude = Some(it.next().context("--exclude needs a SUBJECT")?.clone()),
            "--data" => data = Some(PathBuf::from(it.next().context("--data needs a DIR")?)),
            "--loso" => loso = true,
            "--report" => report = true,
            "--dump" => dump = Some(PathBuf::from(it.next().context("--dump needs a FILE")?)),
            "--config" => {
                let text = it.next().context("--config needs a JSON object")?;
                config = serde_json::from_str(text).context("parsing --config")?;
            }
            "-h" | "--help" => {
                println!("usage: cargo xtask tune-falls (--exclude SUBJECT | --loso | --report [--config JSON]) [--data DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    if exclude.is_none() && !loso && !report && dump.is_none() {
        bail!("give --exclude SUBJECT or --loso");
    }
    let Some(dir) = data_dir(data) else {
        println!("SisFall data not found (set --data or SISFALL_DIR); nothing to tune");
        return Ok(());
    };
    let accel = AccelConfig::default();
    let mut all = load_dir(&dir, &accel, &SubjectFilter::All)
        .with_context(|| format!("loading {}", dir.display()))?;
    if let Some(fd) = fallalld_dir() {
        all.extend(
            load_dir(&fd, &accel, &SubjectFilter::All)
                .with_context(|| format!("loading {}", fd.display()))?,
        );
    }
    if let Some(path) = dump {
        return dump_judgements(&all, &config, accel.odr_hz, &path);
    }
    println!(
        "loaded {} traces from {}; grid of {} configurations",
        all.len(),
        dir.display(),
        grid().len()
    );
    if report {
        let r = score(&all, &config, accel.odr_hz);
        println!("{}", r.to_table());
        println!("{}", r.to_json_string());
        // Detector cost, one thread (informative; the clock is only read here).
        let samples: usize = all.iter().map(|t| t.samples.len()).sum();
        let start = std::time::Instant::now();
        let mut detected = 0usize;
        for t in &all {
            detected += sim::falls_eval::run_detector(&t.samples, &config, accel.odr_hz).1;
        }
        let ns = start.elapsed().as_nanos() as f64 / samples.max(1) as f64;
        println!(
            "detector: {samples} samples, {detected} falls raised, {ns:.1} ns/sample (one thread)"
        );
        for (t, o) in all.iter().zip(&r.outcomes) {
            if o.is_fall != o.first_fall.is_some() {
                println!("error: {}", o.path.display());
                for j in sim::falls_eval::judgements(&t.samples, &config, accel.odr_hz) {
                    println!("    {j:?}");
                }
            }
        }
    }
    if loso {
        let mut subjects: Vec<String> = all.iter().filter_map(|t| t.subject.clone()).collect();
        subjects.sort();
        subjects.dedup();
        for s in subjects {
            fold(&all, &s, accel.odr_hz)?;
        }
    } else if let Some(s) = exclude {
        fold(&all, &s, accel.odr_hz)?;
    }
    Ok(())
}

/// Writes every candidate the detector judged, one JSON line per trace.
fn dump_judgements(
    all: &[LoadedTrace],
    config: &FallDetectorConfig,
    odr: u32,
    path: &Path,
) -> Result<()> {
    let lines = par_map(all, |t| {
        serde_json::json!({
            "file": t.path.display().to_string(),
            "dataset": t.dataset,
            "subject": t.subject,
            "code": t.code,
            "fall": t.is_fall,
            "judgements": sim::falls_eval::judgements(&t.samples, config, odr),
        })
        .to_string()
    });
    std::fs::write(path, lines.join("\n") + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {} traces to {}", all.len(), path.display());
    Ok(())
}
