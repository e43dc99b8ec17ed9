//! Planning a rig run: the scenarios tagged `@hil` (on the scenario, its rule or its
//! feature) of feature files, outlines expanded and backgrounds prepended, each step
//! parsed by the simulator's parser ([`sim_steps::steps::parse`]).

use std::collections::BTreeMap;
use std::path::Path;

use cucumber::gherkin::{self, GherkinEnv};
use sim_steps::runner::kind_of;
use sim_steps::steps::{self, Step};

use crate::HilError;

/// A step of a scenario, with its location and resolved text.
#[derive(Clone, Debug)]
pub struct PlannedStep {
    /// The step's text as written (placeholders replaced), with its keyword.
    pub text: String,
    /// Its line.
    pub line: usize,
    /// The parsed step, or why it does not parse (a bad argument fails its scenario).
    pub step: Result<Step, String>,
}

/// One scenario (one example row of an outline) to run.
#[derive(Clone, Debug)]
pub struct Planned {
    /// `file:line`.
    pub location: String,
    /// Scenario name (with the example row's number).
    pub name: String,
    /// Its steps, background first.
    pub steps: Vec<PlannedStep>,
}

fn tagged_hil(tags: &[String]) -> bool {
    tags.iter().any(|t| t.trim_start_matches('@') == "hil")
}

/// The example rows of an outline (one empty row for a plain scenario).
fn example_rows(sc: &gherkin::Scenario) -> Vec<BTreeMap<String, String>> {
    let mut rows: Vec<BTreeMap<String, String>> = Vec::new();
    for ex in &sc.examples {
        if let Some((header, body)) = ex.table.as_ref().and_then(|t| t.rows.split_first()) {
            for r in body {
                rows.push(header.iter().cloned().zip(r.iter().cloned()).collect());
            }
        }
    }
    if rows.is_empty() {
        rows.push(BTreeMap::new());
    }
    rows
}

fn plan_step(st: &gherkin::Step, row: &BTreeMap<String, String>) -> Result<PlannedStep, String> {
    let mut text = st.value.clone();
    for (k, v) in row {
        text = text.replace(&format!("<{k}>"), v);
    }
    let kind = kind_of(st.ty);
    let table = st.table.as_ref().map(|t| t.rows.as_slice());
    let step = match steps::parse(kind, &text, table) {
        Ok(s) => Ok(s),
        Err(e @ sim_steps::RunError::InvalidStep(_)) => Err(e.to_string()),
        Err(e) => return Err(format!("line {}: {e}", st.position.line)),
    };
    Ok(PlannedStep {
        text: format!("{} {text}", kind.name()),
        line: st.position.line,
        step,
    })
}

/// The `@hil` scenarios of one feature file. An undefined or ambiguous step is an
/// error of the file.
fn plan_feature(path: &Path) -> Result<Vec<Planned>, HilError> {
    let bad = |message: String| HilError::Feature {
        path: path.display().to_string(),
        message,
    };
    let feature = gherkin::Feature::parse_path(path, GherkinEnv::default())
        .map_err(|e| bad(format!("cannot parse: {e}")))?;
    let feature_hil = tagged_hil(&feature.tags);
    let mut groups: Vec<(Option<&gherkin::Background>, &gherkin::Scenario, bool)> = Vec::new();
    for sc in &feature.scenarios {
        groups.push((feature.background.as_ref(), sc, feature_hil));
    }
    for rule in &feature.rules {
        let bg = rule.background.as_ref().or(feature.background.as_ref());
        for sc in &rule.scenarios {
            groups.push((bg, sc, feature_hil || tagged_hil(&rule.tags)));
        }
    }
    let mut out = Vec::new();
    for (bg, sc, inherited) in groups {
        if !(inherited || tagged_hil(&sc.tags)) {
            continue;
        }
        let rows = example_rows(sc);
        for (i, row) in rows.iter().enumerate() {
            let steps = bg
                .iter()
                .flat_map(|b| b.steps.iter())
                .chain(sc.steps.iter())
                .map(|st| plan_step(st, row))
                .collect::<Result<_, _>>()
                .map_err(&bad)?;
            let name = if row.is_empty() {
                sc.name.clone()
            } else {
                format!("{} (example {})", sc.name, i + 1)
            };
            out.push(Planned {
                location: format!("{}:{}", path.display(), sc.position.line),
                name,
                steps,
            });
        }
    }
    Ok(out)
}

/// The `@hil` scenarios of the feature files under `paths` (files or folders).
pub fn plan(paths: &[String]) -> Result<Vec<Planned>, HilError> {
    let files = sim_steps::runner::collect_features(paths).map_err(|e| HilError::Feature {
        path: paths.join(" "),
        message: e.to_string(),
    })?;
    let mut planned = Vec::new();
    for (path, _) in &files {
        planned.extend(plan_feature(path)?);
    }
    Ok(planned)
}
