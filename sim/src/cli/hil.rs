//! `sim hil`: a real button over a real BLE adapter (cargo feature `hil`).

use std::process::ExitCode;

/// Hardware in the loop: a real button over a real BLE adapter (cargo feature `hil`).
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "cargo build -p sim --features hil",
    "sim hil scan --seconds 10",
    "sim hil run features --device AA:BB:CC:DD:EE:FF --key 000102030405060708090a0b0c0d0e0f",
    "sim hil serve --key 000102030405060708090a0b0c0d0e0f --control /tmp/button.sock",
    "sim hil send --control /tmp/button.sock double",
))]
pub(crate) struct Args {
    #[command(subcommand)]
    cmd: HilCmd,
}

#[derive(clap::Subcommand, Debug)]
enum HilCmd {
    /// List devices advertising the Alert service (address, RSSI, name, battery).
    Scan {
        /// How long to scan.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// The central's adapter, by address (default: the first).
        #[arg(long)]
        adapter: Option<String>,
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
        /// The central's adapter, by address (default: the first).
        #[arg(long)]
        adapter: Option<String>,
    },
    /// Publish the simulated button as a BLE peripheral through BlueZ.
    Serve(super::hil_serve::ServeArgs),
    /// Send a control command to a served button (`press`, `double`, `hold 3`, …).
    Send(super::hil_serve::SendArgs),
    /// Print an address that resolves with the bond key (for a rehearsal adapter).
    Address {
        /// The bond key (32 hex digits).
        #[arg(long)]
        key: String,
    },
}

/// The bond key from 32 hex digits.
pub(crate) fn parse_key(key: &str) -> anyhow::Result<[u8; 16]> {
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
    Ok(k)
}

/// Scan, or run features against the button.
#[cfg(feature = "hil")]
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let fail = |e: sim::hil::HilError| {
        eprintln!("error: {e}");
        Ok(ExitCode::from(2))
    };
    match args.cmd {
        HilCmd::Scan { seconds, adapter } => match sim::hil::scan(seconds, adapter.as_deref()) {
            Ok(rows) => {
                for r in rows {
                    println!("{r}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => fail(e),
        },
        HilCmd::Run {
            paths,
            device,
            key,
            adapter,
        } => {
            let opts = sim::hil::HilOptions::new(protocol::BondKey(parse_key(&key)?));
            match sim::hil::run(&paths, &device, adapter.as_deref(), &opts) {
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
        HilCmd::Serve(a) => super::hil_serve::serve(a),
        HilCmd::Send(a) => super::hil_serve::send(a),
        HilCmd::Address { key } => address(&key),
    }
}

/// An address resolving with the bond key (no Bluetooth needed).
fn address(key: &str) -> anyhow::Result<ExitCode> {
    let key = protocol::BondKey(parse_key(key)?);
    println!("{}", sim_rig::serve::bond_address(&key, [0x12, 0x34, 0x56]));
    Ok(ExitCode::SUCCESS)
}

/// Without the `hil` feature: `address` and `send` work; the rest says how to get it.
#[cfg(not(feature = "hil"))]
pub(crate) fn exec(args: Args) -> anyhow::Result<ExitCode> {
    match args.cmd {
        HilCmd::Address { key } => address(&key),
        HilCmd::Send(a) => super::hil_serve::send(a),
        _ => {
            eprintln!("error: this sim was built without hardware support: rebuild with `cargo build -p sim --features hil`");
            Ok(ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys() {
        assert_eq!(
            parse_key("000102030405060708090a0b0c0d0e0f").ok(),
            Some([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        );
        assert!(parse_key("0001").is_err());
        assert!(parse_key("zz0102030405060708090a0b0c0d0e0f").is_err());
    }
}
