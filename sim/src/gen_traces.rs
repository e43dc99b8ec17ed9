//! `cargo xtask gen-traces`: writes the generated traces of `scenarios/traces/` (the
//! physical model's activities from [`sim_traces::gen`] and the hand model's button
//! traces from [`sim_world::hand`]), and checks that the committed ones are up to date.

use std::path::{Path, PathBuf};

use sim_traces::gen::write_activities;

/// Writes every activity's trace (default seeds) into `dir` as
/// `<name>.jsonl`; returns the paths written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = write_activities(dir)?;
    for &(name, seed, groups) in sim_world::hand::BUTTON_TRACES {
        let path = dir.join(format!("{name}.jsonl"));
        std::fs::write(
            &path,
            sim_world::hand::button_trace_jsonl(name, seed, groups),
        )?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::falls_eval::{resample_trace, run_detector};
    use device_model::accel::AccelConfig;
    use device_model::fall::FallDetectorConfig;
    use sim_traces::gen::{to_jsonl, to_jsonl_mounted, Activity, MOUNTED};

    #[test]
    fn default_detector_detects_the_fall_only() {
        let dir = std::env::temp_dir().join(format!("tracegen-test-{}", std::process::id()));
        let paths = write_all(&dir).expect("write traces");
        let accel = AccelConfig::default();
        for (a, p) in Activity::ALL.iter().zip(&paths) {
            let samples = resample_trace(p, &accel).expect("readable");
            let (first, count) =
                run_detector(&samples, &FallDetectorConfig::default(), accel.odr_hz);
            if a.is_fall() {
                assert_eq!(count, 1, "{}: {first:?}", a.name());
            } else {
                assert_eq!(count, 0, "{}: {first:?}", a.name());
            }
            // Several seeds, to check it is not luck.
            for seed in 10..14 {
                let text = to_jsonl(*a, seed);
                let q = dir.join(format!("{}-{seed}.jsonl", a.name()));
                std::fs::write(&q, text).expect("write");
                let samples = resample_trace(&q, &accel).expect("readable");
                let (_, count) =
                    run_detector(&samples, &FallDetectorConfig::default(), accel.odr_hz);
                assert_eq!(count, usize::from(a.is_fall()), "{} seed {seed}", a.name());
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn committed_traces_are_up_to_date() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/traces");
        for a in Activity::ALL {
            let p = dir.join(format!("{}.jsonl", a.name()));
            let on_disk = std::fs::read_to_string(&p).unwrap_or_default();
            assert!(
                on_disk == to_jsonl(a, a.default_seed()),
                "{} is stale: run `cargo xtask gen-traces`",
                p.display()
            );
            assert!(on_disk.len() < 300_000);
        }
        for (a, m) in MOUNTED {
            let p = dir.join(format!("{}_{}.jsonl", a.name(), m.name()));
            let on_disk = std::fs::read_to_string(&p).unwrap_or_default();
            assert!(
                on_disk == to_jsonl_mounted(a, a.default_seed(), m),
                "{} is stale: run `cargo xtask gen-traces`",
                p.display()
            );
        }
        for &(name, seed, groups) in sim_world::hand::BUTTON_TRACES {
            let p = dir.join(format!("{name}.jsonl"));
            let on_disk = std::fs::read_to_string(&p).unwrap_or_default();
            assert!(
                on_disk == sim_world::hand::button_trace_jsonl(name, seed, groups),
                "{} is stale: run `cargo xtask gen-traces`",
                p.display()
            );
        }
    }
}
