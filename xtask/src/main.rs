//! `cargo xtask …`: developer and CI automation.

mod gen_traces;
mod tune_falls;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("tune-falls") => tune_falls::run(&args[1..]),
        Some("gen-traces") => gen_traces::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <tune-falls|gen-traces> …");
            std::process::exit(2);
        }
    }
}
