//! `cargo xtask gen-traces`: regenerates the synthetic traces in
//! `scenarios/traces/` from `sim::tracegen` (deterministic, fixed seeds).

use anyhow::{Context, Result};

/// Entry point.
pub fn run(_args: &[String]) -> Result<()> {
    let dir = crate::tune_falls::workspace_root().join("scenarios/traces");
    let paths =
        sim::gen_traces::write_all(&dir).with_context(|| format!("writing {}", dir.display()))?;
    for p in paths {
        println!("wrote {}", p.display());
    }
    Ok(())
}
