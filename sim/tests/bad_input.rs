//! Bad input never panics: every malformed file gets a clear error naming the file, the
//! line and column where it applies, and what was expected — through `sim validate`,
//! `sim replay` and `sim run`, as a user would meet it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sim-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// Run `sim ARGS`; it must fail cleanly (not a panic) with `needles` in its stderr.
fn fails_with(args: &[&str], needles: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("run sim");
    let err = String::from_utf8_lossy(&out.stderr);
    let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        !out.status.success(),
        "`sim {}` succeeded on bad input:\n{all}",
        args.join(" ")
    );
    assert_ne!(
        out.status.code(),
        Some(101),
        "`sim {}` panicked:\n{all}",
        args.join(" ")
    );
    assert!(
        !all.contains("RUST_BACKTRACE") && !all.contains("thread 'main' panicked"),
        "a panic in output:\n{all}"
    );
    for n in needles {
        assert!(
            all.contains(n),
            "`sim {}`: expected {n:?} in:\n{all}",
            args.join(" ")
        );
    }
}

fn validate(p: &Path, needles: &[&str]) {
    fails_with(&["validate", &p.display().to_string()], needles);
}

const HEADER: &str = "{\"trace\":\"alarm-button\",\"version\":1}\n";

#[test]
fn traces() {
    validate(&file("empty.jsonl", b""), &["empty.jsonl"]);
    validate(
        &file(
            "latin1.jsonl",
            b"{\"trace\":\"alarm-button\",\"version\":1,\"source\":\"caf\xe9\"}\n",
        ),
        &["latin1.jsonl:1"],
    );
    validate(
        &file(
            "trunc.jsonl",
            format!("{HEADER}{{\"t_ms\":0,\"acc_g\":[0,1").as_bytes(),
        ),
        &["trunc.jsonl:2:"],
    );
    validate(
        &file(
            "unknown.jsonl",
            format!("{HEADER}{{\"t_ms\":0,\"acc_g\":[0,1,0],\"gyro\":1}}\n").as_bytes(),
        ),
        &["unknown.jsonl:2:", "gyro"],
    );
    validate(
        &file(
            "range.jsonl",
            format!("{HEADER}{{\"t_ms\":0,\"acc_g\":[0,1e9,0]}}\n").as_bytes(),
        ),
        &["range.jsonl:2:"],
    );
    validate(
        &file(
            "battery.jsonl",
            format!("{HEADER}{{\"t_ms\":0,\"battery_mv\":-3}}\n").as_bytes(),
        ),
        &["battery.jsonl:2:"],
    );
    validate(
        &file(
            "back.jsonl",
            format!(
                "{HEADER}{{\"t_ms\":10,\"button\":\"down\"}}\n{{\"t_ms\":5,\"button\":\"up\"}}\n"
            )
            .as_bytes(),
        ),
        &["back.jsonl:3:", "previous record"],
    );
    validate(
        &file("noheader.jsonl", b"{\"t_ms\":0,\"button\":\"down\"}\n"),
        &["noheader.jsonl:1:"],
    );
    validate(
        &file("bad.csv", b"t_ms,ax_g,ay_g,az_g\n0,0.1,0.2\n"),
        &["bad.csv:2:"],
    );
    validate(
        &file("badhead.csv", b"time,x,y,z\n0,0,1,0\n"),
        &["badhead.csv:1:"],
    );
    validate(
        &file(
            "D01_SA01_R01.txt",
            b"  1, 2, 3, 4, 5, 6, 7, 8, 9;\r\n  1, 2, x, 4, 5, 6, 7, 8, 9;\r\n",
        ),
        &["D01_SA01_R01.txt:2:"],
    );
    fails_with(
        &[
            "replay",
            &file("trunc2.jsonl", format!("{HEADER}{{\"t_ms\":0,").as_bytes())
                .display()
                .to_string(),
        ],
        &["trunc2.jsonl:2:"],
    );
    fails_with(
        &["replay", "/nonexistent/trace.jsonl"],
        &["/nonexistent/trace.jsonl"],
    );
}

#[test]
fn features_and_profiles() {
    validate(&file("syntax.feature", b"Feature: X\n  Scenario: Y\n    Given a button paired with a phone\n  Oops this is not gherkin\n"), &["syntax.feature"]);
    validate(
        &file(
            "undefined.feature",
            b"Feature: X\n  Scenario: Y\n    When the wearer presses the buton\n",
        ),
        &["undefined.feature:3:", "When the wearer presses the button"],
    );
    fails_with(&["run", &file("range.feature", b"Feature: X\n  Scenario: Y\n    Given the phone has 9 emergency contacts\n    When 1 seconds pass\n").display().to_string(), "-q"], &["1 to 5"]);
    fails_with(&["run", &file("e164.feature", b"Feature: X\n  Scenario: Y\n    Given the emergency contacts:\n      | name | phone |\n      | Al   | 0612 |\n    When 1 seconds pass\n").display().to_string(), "-q"], &["E.164"]);
    validate(
        &file(
            "profile.json",
            b"{\n  \"gesture\": {\"noise_ms\": \"fast\"}\n}\n",
        ),
        &["profile.json:2:"],
    );
    validate(
        &file("profile2.json", b"{\"queue_capacity\": 3}"),
        &["queue_capacity"],
    );
    fails_with(
        &["run", "/nonexistent/features"],
        &["/nonexistent/features"],
    );
    fails_with(&["run", "features", "--shard", "3/2"], &["K <= N"]);
    fails_with(
        &[
            "battery",
            "--cell",
            &file("cell.json", b"{\"name\": 1}").display().to_string(),
        ],
        &["cell.json:1:"],
    );
}

/// `sim validate` decides what a file is by its extension and content, not its name.
#[test]
fn validate_recognises_files_by_content_not_name() {
    let profile = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/profiles/default.json"
    ))
    .expect("bundled profile");
    // A profile whose own name is "trace" holds the text `"trace"` too.
    let named = String::from_utf8_lossy(&profile).replacen(
        "\"name\": \"default\"",
        "\"name\": \"trace\"",
        1,
    );
    assert!(named.contains("\"trace\""));
    for (name, bytes) in [
        ("trace.json", profile.clone()),
        ("mytrace_profile.json", profile.clone()),
        ("named_trace.json", named.into_bytes()),
    ] {
        let p = file(name, &bytes);
        let out = Command::new(env!("CARGO_BIN_EXE_sim"))
            .args(["validate", &p.display().to_string()])
            .output()
            .expect("run sim");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("ok (device profile)"),
            "{name}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A native trace in a `.json` file is still a trace.
    let t = file(
        "profile_like.json",
        format!("{HEADER}{{\"t_ms\":0,\"button\":\"down\"}}\n").as_bytes(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["validate", &t.display().to_string()])
        .output()
        .expect("run sim");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 records"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Neither: say so, and exit 2.
    let odd = file("notes.md", b"# just notes\n");
    fails_with(
        &["validate", &odd.display().to_string()],
        &["notes.md", "cannot tell what this file is"],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["validate", &odd.display().to_string()])
        .output()
        .expect("run sim");
    assert_eq!(out.status.code(), Some(2));
}
