//! `sim hil`: a real button over a real BLE adapter (cargo feature `hil`).

use std::process::ExitCode;

/// Hardware in the loop: a real button over a real BLE adapter (cargo feature `hil`).
#[derive(clap::Args, Debug)]
#[command(after_help = after_help!(
    "cargo build -p sim --features hil",
    "sim hil scan --seconds 10",
    "sim hil run features --device AA:BB:CC:DD:EE:FF --key 000102030405060708090a0b0c0d0e0f",
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

/// The bond key from 32 hex digits.
#[cfg_attr(not(feature = "hil"), allow(dead_code))]
fn parse_key(key: &str) -> anyhow::Result<[u8; 16]> {
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
            let opts = sim::hil::HilOptions::new(protocol::BondKey(parse_key(&key)?));
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

/// Without the `hil` feature: say how to get it.
#[cfg(not(feature = "hil"))]
pub(crate) fn exec(_args: Args) -> anyhow::Result<ExitCode> {
    eprintln!("error: this sim was built without hardware support: rebuild with `cargo build -p sim --features hil`");
    Ok(ExitCode::from(2))
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
