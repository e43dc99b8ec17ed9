//! Fall detector on the real SisFall development subset.
//!
//! Reads `../shared/data/sisfall-dev` relative to the workspace root, or
//! `$SISFALL_DIR`; prints a notice and passes when the data is absent (the data
//! is not part of the repository). Run in release for speed:
//! `cargo test --release -p sim --test sisfall`.

use std::path::PathBuf;

use device_model::accel::AccelConfig;
use device_model::fall::FallDetectorConfig;
use sim::falls_eval::{list_traces, load_dir, score, SubjectFilter};
use sim::trace::open_trace;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SISFALL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/sisfall-dev")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: SisFall data not found at {} (set SISFALL_DIR); skipping",
            dir.display()
        );
        None
    }
}

#[test]
fn every_file_parses() {
    let Some(dir) = data_dir() else { return };
    let files = list_traces(&dir).expect("list");
    assert!(!files.is_empty());
    for f in &files {
        let mut n = 0usize;
        for r in open_trace(f).unwrap_or_else(|e| panic!("{e}")) {
            r.unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
        assert!(n > 0, "{}", f.display());
    }
}

#[test]
fn default_config_meets_targets() {
    let Some(dir) = data_dir() else { return };
    let accel = AccelConfig::default();
    let traces = load_dir(&dir, &accel, &SubjectFilter::All).expect("load");
    let r = score(&traces, &FallDetectorConfig::default(), accel.odr_hz);
    println!("{}", r.to_table());
    assert!(r.falls > 0 && r.adls > 0);
    assert!(r.sensitivity() >= 0.95, "{}", r.to_json_string());
    assert!(r.specificity() >= 0.95, "{}", r.to_json_string());
}
