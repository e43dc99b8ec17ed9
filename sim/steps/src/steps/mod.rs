//! The domain language of SPEC §4: every step the harness understands, with an example
//! each, as typed values, and the benches they run against.
//!
//! Steps are data ([`StepDef`]): a pattern in the spec's notation (`{n}` a number,
//! `{text}` a double-quoted string), the keyword it belongs to, an example, and how its
//! captures become a typed step ([`Step`]: [`Given`], [`When`], [`Then`]). State checks
//! (`Then` steps marked `check`) also accept the prefix `within {n} s `. The same table
//! drives the cucumber runner, `sim steps`, `sim validate`, [`parse`] and the "closest
//! known steps" suggestions: no step wording exists anywhere else.
//!
//! A parsed step runs on a [`Bench`] ([`run_step`]): the simulator (`SimBench`, which
//! the runner uses) or a hardware rig (`sim_rig`). Then checks are written once (in
//! `checks`) over the [`Observation`] both provide.
//!
//! Domains: [`setup`] (Given), [`wearer`] (gestures and traces), [`faults`] (link,
//! phone, network, attackers), [`time`], [`checks`] (Then), [`attacks`] (a second
//! central and a sniffer, with their checks).

/// A catalogue entry: keyword, domain, pattern, example, and how the captures become
/// the step's typed value (`$build: fn(&Args) -> Result<_, String>`; for Then, the
/// check, to which the `within` prefix is added).
macro_rules! step {
    (Then, $domain:expr, $pat:expr, $ex:expr, $build:expr) => {
        $crate::steps::StepDef {
            kind: $crate::steps::Kind::Then,
            pattern: $pat,
            example: $ex,
            check: true,
            domain: $domain,
            build: |a| {
                Ok($crate::steps::Step::Then($crate::steps::Then {
                    within: a.within()?,
                    check: $build(a)?,
                }))
            },
        }
    };
    ($kind:ident, $domain:expr, $pat:expr, $ex:expr, $build:expr) => {
        $crate::steps::StepDef {
            kind: $crate::steps::Kind::$kind,
            pattern: $pat,
            example: $ex,
            check: false,
            domain: $domain,
            build: |a| Ok($crate::steps::Step::$kind($build(a)?)),
        }
    };
}

mod attacks;
mod bench;
mod checks;
mod faults;
mod observe;
mod privacy;
mod setup;
mod sim_bench;
mod time;
mod typed;
mod wearer;
pub mod world;

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

pub use bench::{run_step, Bench, StepResult};
pub use observe::{Call, Observation, Sms, StoredRecording};
pub(crate) use sim_bench::SimBench;
pub use typed::{Answer, Check, Given, Step, Then, When};
pub(crate) use wearer::resolve_trace;
pub use world::AlarmWorld;

use crate::RunError;

/// The error [`parse`] returns: [`RunError::UndefinedStep`],
/// [`RunError::AmbiguousStep`] or [`RunError::InvalidStep`] (the crate's one error
/// enum).
pub type ParseError = RunError;

/// The keyword a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Configuration.
    Given,
    /// Action.
    When,
    /// Check.
    Then,
}

impl Kind {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::When => "When",
            Kind::Then => "Then",
        }
    }
}

/// What a step function receives.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// The `within {n} s` prefix, in seconds, when given.
    pub within: Option<f64>,
    /// The captures of `{n}` and `{text}`, in order.
    pub vals: Vec<String>,
    /// The step's data table, if any (rows of cells).
    pub table: Option<Vec<Vec<String>>>,
}

impl Args {
    /// Capture `i` as a number.
    pub fn num(&self, i: usize) -> Result<f64, String> {
        let v = self
            .vals
            .get(i)
            .ok_or_else(|| format!("missing argument {}", i + 1))?;
        v.parse::<f64>()
            .map_err(|_| format!("expected a number, found {v:?}"))
    }

    /// Capture `i` as a whole number within `lo..=hi`.
    pub fn int(&self, i: usize, lo: u64, hi: u64) -> Result<u64, String> {
        let x = self.num(i)?;
        if x.fract() != 0.0 || x < lo as f64 || x > hi as f64 {
            return Err(format!(
                "expected a whole number from {lo} to {hi}, found {x}"
            ));
        }
        Ok(x as u64)
    }

    /// Capture `i`, a number of `unit_s` seconds, as a duration of at most `max_s`
    /// seconds (rounded to the microsecond); `what` names it in the error.
    pub(crate) fn duration(
        &self,
        i: usize,
        unit_s: f64,
        max_s: f64,
        what: &str,
    ) -> Result<Duration, String> {
        let n = self.num(i)?;
        let s = n * unit_s;
        if !(0.0..=max_s).contains(&s) {
            return Err(format!("expected {what}, got {n}"));
        }
        Ok(Duration::from_micros((s * 1e6).round() as u64))
    }

    /// The `within {n} s` prefix as a duration.
    pub(crate) fn within(&self) -> Result<Option<Duration>, String> {
        Ok(self
            .within
            .map(|w| Duration::from_micros((w * 1e6).round() as u64)))
    }

    /// Captures `i` and `i + 1` as a latitude and a longitude.
    pub(crate) fn lat_lon(&self, i: usize) -> Result<(f64, f64), String> {
        let (lat, lon) = (self.num(i)?, self.num(i + 1)?);
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(format!(
                "expected latitude in -90..90 and longitude in -180..180, got {lat}, {lon}"
            ));
        }
        Ok((lat, lon))
    }

    /// Capture `i` as text.
    pub fn text(&self, i: usize) -> Result<&str, String> {
        self.vals
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument {}", i + 1))
    }
}

/// How a step's captures become a typed step (why not, for a bad argument).
pub type BuildFn = fn(&Args) -> Result<Step, String>;

/// One step of the vocabulary.
#[derive(Clone, Copy)]
pub struct StepDef {
    /// Keyword.
    pub kind: Kind,
    /// Pattern in the spec's notation.
    pub pattern: &'static str,
    /// An example use.
    pub example: &'static str,
    /// A state check: also accepts `within {n} s `.
    pub check: bool,
    /// Domain (for grouping in `sim steps`).
    pub domain: &'static str,
    /// Its typed value, from its captures.
    pub build: BuildFn,
}

impl std::fmt::Debug for StepDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.pattern)
    }
}

const NUM: &str = r"(-?[0-9]+(?:\.[0-9]+)?)";
const TEXT: &str = r#""([^"]*)""#;

/// The regex of a pattern (anchored).
pub fn pattern_regex(def: &StepDef) -> String {
    let mut re = String::from("^");
    if def.check {
        re.push_str(&format!("(?:within {NUM} s )?"));
    }
    let mut rest = def.pattern;
    while let Some(i) = rest.find('{') {
        re.push_str(&regex::escape(&rest[..i]));
        let after = &rest[i..];
        if let Some(r) = after.strip_prefix("{n}") {
            re.push_str(NUM);
            rest = r;
        } else if let Some(r) = after.strip_prefix("{text}") {
            re.push_str(TEXT);
            rest = r;
        } else {
            re.push_str(&regex::escape("{"));
            rest = &after[1..];
        }
    }
    re.push_str(&regex::escape(rest));
    re.push('$');
    re
}

/// Every step, with its compiled regex.
pub fn catalogue() -> &'static [(StepDef, Regex)] {
    static CAT: OnceLock<Vec<(StepDef, Regex)>> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut defs = Vec::new();
        defs.extend_from_slice(setup::STEPS);
        defs.extend_from_slice(wearer::STEPS);
        defs.extend_from_slice(time::STEPS);
        defs.extend_from_slice(faults::STEPS);
        defs.extend_from_slice(checks::STEPS);
        defs.extend_from_slice(attacks::STEPS);
        defs.extend_from_slice(privacy::STEPS);
        defs.into_iter()
            .map(|d| {
                let re = Regex::new(&pattern_regex(&d));
                // Patterns are constants of this file set; a bad one is caught by tests.
                (
                    d,
                    re.unwrap_or_else(|e| panic!("bad step pattern {:?}: {e}", d.pattern)),
                )
            })
            .collect()
    })
}

/// The steps of `kind` matching `text`, with their arguments.
pub fn find(kind: Kind, text: &str) -> Vec<(&'static StepDef, Args)> {
    catalogue()
        .iter()
        .filter(|(d, _)| d.kind == kind && could_match(d, text))
        .filter_map(|(d, re)| {
            let caps = re.captures(text)?;
            let mut args = Args::default();
            let mut it = caps.iter().skip(1);
            if d.check {
                args.within = it.next().flatten().and_then(|m| m.as_str().parse().ok());
            }
            args.vals = it.flatten().map(|m| m.as_str().to_string()).collect();
            Some((d, args))
        })
        .collect()
}

/// A cheap necessary condition for `def` to match `text`: the pattern's literal
/// start (up to its first placeholder) begins the text, after a check's optional
/// `within N s `.
fn could_match(def: &StepDef, text: &str) -> bool {
    let literal = def.pattern.split('{').next().unwrap_or_default();
    let mut rest = text;
    if def.check {
        if let Some(after) = text.strip_prefix("within ") {
            if let Some(i) = after.find(" s ") {
                rest = &after[i + 3..];
            }
        }
    }
    rest.starts_with(literal) || text.starts_with(literal)
}

/// Parse one step: the keyword, the text (an outline's placeholders already
/// replaced), and the data table (rows of cells) if any.
pub fn parse(kind: Kind, text: &str, table: Option<&[Vec<String>]>) -> Result<Step, ParseError> {
    let mut found = find(kind, text);
    if found.len() > 1 {
        return Err(RunError::AmbiguousStep {
            step: format!("{} {text}", kind.name()),
            patterns: found.iter().map(|f| f.0.pattern).collect(),
        });
    }
    let Some((def, mut args)) = found.pop() else {
        return Err(RunError::UndefinedStep {
            step: format!("{} {text}", kind.name()),
            closest: closest(Some(kind), text, 3),
        });
    };
    args.table = table.map(<[Vec<String>]>::to_vec);
    (def.build)(&args).map_err(RunError::InvalidStep)
}

/// The known steps closest to `text` (by edit distance over their shapes).
pub fn closest(kind: Option<Kind>, text: &str, n: usize) -> Vec<String> {
    let shape = shape_of(text);
    let mut scored: Vec<(usize, String)> = catalogue()
        .iter()
        .filter(|(d, _)| kind.is_none_or(|k| k == d.kind))
        .map(|(d, _)| {
            let p = d.pattern.replace("{n}", "N").replace("{text}", "T");
            let stripped = shape.strip_prefix("within N s ").unwrap_or(&shape);
            (
                levenshtein(stripped, &p),
                format!("{} {}", d.kind.name(), d.pattern),
            )
        })
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, s)| s).collect()
}

/// Replace numbers by `N` and quoted strings by `T`.
fn shape_of(text: &str) -> String {
    let q = Regex::new(TEXT)
        .map(|r| r.replace_all(text, "T").into_owned())
        .unwrap_or_default();
    Regex::new(r"-?[0-9]+(?:\.[0-9]+)?")
        .map(|r| r.replace_all(&q, "N").into_owned())
        .unwrap_or_default()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_matches_exactly_its_own_step() {
        for (d, _) in catalogue() {
            let m = find(d.kind, d.example);
            assert_eq!(
                m.len(),
                1,
                "{:?} example {:?} matched {:?}",
                d,
                d.example,
                m.iter().map(|x| x.0).collect::<Vec<_>>()
            );
            assert_eq!(m[0].0.pattern, d.pattern);
            if d.check {
                let w = format!("within 5 s {}", d.example);
                let m = find(d.kind, &w);
                assert_eq!(m.len(), 1, "{w}");
                assert_eq!(m[0].1.within, Some(5.0));
            }
        }
    }

    #[test]
    fn every_example_parses_to_a_step_of_its_keyword() {
        let table = vec![
            vec!["name".to_string(), "phone".to_string()],
            vec!["Alice".to_string(), "+33611111111".to_string()],
        ];
        for (d, _) in catalogue() {
            let step =
                parse(d.kind, d.example, Some(&table)).unwrap_or_else(|e| panic!("{d:?}: {e}"));
            let kind = match step {
                Step::Given(_) => Kind::Given,
                Step::When(_) => Kind::When,
                Step::Then(_) => Kind::Then,
            };
            assert_eq!(kind, d.kind, "{d:?}");
        }
        let within = parse(Kind::Then, "within 2.5 s the siren is on", None);
        assert_eq!(
            within.ok(),
            Some(Step::Then(Then {
                within: Some(Duration::from_millis(2500)),
                check: Check::Siren { on: true },
            }))
        );
    }

    #[test]
    fn typed_fields_and_errors() {
        let p = |k, t| parse(k, t, None);
        assert_eq!(
            p(Kind::When, "90 minutes pass").ok(),
            Some(Step::When(When::Pass(Duration::from_secs(5400))))
        );
        assert_eq!(
            p(Kind::When, "the wearer presses the button for 30 ms").ok(),
            Some(Step::When(When::RawPress(Duration::from_millis(30))))
        );
        assert_eq!(
            p(Kind::Given, "the phone is at 48.8566, -2.5").ok(),
            Some(Step::Given(Given::PhoneAt {
                lat: 48.8566,
                lon: -2.5
            }))
        );
        assert!(matches!(
            p(Kind::Given, "the phone has 9 emergency contacts"),
            Err(RunError::InvalidStep(e)) if e.contains("1 to 5")
        ));
        assert!(matches!(
            p(Kind::When, "the wearer presses the buton"),
            Err(RunError::UndefinedStep { closest, .. })
                if closest[0] == "When the wearer presses the button"
        ));
        assert!(matches!(
            p(Kind::Given, "the emergency contacts:"),
            Err(RunError::InvalidStep(_))
        ));
    }

    #[test]
    fn suggestions_are_close() {
        let s = closest(Some(Kind::Then), "every contacts receives a SMS", 1);
        assert_eq!(s, vec!["Then every contact receives an SMS".to_string()]);
    }
}
