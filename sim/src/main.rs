//! The `sim` command line: run feature suites, replay traces, evaluate the fall
//! detector, list steps, validate files, estimate battery life.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use sim::runner::{self, RunOptions};
use sim::steps::{self, Kind};

/// Hardware-in-the-loop harness for BLE personal-alarm buttons: runs Gherkin scenarios
/// on a deterministic simulation of the button, the BLE link and the phone app.
#[derive(Parser, Debug)]
#[command(name = "sim", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run feature files (default: `features/`); exit code 0 only when all pass.
    Run(RunOptions),
    /// Replay one trace through button, link and phone; print the event timeline.
    Replay {
        /// A trace (native JSONL, generic CSV or SisFall raw).
        trace: PathBuf,
        /// A device profile (JSON, see scenarios/profiles/).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Print the timeline as JSON.
        #[arg(long)]
        json: bool,
        /// Write a self-contained HTML report with plots.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Keep simulating this many seconds after the trace ends (countdowns, SMS).
        #[arg(long, default_value_t = 60)]
        after: u64,
        /// The scenario seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Fall-detector evaluation.
    Falls {
        #[command(subcommand)]
        cmd: FallsCmd,
    },
    /// Simulate N independent wearers for H hours each, with random gestures, falls and
    /// faults, on all cores; print alerts, delivery latency, lost and duplicated.
    Fleet {
        /// Number of wearers.
        #[arg(long, default_value_t = 1000)]
        devices: u64,
        /// Simulated hours per wearer.
        #[arg(long, default_value_t = 24.0)]
        hours: f64,
        /// The run's seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Run only shard K of N of the wearers (by index), e.g. 2/4.
        #[arg(long, value_parser = runner::parse_shard)]
        shard: Option<(u64, u64)>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure speed and memory (used by `cargo xtask bench`; run it in a release build).
    #[command(hide = true)]
    Bench {
        /// Runs per measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The bundled feature suite.
        #[arg(long, default_value = "features")]
        features: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Hardware in the loop: a real button over a real BLE adapter (cargo feature `hil`).
    Hil {
        #[command(subcommand)]
        cmd: HilCmd,
    },
    /// Print every step the harness understands, with an example each.
    Steps,
    /// Parse and check a feature or trace file without running it.
    Validate {
        /// A `.feature` file, a trace, or a device profile (`.json` with a profile's fields).
        path: PathBuf,
    },
    /// Estimate the button's battery lifetime.
    Battery {
        /// A cell profile (JSON, see scenarios/profiles/cells/); default CR2032.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Alert presses per day.
        #[arg(long, default_value_t = 2.0)]
        presses_per_day: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum FallsCmd {
    /// Run the fall detector over every trace under DIR (SisFall naming: F* falls,
    /// D* daily activities) and print the confusion matrix and per-code figures.
    Eval {
        /// Folder of traces (searched recursively).
        dir: PathBuf,
        /// A device profile whose accelerometer and fall settings to use.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum HilCmd {
    /// List devices advertising the Alert service (address, RSSI, name, battery).
    Scan {
        /// How long to scan.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Run the features tagged @hil against a real button.
    Run {
        /// Feature files or folders.
        paths: Vec<String>,
        /// The button's address.
        #[arg(long)]
        device: String,
        /// The bond key the button holds (32 hex digits).
        #[arg(long)]
        key: String,
    },
}

#[cfg(feature = "hil")]
fn hil(cmd: HilCmd) -> anyhow::Result<ExitCode> {
    let fail = |e: sim::hil::HilError| {
        eprintln!("error: {e}");
        Ok(ExitCode::from(2))
    };
    match cmd {
        HilCmd::Scan { seconds } => match sim::hil::scan(seconds) {
            Ok(rows) => {
                for r in rows {
                    println!("{r}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => fail(e),
        },
        HilCmd::Run { paths, device, key } => {
            let bytes: Vec<u8> = (0..key.len())
                .step_by(2)
                .map(|i| {
                    key.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<_>>()
                .filter(|b: &Vec<u8>| b.len() == 16)
                .ok_or_else(|| anyhow::anyhow!("--key must be 32 hex digits"))?;
            let mut k = [0u8; 16];
            k.copy_from_slice(&bytes);
            let opts = sim::hil::HilOptions::new(protocol::BondKey(k));
            match sim::hil::run(&paths, &device, &opts) {
                Ok(report) => {
                    print!("{}", report.render());
                    Ok(if report.ok() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    })
                }
                Err(e) => fail(e),
            }
        }
    }
}

#[cfg(not(feature = "hil"))]
fn hil(_cmd: HilCmd) -> anyhow::Result<ExitCode> {
    eprintln!("error: this sim was built without hardware support: rebuild with `cargo build -p sim --features hil`");
    Ok(ExitCode::from(2))
}

fn load_profile(p: Option<&PathBuf>) -> anyhow::Result<device_model::DeviceProfile> {
    Ok(match p {
        Some(p) => device_model::DeviceProfile::load(p)?,
        None => device_model::DeviceProfile::default(),
    })
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run(opts) => {
            let summary = runner::run(&opts)?;
            print!("{}", summary.report_with(!opts.quiet));
            Ok(if summary.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::Replay {
            html,
            trace,
            profile,
            json,
            after,
            seed,
        } => {
            let profile = load_profile(profile.as_ref())?;
            let setup = sim::simulation::Setup {
                seed,
                profile,
                ..Default::default()
            };
            let mut s = sim::simulation::Simulation::new(setup)?;
            if html.is_some() {
                s.accel_log = Some(Vec::new());
            }
            s.start_replay(&trace)?;
            let far = s.now() + 400 * 86_400 * sim::sched::SECOND;
            s.run_until_cond(far, &|s| !s.replay_active());
            s.advance(after * sim::sched::SECOND);
            if json {
                println!("{}", serde_json::to_string_pretty(&s.timeline.to_json())?);
            } else {
                print!("{}", s.timeline.render());
            }
            if let Some(path) = &html {
                let title = format!("replay of {}", trace.display());
                std::fs::write(path, sim::report::replay_report(&title, &s))
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("report written to {}", path.display());
            }
            if let Some(e) = s.replay_error.take() {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Falls {
            cmd: FallsCmd::Eval { dir, profile, json },
        } => {
            let profile = load_profile(profile.as_ref())?;
            if !dir.is_dir() {
                bail!("{}: not a folder", dir.display());
            }
            let report = sim::falls_eval::eval_dir(&dir, &profile.accel, &profile.fall, &[])?;
            print!("{}", sim::falls_eval::render(&report, json));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Fleet {
            shard,
            devices,
            hours,
            seed,
            threads,
            json,
        } => {
            if !(hours > 0.0 && hours <= 24.0 * 366.0) {
                bail!("--hours must be within (0, 8784]");
            }
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
            let started = std::time::Instant::now();
            let summary = sim::fleet::run_fleet_shard(devices, hours, seed, threads, !json, shard)?;
            let wall = started.elapsed().as_secs_f64();
            if json {
                let mut v = serde_json::to_value(&summary)?;
                v["wall_s"] = serde_json::json!(wall);
                println!("{v}");
            } else {
                print!("{}", summary.to_table());
                println!("wall time          {wall:.2} s on {threads} threads");
            }
            Ok(if summary.lost == 0 && summary.duplicated == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::Bench {
            runs,
            features,
            json,
        } => {
            let figs = sim::bench::run(runs, &features)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&figs)?);
            } else {
                print!("{}", sim::bench::table(&figs));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Hil { cmd } => hil(cmd),
        Cmd::Steps => {
            for kind in [Kind::Given, Kind::When, Kind::Then] {
                println!("{}:", kind.name());
                for (d, _) in steps::catalogue().iter().filter(|(d, _)| d.kind == kind) {
                    let within = if d.check {
                        "  [also: within {n} s ...]"
                    } else {
                        ""
                    };
                    println!(
                        "  {} {}{within}\n      e.g. {} {}",
                        kind.name(),
                        d.pattern,
                        kind.name(),
                        d.example
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Validate { path } => {
            if path.extension().is_some_and(|e| e == "feature") {
                let problems = runner::validate_feature(&path);
                for p in &problems {
                    eprintln!("error: {p}");
                }
                if problems.is_empty() {
                    println!("{}: ok", path.display());
                    return Ok(ExitCode::SUCCESS);
                }
                return Ok(ExitCode::FAILURE);
            }
            if path.extension().is_some_and(|e| e == "json")
                && std::fs::read_to_string(&path).is_ok_and(|t| !t.contains("\"trace\""))
            {
                device_model::DeviceProfile::load(&path)?;
                println!("{}: ok (device profile)", path.display());
                return Ok(ExitCode::SUCCESS);
            }
            let mut n = 0u64;
            for rec in sim::trace::open_trace(&path)? {
                rec?;
                n += 1;
            }
            println!("{}: ok ({n} records)", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Battery {
            profile,
            presses_per_day,
            json,
        } => {
            let cell = match profile {
                Some(p) => {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    let cell: device_model::power::CellProfile = serde_json::from_str(&text)
                        .map_err(|e| {
                            anyhow::anyhow!("{}:{}:{}: {e}", p.display(), e.line(), e.column())
                        })?;
                    cell.validate()
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                    cell
                }
                None => device_model::power::CellProfile::cr2032(),
            };
            if !(0.0..=1000.0).contains(&presses_per_day) {
                bail!("--presses-per-day must be within 0..=1000");
            }
            let est = sim::battery::estimate(
                &cell,
                &device_model::power::PowerProfile::default(),
                presses_per_day,
            );
            if json {
                println!("{}", serde_json::to_string_pretty(&est.to_json())?);
            } else {
                print!("{}", est.to_table());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
