//! Fall detector on the real FallAllD development subset (waist device), and one
//! test per category of misses the detector used to have.
//!
//! Reads `../shared/data/fallalld-dev` relative to the workspace root, or
//! `$FALLALLD_DIR`; prints a notice and passes when the data is absent (the data
//! is not part of the repository). Run in release for speed:
//! `cargo test --release -p sim --test fallalld`.

use std::path::PathBuf;

use device_model::accel::AccelConfig;
use device_model::fall::FallDetectorConfig;
use sim::falls_eval::{list_traces, load_dir, score, EvalReport, SubjectFilter};
use sim::trace::open_trace;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FALLALLD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fallalld-dev")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: FallAllD data not found at {} (set FALLALLD_DIR); skipping",
            dir.display()
        );
        None
    }
}

fn report() -> Option<EvalReport> {
    let dir = data_dir()?;
    let accel = AccelConfig::default();
    let traces = load_dir(&dir, &accel, &SubjectFilter::All).expect("load");
    Some(score(&traces, &FallDetectorConfig::default(), accel.odr_hz))
}

/// Detected share of the falls with these activity ids.
fn detected(r: &EvalReport, codes: &[&str]) -> (usize, usize) {
    codes.iter().fold((0, 0), |(d, n), c| {
        let st = r.per_code.get(*c).copied().unwrap_or_default();
        (d + st.detected, n + st.files)
    })
}

#[test]
fn every_file_parses() {
    let Some(dir) = data_dir() else { return };
    let files = list_traces(&dir).expect("list");
    assert!(files.len() > 300, "{}", files.len());
    for f in &files {
        let mut n = 0usize;
        for r in open_trace(f).unwrap_or_else(|e| panic!("{e}")) {
            r.unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
        assert_eq!(n, 4760, "{}", f.display());
    }
}

#[test]
fn default_config_meets_targets_and_each_miss_category_is_caught() {
    let Some(r) = report() else { return };
    println!("{}", r.to_table());
    assert!(r.sensitivity() >= 0.95, "{}", r.to_json_string());
    assert!(r.specificity() >= 0.97, "{}", r.to_json_string());
    let categories: [(&str, &[&str]); 5] = [
        (
            "falls the wearer gets up from",
            &[
                "A102", "A104", "A106", "A108", "A110", "A116", "A118", "A120", "A122", "A124",
                "A126", "A128",
            ],
        ),
        ("falls from a bed", &["A127", "A128"]),
        ("sliding down a wall", &["A135"]),
        (
            "slips and trips walking or jogging",
            &[
                "A101", "A103", "A105", "A107", "A109", "A121", "A123", "A125",
            ],
        ),
        (
            "syncope, from a chair or standing",
            &[
                "A111", "A112", "A113", "A129", "A130", "A131", "A132", "A133", "A134",
            ],
        ),
    ];
    for (what, codes) in categories {
        let (d, n) = detected(&r, codes);
        assert!(n > 0, "{what}: no trace");
        assert!(d * 10 >= n * 9 || n - d <= 1, "{what}: {d} of {n} detected");
    }
    // False alarms clustered on lying down and failing to stand up.
    for code in ["A015", "A016", "A017"] {
        let st = r.per_code.get(code).copied().unwrap_or_default();
        assert!(st.detected * 5 <= st.files, "{code}: {st:?}");
    }
}
