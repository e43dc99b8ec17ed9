//! `sim fleet`: many independent wearers on all cores.

use std::process::ExitCode;

use anyhow::bail;

/// Simulate N independent wearers for H hours each, with random gestures, falls and
/// faults, on all cores; print alerts, delivery latency, lost and duplicated.
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "sim fleet --devices 10000 --hours 24",
    "sim fleet --devices 1000 --shard 2/4 -j 8 --json",
))]
pub(crate) struct Args {
    /// Number of wearers.
    #[arg(long, default_value_t = 1000)]
    devices: u64,
    /// Simulated hours per wearer.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// The run's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (0 = all cores).
    #[arg(long, short, default_value_t = 0, alias = "threads")]
    jobs: usize,
    /// Run only shard K of N of the wearers (by index), e.g. 2/4.
    #[arg(long, value_parser = super::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Write the JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json_out: Option<std::path::PathBuf>,
}

/// Run the fleet; exit 1 when an alert was lost or duplicated.
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        devices,
        hours,
        seed,
        jobs,
        shard,
        json,
        json_out,
    } = args;
    if !(hours > 0.0 && hours <= 24.0 * 366.0) {
        bail!("--hours must be within (0, 8784]");
    }
    let threads = match jobs {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let started = std::time::Instant::now();
    let summary = sim::fleet::run_fleet_shard(devices, hours, seed, threads, !json, shard)?;
    let wall = started.elapsed().as_secs_f64();
    if json || json_out.is_some() {
        let mut v = serde_json::to_value(&summary)?;
        v["wall_s"] = serde_json::json!(wall);
        super::emit_json(&v, json, json_out.as_deref())?;
    }
    if !json {
        print!("{}", summary.to_table());
        println!("wall time          {wall:.2} s on {threads} threads");
    }
    Ok(if summary.lost == 0 && summary.duplicated == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
