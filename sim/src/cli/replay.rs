//! `sim replay TRACE`: one trace through button, link and phone; print the timeline.
//! With `--json`/`--json-out` the output is one object, `{"timeline": [...],
//! "detector": {...}}`: every timeline entry with its time, layer, kind, the kind's
//! fields as JSON values and its text (`sim_world::observed`), the detector part being
//! the fall detector's typed explanation (`sim_world::fall_probe::Explanation`);
//! `--html` writes the interactive report, `--perfetto` the Chrome trace-event file.
//! Only these options turn the explanation on: a plain replay runs the button's
//! detector alone.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

/// Replay one trace through button, link and phone; print the event timeline.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "sim replay scenarios/traces/fall_forward.jsonl",
    "sim replay scenarios/traces/fall_forward.jsonl --json",
    "sim replay scenarios/traces/fall_forward.jsonl --html target/fall.html --perfetto target/fall.json",
    "sim replay scenarios/traces/walking.jsonl --device-profile scenarios/profiles/default.json --html target/walk.html",
))]
pub(crate) struct Args {
    /// A trace (native JSONL, generic CSV, SisFall raw `.txt` or FallAllD `.dat`).
    trace: PathBuf,
    /// A device profile (JSON, see scenarios/profiles/).
    #[arg(long, value_name = "FILE")]
    device_profile: Option<PathBuf>,
    /// Print the timeline and the fall detector's explanation as JSON.
    #[arg(long)]
    json: bool,
    /// Write the timeline and the fall detector's explanation as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json_out: Option<PathBuf>,
    /// Write a self-contained interactive HTML report (zoomable plots, timeline).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the run as Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing),
    /// in virtual time.
    #[arg(long, value_name = "FILE")]
    perfetto: Option<PathBuf>,
    /// Keep simulating this many seconds after the trace ends (countdowns, SMS).
    #[arg(long, default_value_t = 60)]
    after: u64,
    /// The scenario seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Replay the trace; exit 2 when it could not be read to its end.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let profile = super::load_profile(args.device_profile.as_deref())?;
    let setup = sim::simulation::Setup {
        seed: args.seed,
        profile,
        ..Default::default()
    };
    let mut s = sim::simulation::Simulation::new(setup)?;
    if args.html.is_some() || args.perfetto.is_some() {
        s.record_accel();
    }
    if args.json || args.json_out.is_some() || args.html.is_some() {
        s.explain_falls();
    }
    s.start_replay(&args.trace)?;
    let far = s.now() + 400 * 86_400 * sim::sched::SECOND;
    s.run_until_cond(far, &|s| !s.replay_active());
    s.advance(args.after * sim::sched::SECOND);
    if args.json || args.json_out.is_some() {
        let detector = s.series.detector.as_ref().map(|d| d.explain());
        let json = serde_json::json!({
            "timeline": s.timeline.to_json(),
            "detector": serde_json::to_value(detector)?,
        });
        super::emit_json(&json, args.json, args.json_out.as_deref())?;
    }
    if !args.json {
        print!("{}", s.timeline.render());
    }
    if let Some(path) = &args.html {
        let title = format!("replay of {}", args.trace.display());
        std::fs::write(path, sim::report::replay_report(&title, &s))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(path) = &args.perfetto {
        let title = format!("replay of {}", args.trace.display());
        let doc = sim::report::perfetto::perfetto_trace(&title, &s);
        std::fs::write(path, serde_json::to_vec(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("Perfetto trace written to {}", path.display());
    }
    if let Some(e) = s.replay_error.take() {
        eprintln!("error: {e}");
        return Ok(super::bad_input());
    }
    Ok(ExitCode::SUCCESS)
}
