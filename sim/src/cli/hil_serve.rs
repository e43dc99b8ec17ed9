//! `sim hil serve` (the simulated button as a BLE peripheral through BlueZ, feature
//! `hil`) and `sim hil send` (a command to a served button's control socket).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sim hil serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// The bond key the button holds (32 hex digits), as for `sim hil run`.
    #[arg(long)]
    key: String,
    /// The adapter to publish on, by address (default: the first).
    #[arg(long)]
    adapter: Option<String>,
    /// A trace to replay from the start (any trace format: accelerometer, button
    /// edges, battery voltage).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Read control commands from this Unix socket (default: standard input).
    #[arg(long)]
    control: Option<PathBuf>,
    /// Seed of the hand model (press timings) and of the button's entropy.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The cell's initial state of charge (percent).
    #[arg(long, default_value_t = 80.0)]
    battery: f64,
    /// Production firmware: no Test service (presses only from the control channel).
    #[arg(long)]
    no_test_service: bool,
    /// Fault rehearsal: the D-Bus service refuses every write from the start
    /// (`refuse-writes on|off` on the control channel toggles it).
    #[arg(long)]
    refuse_writes: bool,
}

/// Arguments of `sim hil send`.
#[derive(clap::Args, Debug)]
pub(crate) struct SendArgs {
    /// The served button's control socket.
    #[arg(long)]
    control: PathBuf,
    /// The command (`press`, `double`, `triple`, `hold 3`, `reset`, `battery 15`,
    /// `refuse-writes on`, `status`, `quit`).
    #[arg(required = true, num_args = 1..)]
    command: Vec<String>,
}

/// Send one command; exit 2 when the socket cannot be reached or the command is refused.
pub(crate) fn send(args: SendArgs) -> anyhow::Result<ExitCode> {
    let line = args.command.join(" ");
    match sim_rig::serve::channel::send_command(&args.control, &line) {
        Ok(answer) if answer == "ok" => Ok(ExitCode::SUCCESS),
        Ok(answer) => {
            eprintln!("{answer}");
            Ok(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("error: control socket {}: {e}", args.control.display());
            Ok(ExitCode::from(2))
        }
    }
}

/// Serve until `quit` or a signal; print the counts and the pacing lateness.
#[cfg(feature = "hil")]
pub(crate) fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    use device_model::DeviceProfile;

    let key = protocol::BondKey(super::hil::parse_key(&a.key)?);
    if !(0.0..=100.0).contains(&a.battery) {
        eprintln!("error: --battery must be a percentage (0..=100)");
        return Ok(ExitCode::from(2));
    }
    let trace = match a
        .trace
        .as_deref()
        .map(sim_world::trace::open_trace)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: trace: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let profile = if a.no_test_service {
        DeviceProfile::default()
    } else {
        DeviceProfile::test_firmware()
    };
    let cfg = sim::hil::ServeConfig {
        adapter: a.adapter,
        button: sim_rig::serve::ServeOptions {
            key,
            profile,
            seed: a.seed,
            battery_pct: a.battery,
            trace,
            refuse_writes: a.refuse_writes,
        },
        control_socket: a.control,
    };
    match sim::hil::serve(cfg) {
        Ok(s) => {
            let st = s.stats;
            println!(
                "served on {}: {} indications, {} notifications, {} writes accepted, {} refused",
                s.address, st.indications, st.notifications, st.writes, st.refused_writes
            );
            if let Some(r) = s.burst_rate {
                println!("last burst: {r:.1} indications/s through the central, each acknowledged");
            }
            println!("{}", s.lateness);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
