//! The JUnit XML sink: one `<testsuite>` per feature (`Feature: NAME: FILE`), one
//! `<testcase>` per scenario (`Scenario: NAME: FILE:LINE:COLUMN`), a `<failure>` with the
//! step's error for a failed scenario, the scenario's console text in the failure or in
//! `<system-out>`. Written when the run finishes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::console::scenario_text;
use super::html::esc;
use crate::sink::{Event, FeatureInfo, ScenarioEnd, ScenarioInfo, Sink, StepResult, StepStatus};
use crate::RunError;

/// The testsuite being written.
#[derive(Default)]
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    time: Duration,
    started: Option<SystemTime>,
    cases: String,
}

/// Collects the run and writes JUnit XML to a file.
pub struct JunitSink {
    path: PathBuf,
    suites: String,
    count: usize,
    suite: Suite,
    steps: Vec<StepResult>,
}

impl JunitSink {
    /// To `path`.
    pub fn new(path: &Path) -> Self {
        JunitSink {
            path: path.to_path_buf(),
            suites: String::new(),
            count: 0,
            suite: Suite::default(),
            steps: Vec::new(),
        }
    }

    fn feature_started(&mut self, f: &FeatureInfo) {
        self.suite = Suite {
            name: format!("{}: {}: {}", f.keyword, f.name, f.file),
            ..Suite::default()
        };
    }

    fn scenario_finished(&mut self, sc: &ScenarioInfo, end: &ScenarioEnd) {
        let steps = std::mem::take(&mut self.steps);
        let s = &mut self.suite;
        s.tests += 1;
        s.time += end.duration;
        s.started = match (s.started, sc.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let rule = sc
            .rule
            .as_ref()
            .map(|r| format!("Rule: {r}: "))
            .unwrap_or_default();
        let m = &sc.meta;
        let name = format!(
            "{rule}Scenario: {}: {}:{}:{}",
            m.scenario, m.file, m.line, sc.column
        );
        let text = cdata(&scenario_text(sc, &steps));
        let _ = write!(
            s.cases,
            "<testcase name=\"{}\" time=\"{}\">",
            esc(&name),
            secs(end.duration)
        );
        let undefined = steps.iter().any(|st| st.status == StepStatus::Undefined);
        match &end.message {
            None => {
                let _ = write!(s.cases, "<system-out>{text}</system-out>");
            }
            Some(_) if undefined && !steps.iter().any(|st| st.status == StepStatus::Failed) => {
                let _ = write!(s.cases, "<skipped/><system-out>{text}</system-out>");
            }
            Some(message) => {
                s.failures += 1;
                let ty = if steps.iter().any(|st| st.status == StepStatus::Failed) {
                    "Step Panicked"
                } else {
                    "Hook Panicked"
                };
                let _ = write!(
                    s.cases,
                    "<failure type=\"{ty}\" message=\"{}\">{text}</failure>",
                    esc(message)
                );
            }
        }
        s.cases.push_str("</testcase>");
    }

    fn feature_finished(&mut self) {
        let s = std::mem::take(&mut self.suite);
        let _ = write!(
            self.suites,
            "<testsuite id=\"{}\" name=\"{name}\" package=\"testsuite/{name}\" tests=\"{}\" errors=\"0\" failures=\"{}\" hostname=\"localhost\" timestamp=\"{}\" time=\"{}\">{}</testsuite>",
            self.count,
            s.tests,
            s.failures,
            rfc3339(s.started.unwrap_or_else(SystemTime::now)),
            secs(s.time),
            s.cases,
            name = esc(&s.name),
        );
        self.count += 1;
    }

    fn write(&self) -> Result<(), RunError> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites>{}</testsuites>",
            self.suites
        );
        std::fs::write(&self.path, xml).map_err(|e| RunError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })
    }
}

impl Sink for JunitSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        match event {
            Event::FeatureStarted(f) => self.feature_started(f),
            Event::StepFinished(_, step) => self.steps.push((*step).clone()),
            Event::ScenarioFinished(sc, end) => self.scenario_finished(sc, end),
            Event::FeatureFinished(_) => self.feature_finished(),
            Event::RunFinished(_) => return self.write(),
            Event::RunStarted(_) | Event::ScenarioStarted(..) => {}
        }
        Ok(())
    }
}

/// Seconds with nanoseconds: `0.034587052`.
fn secs(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Text as CDATA (a `]]>` inside is split across two sections; control characters that
/// XML forbids are escaped as by [`esc`]).
fn cdata(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') {
                '?'
            } else {
                c
            }
        })
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// A UTC time as RFC 3339 with nanoseconds: `2026-01-05T09:00:00.000000000Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, rem) = (d.as_secs() / 86_400, d.as_secs() % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_cdata() {
        let t = UNIX_EPOCH + Duration::from_secs(1_767_603_600);
        assert_eq!(rfc3339(t), "2026-01-05T09:00:00.000000000Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000000Z");
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(secs(Duration::from_millis(1500)), "1.500000000");
    }
}
