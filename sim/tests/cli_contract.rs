//! The `sim` binary's contract, case by case, as a CI or QA engineer meets it: exit
//! code 0 all passed, 1 a scenario or check failed, 2 bad input (unparsable feature,
//! undefined step, bad argument, unreadable trace, nothing selected unless
//! `--allow-empty`); Gherkin errors with file:line:column and what was expected;
//! `sim validate` making the same checks as `sim run` before its first step;
//! `FILE:LINE` selections and replay commands; one console stream and one JUnit
//! testsuite per feature whatever `--jobs`; even shards; consistent flags; the HTML
//! report's step statuses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A fresh folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

fn write(d: &Path, name: &str, text: &str) -> String {
    let p = d.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

/// Run `sim ARGS` in `cwd`: exit code and stdout + stderr.
fn sim_in(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run sim");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("panicked"),
        "`sim {}` panicked:\n{text}",
        args.join(" ")
    );
    (out.status.code().unwrap_or(-1), text)
}

fn sim(args: &[&str]) -> (i32, String) {
    sim_in(&repo(), args)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `sim ARGS` exits with `code` and says each of `needles`.
fn expect(args: &[&str], code: i32, needles: &[&str]) -> String {
    let (got, text) = sim(args);
    assert_eq!(got, code, "`sim {}`:\n{text}", args.join(" "));
    for n in needles {
        assert!(
            text.contains(n),
            "`sim {}`: expected {n:?} in:\n{text}",
            args.join(" ")
        );
    }
    text
}

/// Both `sim validate F` and `sim run F` exit 2 with the same messages.
fn bad_everywhere(f: &str, needles: &[&str]) {
    expect(&["validate", f], 2, needles);
    expect(&["run", f, "-q"], 2, needles);
}

const PASSING: &str = "Feature: Pass\n  Scenario: one\n    Given the phone has 2 emergency contacts\n    When the wearer presses the button\n    Then within 5 s every contact receives an SMS\n";

#[test]
fn gherkin_errors_name_file_line_column_and_what_was_expected() {
    let d = dir("gherkin");
    let f = write(&d, "outline.feature", "Feature: O\n  Scenario Outline: rows\n    When the wearer presses the button for <ms> ms\n    Then within 3 s exactly <n> SMS are sent\n\n    Examples:\n      | ms | x |\n      | 20 | 0 |\n");
    bad_everywhere(
        &f,
        &[
            "outline.feature:4:5",
            "placeholder <n> has no column",
            "ms, x",
        ],
    );
    let f = write(&d, "typo.feature", "Feature: T\n  Scenario: a\n    When the wearer presses the button\n\n  Scenari: b\n    When the wearer presses the button\n");
    bad_everywhere(
        &f,
        &[
            "typo.feature:5:3",
            "unknown keyword `Scenari: b`",
            "`Scenario:`",
        ],
    );
    let f = write(&d, "table.feature", "Feature: Tb\n  Scenario: a\n    Given the emergency contacts:\n      | name | phone |\n      | Al | +33611111111 | x |\n    When the wearer presses the button\n");
    bad_everywhere(&f, &["table.feature:5:7", "3 cells, expected 2"]);
    let f = write(&d, "norows.feature", "Feature: N\n  Scenario Outline: rows\n    When the wearer presses the button for <ms> ms\n\n    Examples:\n      | ms |\n");
    bad_everywhere(&f, &["norows.feature:5:5", "Examples without rows"]);
}

#[test]
fn parse_errors_anywhere_fail_the_run_and_only_named_files_are_parsed() {
    let d = dir("named");
    let a = write(&d, "a.feature", PASSING);
    let b = write(&d, "b.feature", &PASSING.replace("Pass", "Pass B"));
    write(&d, "c.feature", "Feature: C\n  Scenari: broken\n");
    let out = expect(&["run", &a, &b, "-q"], 0, &["2 passed, 0 failed"]);
    assert!(!out.contains("c.feature"), "{out}");
    let junit = d.join("j.xml");
    let folder = d.display().to_string();
    let junit_s = junit.display().to_string();
    expect(
        &["run", &folder, "-q", "--junit", &junit_s],
        2,
        &["c.feature:2:3"],
    );
}

#[test]
fn nothing_selected_is_bad_input_unless_allowed() {
    let d = dir("empty");
    let empty = d.join("none");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let empty = empty.display().to_string();
    expect(&["run", &empty], 2, &["no scenario selected"]);
    expect(&["run", &empty, "--allow-empty"], 0, &[]);
    expect(&["validate", &empty], 2, &["nothing to check"]);
    expect(&["validate", &empty, "--allow-empty"], 0, &[]);
    let f = write(&d, "p.feature", PASSING);
    expect(
        &["run", &f, "--tags", "@nonexistent"],
        2,
        &["no scenario selected"],
    );
    expect(
        &["run", &format!("{f}:99")],
        2,
        &["p.feature:99", "no scenario at line 99"],
    );
    expect(&["run", &format!("{f}:1")], 2, &["no scenario at line 1"]);
    // Any line of a scenario selects it.
    expect(
        &["run", &format!("{f}:4"), "-q"],
        0,
        &["1 passed, 0 failed"],
    );
}

#[test]
fn validate_makes_the_checks_run_makes_before_the_first_step() {
    let d = dir("args");
    let t = d.join("t.jsonl").display().to_string();
    std::fs::write(
        &t,
        "{\"trace\":\"alarm-button\",\"version\":1}\n{\"t_ms\":0,\"acc_g\":[0,1\n",
    )
    .expect("write");
    let cases = [
        (
            "six.feature",
            "Given the phone has 6 emergency contacts",
            "1 to 5",
        ),
        (
            "pct.feature",
            "Given the button battery is at 150%",
            "0 to 100",
        ),
        (
            "cols.feature",
            "Given the emergency contacts:\n      | who | tel |\n      | Al | +33611111111 |",
            "`name` column",
        ),
        (
            "e164.feature",
            "Given the emergency contacts:\n      | name | phone |\n      | Al | 0612 |",
            "E.164",
        ),
        (
            "missing.feature",
            "When the trace \"nope/none.jsonl\" is replayed",
            "not found",
        ),
        (
            "unreadable.feature",
            &format!("When the trace \"{t}\" is replayed"),
            "t.jsonl:2:",
        ),
    ];
    for (name, step, needle) in cases {
        let f = write(
            &d,
            name,
            &format!("Feature: A\n  Scenario: s\n    {step}\n    When 1 seconds pass\n"),
        );
        bad_everywhere(&f, &[&format!("{name}:3:5"), needle]);
    }
    let ok = write(&d, "ok.feature", PASSING);
    expect(
        &["validate", &ok, "scenarios/traces"],
        0,
        &["ok.feature: ok", "records"],
    );
}

#[test]
fn failures_say_expected_and_found_and_replay_exactly_that_scenario_or_row() {
    let d = dir("replay");
    let f = write(&d, "r.feature", "Feature: R\n  Scenario: fails\n    When the wearer presses the button for 10 ms\n    Then within 1 s no SMS is sent\n    * within 5 s every contact receives an SMS\n\n  Scenario Outline: rows\n    When the wearer presses the button for <ms> ms\n    Then within 3 s exactly <n> SMS are sent\n\n    Examples:\n      | ms | n |\n      | 20 | 0 |\n      | 90 | 2 |\n      | 90 | 1 |\n");
    let out = expect(
        &["run", &f, "-q"],
        1,
        &[
            "r.feature:5:5",
            "expected: every contact receives an SMS (within 5 s)",
            "found: ",
            "2 passed, 2 failed",
        ],
    );
    assert!(!out.contains("Step panicked"), "{out}");
    // The failing row's replay command runs that row only.
    let replay = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("replay: sim run "))
        .find(|l| l.contains(":14 "))
        .expect("a replay command for the row at line 14");
    let args: Vec<&str> = replay.split_whitespace().collect();
    let mut all = vec!["run", "-q"];
    all.extend(args);
    expect(&all, 1, &["0 passed, 1 failed", "r.feature:14"]);
    expect(
        &["run", &format!("{f}:15"), "-q"],
        0,
        &["1 passed, 0 failed"],
    );
    // A line of the outline that is not a row selects every row.
    expect(
        &["run", &format!("{f}:8"), "-q"],
        1,
        &["2 passed, 1 failed"],
    );
    // `*` after a Then is a Then.
    let star = write(
        &d,
        "star.feature",
        &format!("{PASSING}    * within 5 s exactly 2 SMS are sent\n"),
    );
    expect(&["run", &star, "-q"], 0, &["1 passed"]);
}

#[test]
fn outline_values_are_not_substituted_again() {
    let d = dir("bomb");
    let cols = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let header = cols.map(|c| format!(" {c} ")).join("|");
    let row: Vec<String> = cols
        .windows(2)
        .map(|w| format!("<{}>", w[1]).repeat(6))
        .chain(["1".to_string()])
        .collect();
    let text = format!(
        "Feature: B\n  Scenario Outline: o\n    When the wearer presses the button for <a> ms\n\n    Examples:\n      |{header}|\n      | {} |\n",
        row.join(" | ")
    );
    assert!(text.len() < 1000, "{}", text.len());
    let f = write(&d, "bomb.feature", &text);
    let started = Instant::now();
    expect(&["validate", &f], 2, &["bomb.feature:3:5", "<b><b>"]);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// The 843-byte feature of issue 14: eighteen columns whose values name the next
/// column (a recursive expansion would double at each), and a step made of one
/// placeholder repeated (a single pass still multiplies it by the value's length).
/// `validate` and `run` both refuse it at once with the file, line and column.
#[test]
fn an_adversarial_843_byte_outline_is_refused_quickly_and_clearly() {
    let d = dir("bomb843");
    let cols: Vec<String> = (b'a'..=b'r').map(|c| (c as char).to_string()).collect();
    let header = cols.join("|");
    let mut row: Vec<String> = cols
        .windows(2)
        .map(|w| format!("<{}>", w[1]).repeat(2))
        .collect();
    row.push("x".repeat(180));
    let step = format!(
        "When the wearer presses the button for {} ms",
        "<r>".repeat(100)
    );
    let mut text = format!(
        "Feature: B\n  Scenario Outline: o\n    {step}\n    Then <a>\n\n    Examples:\n      |{header}|\n      |{}|\n",
        row.join("|")
    );
    let pad = 843 - text.len() - 2;
    text.push_str(&format!("#{}\n", "p".repeat(pad)));
    assert_eq!(text.len(), 843);
    let f = write(&d, "bomb843.feature", &text);
    for cmd in ["validate", "run"] {
        let started = Instant::now();
        expect(
            &[cmd, &f],
            2,
            &[
                "bomb843.feature:3:5",
                "expands to 18037 bytes",
                "expected at most 16384",
            ],
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{cmd}");
    }
}

#[test]
fn jobs_give_one_console_stream_and_one_junit_testsuite_per_feature() {
    let d = dir("jobs");
    let j1 = d.join("j1.xml").display().to_string();
    let j2 = d.join("j2.xml").display().to_string();
    let (c1, one) = sim(&["run", "features", "-j", "1", "--junit", &j1]);
    let (c2, two) = sim(&["run", "features", "-j", "2", "--junit", &j2]);
    assert_eq!((c1, c2), (0, 0), "{two}");
    assert_eq!(one, two);
    assert_eq!(two.matches("[Summary]").count(), 1, "{two}");
    assert_eq!(
        two.matches("Feature: Alert SMS on a single press\n")
            .count(),
        1
    );
    let xml = std::fs::read_to_string(&j2).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("xml");
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "{names:?}");
}

/// The scenarios `sim run --list` selects.
fn listed(args: &[&str]) -> Vec<String> {
    let mut all = vec!["run", "features", "--list"];
    all.extend(args);
    let (code, out) = sim(&all);
    assert_eq!(code, 0, "{out}");
    out.lines().map(str::to_string).collect()
}

#[test]
fn shards_split_evenly_and_together_select_everything_once() {
    let all = listed(&[]);
    assert!(all.len() > 20);
    let (a, b) = (listed(&["--shard", "1/2"]), listed(&["--shard", "2/2"]));
    assert!(a.len().abs_diff(b.len()) <= 1, "{} vs {}", a.len(), b.len());
    let mut both: Vec<String> = a.into_iter().chain(b).collect();
    both.sort();
    let mut all = all;
    all.sort();
    assert_eq!(both, all);
}

#[test]
fn flags_are_named_alike_and_exit_codes_agree() {
    let d = dir("flags");
    let f = write(&d, "p.feature", PASSING);
    let out = d.join("c.json").display().to_string();
    expect(&["run", &f, "-q", "--json-out", &out], 0, &[]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("json");
    assert_eq!(v[0]["elements"].as_array().map(Vec::len), Some(1));
    let old = d.join("old.json").display().to_string();
    expect(
        &["run", &f, "-q", "--json", &old],
        0,
        &["deprecated", "--json-out"],
    );
    assert!(Path::new(&old).is_file());
    let trace = "scenarios/traces/fall_forward.jsonl";
    let t = d.join("t.json").display().to_string();
    expect(
        &[
            "replay",
            trace,
            "--device-profile",
            "scenarios/profiles/default.json",
            "--json-out",
            &t,
        ],
        0,
        &[],
    );
    assert!(Path::new(&t).is_file());
    expect(&["replay", trace, "--json"], 0, &["["]);
    expect(&["replay", "/nonexistent.jsonl"], 2, &["nonexistent.jsonl"]);
    expect(
        &[
            "battery",
            "--cell",
            "scenarios/profiles/cells/cr2032.json",
            "--json",
        ],
        0,
        &["{"],
    );
    expect(
        &[
            "fleet",
            "--devices",
            "2",
            "--hours",
            "1",
            "-j",
            "1",
            "--json",
        ],
        0,
        &["{"],
    );
    expect(&["falls", "eval", "/nonexistent"], 2, &["not a folder"]);
    expect(&["run", "--no-such-flag"], 2, &[]);
    for cmd in [
        "run",
        "replay",
        "falls eval",
        "fleet",
        "battery",
        "steps",
        "validate",
        "hil",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        expect(&args, 0, &["Examples:", "Exit codes:", "2  bad input"]);
    }
}

#[test]
fn list_and_fail_fast() {
    let d = dir("fast");
    let f = write(&d, "f.feature", "Feature: F\n  Scenario: a\n    When the wearer presses the button for 10 ms\n    Then within 5 s exactly 1 SMS are sent\n\n  Scenario: b\n    When the wearer presses the button for 10 ms\n    Then within 5 s exactly 1 SMS are sent\n");
    expect(
        &["run", &f, "--list"],
        0,
        &["f.feature:2\tF::a", "f.feature:6\tF::b"],
    );
    expect(&["run", &f, "-q"], 1, &["0 passed, 2 failed"]);
    expect(
        &["run", &f, "-q", "-j", "1", "--fail-fast"],
        1,
        &["0 passed, 1 failed"],
    );
}

#[test]
fn html_report_shows_the_step_statuses_the_runner_saw() {
    let d = dir("html");
    let f = write(&d, "h.feature", "Feature: H\n  Scenario: passes\n    Given the phone has 1 emergency contacts\n    When the wearer presses the button\n    Then within 5 s every contact receives an SMS\n\n  Scenario: fails\n    When the wearer presses the button for 10 ms\n    Then within 5 s exactly 1 SMS are sent\n    And no call is placed\n");
    let html = d.join("r.html").display().to_string();
    expect(&["run", &f, "-q", "--html", &html], 1, &[]);
    let page = std::fs::read_to_string(&html).expect("html");
    let section = |name: &str| {
        let start = page.find(&format!("<h2>H: {name}</h2>")).expect("section");
        let end = page[start..]
            .find("</section>")
            .map_or(page.len(), |e| start + e);
        page[start..end].to_string()
    };
    let statuses = |s: &str| -> Vec<String> {
        s.match_indices("<span class=\"status ")
            .filter_map(|(i, _)| {
                let rest = &s[i..];
                let a = rest.find('[')?;
                let b = rest.find(']')?;
                Some(rest[a + 1..b].to_string())
            })
            .collect()
    };
    assert_eq!(statuses(&section("passes")), ["passed", "passed", "passed"]);
    assert_eq!(statuses(&section("fails")), ["passed", "failed", "skipped"]);
}
