//! Runs every bundled feature file through the same runner as `sim run`, inside an
//! ordinary `#[test]` (so both `cargo test` and `cargo nextest run` run it), with the
//! determinism check on; plus checks of the runner's reports and error paths.

use std::path::{Path, PathBuf};

use sim::runner::{self, RunOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn bundled_feature_suite_passes_and_is_deterministic() {
    let opts = RunOptions {
        paths: vec![root().join("features").display().to_string()],
        check_determinism: true,
        quiet: true,
        ..Default::default()
    };
    let summary = runner::run(&opts).expect("run");
    println!("{}", summary.report());
    assert!(summary.ok(), "{}", summary.report());
    assert!(
        summary.scenarios.len() >= 10,
        "only {} scenarios ran",
        summary.scenarios.len()
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sim-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

#[test]
fn junit_is_standard_xml_with_one_testcase_per_scenario() {
    let d = tmp("junit");
    let f = write(
        &d,
        "x.feature",
        "Feature: X\n  Scenario: passes\n    Given the phone has 2 emergency contacts\n    When the wearer presses the button\n    Then within 5 s every contact receives an SMS\n\n  Scenario: fails\n    When the wearer presses the button for 10 ms\n    Then within 5 s every contact receives an SMS\n\n  Scenario Outline: rows\n    When the wearer presses the button for <ms> ms\n    Then within 3 s exactly <n> SMS are sent\n\n    Examples:\n      | ms | n |\n      | 20 | 0 |\n      | 90 | 1 |\n",
    );
    let junit = d.join("j.xml");
    let json = d.join("c.json");
    let opts = RunOptions {
        paths: vec![f.display().to_string()],
        junit: Some(junit.clone()),
        json: Some(json.clone()),
        quiet: true,
        ..Default::default()
    };
    let s = runner::run(&opts).expect("run");
    assert_eq!(s.scenarios.len(), 4);
    assert_eq!(s.failed(), 1);
    let report = s.report();
    assert!(report.contains("replay: sim run"), "{report}");
    assert!(report.contains("seed"), "{report}");
    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("standard XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        1
    );
    let cj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json"))
            .expect("cucumber json");
    assert_eq!(cj[0]["elements"].as_array().map(Vec::len), Some(4));
}

#[test]
fn undefined_steps_name_file_line_and_closest_steps() {
    let d = tmp("undef");
    let f = write(&d, "u.feature", "Feature: U\n  Scenario: typo\n    When the wearer presses teh button\n    Then no SMS is sent\n");
    let problems = runner::validate_feature(&f);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("u.feature:3:"), "{}", problems[0]);
    assert!(
        problems[0].contains("When the wearer presses the button"),
        "{}",
        problems[0]
    );
    let s = runner::run(&RunOptions {
        paths: vec![f.display().to_string()],
        quiet: true,
        ..Default::default()
    })
    .expect("run");
    assert!(!s.ok());
    // An undefined step is bad input: found before the first step, nothing runs.
    assert_eq!(s.scenarios.len(), 0);
    assert_eq!(s.exit_code(false), 2);
    assert_eq!(s.problems, problems);
}

#[test]
fn shards_partition_the_suite() {
    let all = runner::run(&RunOptions {
        paths: vec![root().join("features").display().to_string()],
        quiet: true,
        ..Default::default()
    })
    .expect("run");
    let mut seen = Vec::new();
    for k in 1..=3 {
        let s = runner::run(&RunOptions {
            paths: vec![root().join("features").display().to_string()],
            shard: Some((k, 3)),
            quiet: true,
            ..Default::default()
        })
        .expect("run");
        seen.extend(
            s.scenarios
                .iter()
                .map(|o| (o.meta.file.clone(), o.meta.line)),
        );
    }
    seen.sort();
    let mut expect: Vec<_> = all
        .scenarios
        .iter()
        .map(|o| (o.meta.file.clone(), o.meta.line))
        .collect();
    expect.sort();
    assert_eq!(seen, expect);
}

#[test]
fn unreadable_and_missing_traces_stop_the_run_before_its_first_step() {
    let d = tmp("trace");
    let bad = write(
        &d,
        "bad.jsonl",
        "{\"trace\":\"alarm-button\",\"version\":1}\n{\"t_ms\":0,\"button\":\"down\"}\n{\"t_ms\":200,\"button\":\"up\"}\n{\"t_ms\":300,\"acc_g\":[0,1\n",
    );
    let f = write(
        &d,
        "t.feature",
        &format!(
            "Feature: T\n  Scenario: broken trace\n    Given the phone has 1 emergency contacts\n    When the trace \"{}\" is replayed\n    Then within 5 s every contact receives an SMS\n\n  Scenario: missing trace\n    When the trace \"nope/missing.jsonl\" is replayed\n",
            bad.display()
        ),
    );
    let s = runner::run(&RunOptions {
        paths: vec![f.display().to_string()],
        quiet: true,
        ..Default::default()
    })
    .expect("run");
    assert_eq!(s.scenarios.len(), 0, "{}", s.report());
    assert_eq!(s.exit_code(false), 2);
    assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
    assert!(s.problems[0].contains("t.feature:4:5"), "{}", s.problems[0]);
    assert!(s.problems[0].contains("bad.jsonl:4:"), "{}", s.problems[0]);
    assert!(s.problems[1].contains("t.feature:8:5"), "{}", s.problems[1]);
    assert!(s.problems[1].contains("not found"), "{}", s.problems[1]);
}

#[test]
fn a_feature_written_in_spec_wording_passes() {
    let d = tmp("spec");
    let f = write(
        &d,
        "spec.feature",
        r#"Feature: Written by QA from the spec only
  Scenario: Alert with a named table, a message and a position
    Given a button paired with a phone
    And the emergency contacts:
      | name  | phone        |
      | Alice | +33612345678 |
      | Bob   | +33687654321 |
    And the wearer's alert message is "Please come"
    And the phone is at 43.6047, 1.4442
    When the wearer presses the button
    Then within 10 s every contact receives an SMS
    And 2 contacts receive an SMS containing "Please come"
    And contact "Bob" receives an SMS containing "Please come"
    And every SMS contains the location 43.6047, 1.4442
    And exactly 2 SMS are sent
    And no call is placed
    And within 5 s the button vibrates

  Scenario: Noise
    Given the phone has 4 emergency contacts
    When the wearer presses the button for 25 ms
    And 1 minutes pass
    Then no alert is raised
"#,
    );
    let s = runner::run(&RunOptions {
        paths: vec![f.display().to_string()],
        quiet: true,
        ..Default::default()
    })
    .expect("run");
    assert!(s.ok(), "{}", s.report_with(true));
}

/// Blank the wall-clock figures: `time="…"`, `timestamp="…"` (JUnit) and
/// `"duration": N` (Cucumber JSON).
fn without_timings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["time=\"", "timestamp=\"", "\"duration\": "]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, *k)))
            .min();
        let Some((i, key)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let end = if key.ends_with('"') {
            rest.find('"').unwrap_or(rest.len())
        } else {
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len())
        };
        rest = &rest[end..];
    }
}

#[test]
fn reports_of_parallel_runs_equal_a_single_thread_run() {
    let d = tmp("jobs");
    let write_outputs = |jobs: usize| {
        let junit = d.join(format!("j{jobs}.xml"));
        let json = d.join(format!("c{jobs}.json"));
        let s = runner::run(&RunOptions {
            paths: vec![root().join("features").display().to_string()],
            junit: Some(junit.clone()),
            json: Some(json.clone()),
            jobs,
            quiet: true,
            ..Default::default()
        })
        .expect("run");
        assert!(s.ok(), "{}", s.report());
        let read = |p: &Path| std::fs::read_to_string(p).expect("report");
        (read(&junit), read(&json), s.scenarios.len())
    };
    let (j1, c1, n) = write_outputs(1);
    let (j2, c2, n2) = write_outputs(2);
    assert_eq!(n, n2);
    assert_eq!(
        without_timings(&j1),
        without_timings(&j2),
        "JUnit XML of --jobs 1 and --jobs 2 differ"
    );
    assert_eq!(
        without_timings(&c1),
        without_timings(&c2),
        "Cucumber JSON of --jobs 1 and --jobs 2 differ"
    );
    let doc = roxmltree::Document::parse(&j1).expect("xml");
    let suites = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    let features: Vec<serde_json::Value> = serde_json::from_str(&c1).expect("json");
    assert_eq!(suites, features.len(), "one testsuite per feature");
    let mut uris: Vec<_> = features.iter().map(|f| f["uri"].to_string()).collect();
    uris.dedup();
    assert_eq!(uris.len(), features.len(), "one JSON object per feature");
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        n
    );
}

#[test]
fn console_of_parallel_runs_equals_a_single_thread_run() {
    let run = |jobs: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
            .args(["run", "features", "--jobs", jobs])
            .current_dir(root())
            .output()
            .expect("run sim");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one.matches("[Summary]").count(), 1);
    assert!(one.contains("scenarios: "), "{one}");
}
