//! `cargo xtask report-day [--hours H] [--out FILE]`: a long synthetic capture (default
//! 24 hours at 100 Hz) replayed into the interactive report, with figures: how long the
//! replay and the report took, the report's size, and — with a Chromium — how long the
//! page takes to load and draw and to redraw after a zoom.
//!
//! The capture is the trace generator's activities (`sim::tracegen`: walking, sitting
//! down hard, jogging, lying down, and a forward fall every 40th round) one after the
//! other, each with its own seed, streamed into the replay without a file. Build in
//! release for figures: `cargo run --release -p xtask -- report-day`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};
use sim::trace::{Record, RecordKind, TraceError};
use sim::tracegen::{generate, Activity};

/// The day's records, streamed: activities back to back until `hours` have passed.
fn day(hours: u64) -> impl Iterator<Item = Result<Record, TraceError>> {
    let end_us = hours * 3600 * SECOND;
    let cycle = [
        Activity::Walking,
        Activity::SitDownHard,
        Activity::Jogging,
        Activity::LieDown,
        Activity::Walking,
    ];
    let mut round: u64 = 0;
    let mut offset_us: u64 = 0;
    std::iter::from_fn(move || {
        if offset_us >= end_us {
            return None;
        }
        let mut acts: Vec<Activity> = cycle.to_vec();
        if round % 40 == 39 {
            acts.push(Activity::FallForward);
        }
        let mut out = Vec::new();
        for (k, a) in acts.into_iter().enumerate() {
            let samples = generate(a, round * 8 + k as u64);
            let last = samples.last().map_or(0.0, |s| s.0);
            for (t_ms, g) in samples {
                let t_us = offset_us + (t_ms * 1000.0).round() as u64;
                if t_us < end_us {
                    out.push(Ok(Record {
                        t_us,
                        kind: RecordKind::Accel(g),
                    }));
                }
            }
            offset_us += (last * 1000.0).round() as u64 + 10_000;
        }
        round += 1;
        Some(out)
    })
    .flatten()
}

/// `report-day [--hours H] [--out FILE]`.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let mut hours = 24;
    let mut out = PathBuf::from("target/ci/day/day.html");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--hours", Some(h)) => hours = h.parse().context("--hours takes a number")?,
            ("--out", Some(f)) => out = PathBuf::from(f),
            _ => bail!("usage: cargo xtask report-day [--hours H] [--out FILE]"),
        }
    }
    let t = Instant::now();
    let mut s = Simulation::new(Setup::default())?;
    s.record_accel();
    s.explain_falls();
    s.start_replay_records(format!("synthetic-{hours}h"), Box::new(day(hours)));
    let far = s.now() + (hours + 1) * 3600 * SECOND;
    s.run_until_cond(far, &|s| !s.replay_active());
    s.advance(60 * SECOND);
    let replay_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let html = sim::report::replay_report(&format!("synthetic {hours} h capture"), &s);
    let report_s = t.elapsed().as_secs_f64();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &html).with_context(|| format!("writing {}", out.display()))?;
    let raw = s.series.raw_accel.as_ref().map_or(0, Vec::len);
    let fe = s.accel_log.as_ref().map_or(0, Vec::len);
    println!(
        "{hours} h: {raw} raw samples, {fe} front-end samples, {} timeline entries",
        s.timeline.entries.len()
    );
    println!("replay {replay_s:.1} s, report built in {report_s:.2} s");
    println!(
        "report {}: {:.1} MB",
        out.display(),
        html.len() as f64 / 1e6
    );
    match super::browser_test::find_chromium() {
        Some(c) => {
            let shot = out.with_extension("png");
            let t = Instant::now();
            let v = super::browser_test::check_page(&c, &out, &shot)?;
            println!(
                "headless Chromium: page ready (all plots drawn) {} ms after navigation, zoom redraw {} ms; whole check {:.1} s; screenshot {}",
                v["ready_ms"],
                v["zoom_ms"],
                t.elapsed().as_secs_f64(),
                shot.display()
            );
        }
        None => println!("no chromium: load time not measured"),
    }
    Ok(())
}
