//! Planning a run: read and parse exactly the feature files named, check them (the text
//! pre-pass of [`super::lint`], Gherkin, outline placeholders, every step against the
//! catalogue with its arguments, every trace a step names read to its end), expand
//! outlines into one scenario per example row, and select what to run (`FILE:LINE`,
//! tags, name, shard). `sim validate` and `sim run` share all of it, so a file that
//! validates has no set-up error at run time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cucumber::gherkin::{self, GherkinEnv, StepType};
use cucumber::tag::Ext as _;
use regex::Regex;

use super::lint;
use crate::rng::derive_seed;
use crate::sink::{FeatureInfo, ScenarioInfo};
use crate::steps::world::ScenarioMeta;
use crate::steps::{self, Kind, Step, When};

/// One step as it will run: keyword kind resolved (`*`, `And`, `But` take the kind of
/// the step before), outline placeholders replaced.
#[derive(Clone, Debug)]
pub struct PlannedStep {
    /// The keyword as written (`Given `, `* `).
    pub keyword: String,
    /// The kind it is matched as.
    pub kind: Kind,
    /// Its text.
    pub text: String,
    /// Its data table.
    pub table: Option<Vec<Vec<String>>>,
    /// Its line.
    pub line: usize,
    /// Its column.
    pub column: usize,
    /// Whether it comes from a background.
    pub background: bool,
}

/// One runnable scenario: a scenario, or one example row of an outline.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Its feature.
    pub feature: FeatureInfo,
    /// Its metadata (its line is the example row's for an outline row) and seed.
    pub info: ScenarioInfo,
    /// Background steps, then its own.
    pub steps: Vec<PlannedStep>,
    /// The lines it covers (for `FILE:LINE`): from its keyword to before the next one.
    pub span: (usize, usize),
    /// The line of its example row, for an outline row.
    pub row_line: Option<usize>,
    /// Every tag that applies (feature, rule, scenario, examples).
    pub all_tags: Vec<String>,
    /// Its test name: `feature::scenario[::row]`.
    pub name: String,
    /// Its file, canonical (to match selections).
    pub path: PathBuf,
    /// An outline row whose steps name a placeholder its Examples lack (reported once,
    /// as such, not again as undefined steps).
    pub unfilled: bool,
}

/// The features of a run: every scenario of the files, and every problem found.
#[derive(Debug, Default)]
pub struct Plan {
    /// Every scenario of the files, in file order.
    pub scenarios: Vec<Planned>,
    /// Problems: `file:line:column: what was expected`.
    pub problems: Vec<String>,
}

/// A feature file's parse, with what the plan needs of its text.
struct Source<'a> {
    path: &'a Path,
    shown: String,
    lines: Vec<&'a str>,
    run_seed: u64,
}

/// Load, check and expand the given feature files (each once, in the given order).
pub fn load(files: &[PathBuf], run_seed: u64) -> Plan {
    let mut plan = Plan::default();
    let mut seen = BTreeSet::new();
    for f in files {
        if seen.insert(super::canonical(f)) {
            load_file(f, run_seed, &mut plan);
        }
    }
    check_steps(&mut plan);
    name_uniquely(&mut plan.scenarios);
    plan
}

fn load_file(path: &Path, run_seed: u64, plan: &mut Plan) {
    let shown = super::rel(path);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return plan.problems.push(format!("{shown}: cannot read: {e}")),
    };
    let lints = lint::check(&text);
    let had_lints = !lints.is_empty();
    for l in lints {
        plan.problems
            .push(format!("{shown}:{}:{}: {}", l.line, l.col, l.message));
    }
    let mut feature = match gherkin::Feature::parse(&text, GherkinEnv::default()) {
        Ok(f) => f,
        Err(e) => {
            if !had_lints {
                plan.problems.push(format!("{shown}:{}", parse_error(&e)));
            }
            return;
        }
    };
    feature.path = Some(path.to_path_buf());
    let src = Source {
        path,
        shown,
        lines: text.lines().collect(),
        run_seed,
    };
    expand_feature(&src, &feature, plan);
}

/// Gherkin's "Error at L:C: {expected set}" as `L:C: cannot parse: expected one of …`
/// (the set sorted, so the message is stable).
fn parse_error(e: &gherkin::ParseError) -> String {
    let text = e.to_string();
    let Some((pos, set)) = text
        .strip_prefix("Error at ")
        .and_then(|r| r.split_once(": "))
    else {
        return format!(" cannot parse: {text}");
    };
    let mut expected: Vec<&str> = set
        .trim_matches(|c| c == '{' || c == '}')
        .split(", ")
        .collect();
    expected.sort_unstable();
    format!(
        "{pos}: cannot parse: expected one of {}",
        expected.join(", ")
    )
}

/// Where each scenario of a feature ends: before the next scenario or rule starts.
fn block_starts(f: &gherkin::Feature) -> Vec<usize> {
    let mut starts: Vec<usize> = f.scenarios.iter().map(|s| s.position.line).collect();
    for r in &f.rules {
        starts.push(r.position.line);
        starts.extend(r.scenarios.iter().map(|s| s.position.line));
        starts.extend(r.background.iter().map(|b| b.position.line));
    }
    starts.sort_unstable();
    starts
}

fn expand_feature(src: &Source, f: &gherkin::Feature, plan: &mut Plan) {
    let info = FeatureInfo {
        keyword: f.keyword.clone(),
        name: f.name.clone(),
        file: src.shown.clone(),
        line: f.position.line,
        tags: f.tags.clone(),
        background_keyword: f.background.as_ref().map(|b| b.keyword.clone()),
    };
    let starts = block_starts(f);
    let scenarios = f.scenarios.iter().map(|s| (None, s)).chain(
        f.rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
    );
    for (rule, sc) in scenarios {
        let end = starts
            .iter()
            .find(|&&l| l > sc.position.line)
            .map_or(src.lines.len().max(sc.position.line), |l| l - 1);
        let ctx = Ctx {
            src,
            feature: f,
            info: &info,
            rule,
            sc,
            span: (sc.position.line, end),
        };
        ctx.expand(plan);
    }
}

/// One scenario of a feature being expanded.
struct Ctx<'a> {
    src: &'a Source<'a>,
    feature: &'a gherkin::Feature,
    info: &'a FeatureInfo,
    rule: Option<&'a gherkin::Rule>,
    sc: &'a gherkin::Scenario,
    span: (usize, usize),
}

fn placeholder_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    // A constant pattern; it compiles.
    RE.get_or_init(|| Regex::new(r"<([^<>\s][^<>]*)>").unwrap_or_else(|e| panic!("{e}")))
}

/// An outline step (its text and table cells together) may expand to at most this many
/// bytes; past it the row is refused with its file, line and column (a few hundred
/// bytes of outline could otherwise ask for megabytes per row).
pub(crate) const MAX_EXPANDED_STEP: usize = 16 * 1024;

/// Replace each `<name>` once (never inside a substituted value).
fn substitute(text: &str, values: &BTreeMap<&str, &str>) -> String {
    placeholder_re()
        .replace_all(text, |c: &regex::Captures| {
            values
                .get(&c[1])
                .map_or_else(|| c[0].to_string(), |v| (*v).to_string())
        })
        .into_owned()
}

impl Ctx<'_> {
    fn expand(&self, plan: &mut Plan) {
        if self.sc.examples.is_empty() {
            plan.scenarios
                .push(self.planned(None, &BTreeMap::new(), &[]));
            return;
        }
        for ex in &self.sc.examples {
            let Some((header, rows)) = ex.table.as_ref().and_then(|t| t.rows.split_first()) else {
                continue;
            };
            self.check_placeholders(ex, header, plan);
            let lines = self.row_lines(ex, rows.len());
            for (row, line) in rows.iter().zip(lines) {
                let values: BTreeMap<&str, &str> = header
                    .iter()
                    .map(String::as_str)
                    .zip(row.iter().map(String::as_str))
                    .collect();
                let p = self.planned(Some((row, line)), &values, &ex.tags);
                if let Some(st) = p.steps.iter().find(|s| expanded_len(s) > MAX_EXPANDED_STEP) {
                    plan.problems.push(format!(
                        "{}:{}:{}: with the Examples row at line {line} this step expands to \
                         {} bytes: expected at most {MAX_EXPANDED_STEP} (placeholders are \
                         substituted once; shorten the values or the step)",
                        self.src.shown,
                        st.line,
                        st.column,
                        expanded_len(st)
                    ));
                    continue;
                }
                plan.scenarios.push(p);
            }
        }
    }

    /// The line of each data row of an Examples table (comments and blanks skipped).
    fn row_lines(&self, ex: &gherkin::Examples, n: usize) -> Vec<usize> {
        let header = ex
            .table
            .as_ref()
            .map_or(ex.position.line, |t| t.position.line);
        (header + 1..=self.src.lines.len())
            .filter(|l| {
                self.src
                    .lines
                    .get(l - 1)
                    .is_some_and(|t| t.trim_start().starts_with('|'))
            })
            .take(n)
            .collect()
    }

    /// Every placeholder of the outline's steps must be a column of its Examples.
    fn check_placeholders(&self, ex: &gherkin::Examples, header: &[String], plan: &mut Plan) {
        for st in &self.sc.steps {
            let cells = st.table.iter().flat_map(|t| t.rows.iter().flatten());
            let texts = std::iter::once(&st.value)
                .chain(st.docstring.iter())
                .chain(cells);
            for text in texts {
                for c in placeholder_re().captures_iter(text) {
                    if !header.iter().any(|h| h == &c[1]) {
                        plan.problems.push(format!(
                            "{}:{}:{}: placeholder <{}> has no column in the Examples at line \
                             {}: expected one of the columns {}",
                            self.src.shown,
                            st.position.line,
                            st.position.col,
                            &c[1],
                            ex.position.line,
                            header.join(", ")
                        ));
                    }
                }
            }
        }
    }

    fn planned(
        &self,
        row: Option<(&Vec<String>, usize)>,
        values: &BTreeMap<&str, &str>,
        ex_tags: &[String],
    ) -> Planned {
        let (f, sc) = (self.feature, self.sc);
        let example_row = row.map(|(r, _)| r.join("|")).unwrap_or_default();
        let line = row.map_or(sc.position.line, |(_, l)| l);
        let meta = ScenarioMeta {
            feature: f.name.clone(),
            scenario: sc.name.clone(),
            example_row: example_row.clone(),
            file: self.src.shown.clone(),
            line,
            run_seed: self.src.run_seed,
        };
        let seed = derive_seed(meta.run_seed, &meta.feature, &meta.scenario, &example_row);
        let mut name = format!("{}::{}", f.name, sc.name);
        if let Some((r, _)) = row {
            name.push_str(&format!("::{}", r.join(",")));
        }
        let all_tags = f
            .tags
            .iter()
            .chain(self.rule.iter().flat_map(|r| r.tags.iter()))
            .chain(sc.tags.iter())
            .chain(ex_tags.iter())
            .cloned()
            .collect();
        Planned {
            feature: self.info.clone(),
            info: ScenarioInfo {
                meta,
                seed,
                keyword: sc.keyword.clone(),
                column: sc.position.col,
                tags: sc.tags.clone(),
                rule: self.rule.map(|r| r.name.clone()),
                started: None,
            },
            steps: self.steps(values),
            span: self.span,
            row_line: row.map(|(_, l)| l),
            all_tags,
            name,
            path: super::canonical(self.src.path),
            unfilled: row.is_some() && self.unfilled(values),
        }
    }

    /// Whether a step names a placeholder that is not a column.
    fn unfilled(&self, values: &BTreeMap<&str, &str>) -> bool {
        self.sc.steps.iter().any(|st| {
            placeholder_re()
                .captures_iter(&st.value)
                .any(|c| !values.contains_key(&c[1]))
        })
    }

    /// Background steps (the feature's, then the rule's), then the scenario's.
    fn steps(&self, values: &BTreeMap<&str, &str>) -> Vec<PlannedStep> {
        let backgrounds = self
            .feature
            .background
            .iter()
            .chain(self.rule.and_then(|r| r.background.as_ref()));
        let mut out = Vec::new();
        for b in backgrounds {
            out.extend(block(&b.steps, true, &BTreeMap::new()));
        }
        out.extend(block(&self.sc.steps, false, values));
        out
    }
}

/// Bytes of a step's text and table cells.
fn expanded_len(st: &PlannedStep) -> usize {
    let cells: usize = st.table.iter().flatten().flatten().map(String::len).sum();
    st.text.len() + cells
}

/// The kind a keyword gives: `And`, `But` and `*` continue the step before.
fn resolve_kind(st: &gherkin::Step, previous: Kind) -> Kind {
    match st.keyword.trim() {
        "*" | "And" | "But" => previous,
        _ => super::kind_of(st.ty),
    }
}

fn block(
    steps: &[gherkin::Step],
    background: bool,
    values: &BTreeMap<&str, &str>,
) -> Vec<PlannedStep> {
    let mut previous = super::kind_of(StepType::Given);
    steps
        .iter()
        .map(|st| {
            let kind = resolve_kind(st, previous);
            previous = kind;
            PlannedStep {
                keyword: st.keyword.clone(),
                kind,
                text: substitute(&st.value, values),
                table: st.table.as_ref().map(|t| {
                    t.rows
                        .iter()
                        .map(|r| r.iter().map(|c| substitute(c, values)).collect())
                        .collect()
                }),
                line: st.position.line,
                column: st.position.col,
                background,
            }
        })
        .collect()
}

/// Each test name once: a repeated one gets its line.
fn name_uniquely(scenarios: &mut [Planned]) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for p in scenarios.iter() {
        *count.entry(p.name.clone()).or_default() += 1;
    }
    for p in scenarios.iter_mut() {
        if count.get(&p.name).is_some_and(|&n| n > 1) {
            p.name = format!("{}@{}", p.name, p.info.meta.line);
        }
    }
}

/// Every step against the catalogue with its arguments, and every trace named read to
/// its end: what would otherwise stop a scenario before it started.
fn check_steps(plan: &mut Plan) {
    let mut seen = BTreeSet::new();
    let mut traces: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in &plan.scenarios {
        for st in &p.steps {
            // An outline's unfilled placeholder is reported as such, not as a step.
            let unfilled = p.unfilled && placeholder_re().is_match(&st.text);
            if unfilled
                || !seen.insert((p.path.clone(), st.line, st.text.clone(), st.table.clone()))
            {
                continue;
            }
            let at = format!("{}:{}:{}", p.info.meta.file, st.line, st.column);
            match steps::parse(st.kind, &st.text, st.table.as_deref()) {
                Err(e) => problems.push(format!("{at}: {e}")),
                Ok(Step::When(When::ReplayTrace(name))) => {
                    if let Some(e) = check_trace(&name, &p.info.meta.file, &mut traces) {
                        problems.push(format!("{at}: {e}"));
                    }
                }
                Ok(_) => {}
            }
        }
    }
    plan.problems.extend(problems);
}

/// Open a trace a step names and read it to its end (each file once).
fn check_trace(
    name: &str,
    feature_file: &str,
    cache: &mut BTreeMap<PathBuf, Option<String>>,
) -> Option<String> {
    let path = match steps::resolve_trace(name, feature_file) {
        Ok(p) => p,
        Err(e) => return Some(e),
    };
    cache
        .entry(super::canonical(&path))
        .or_insert_with(|| read_trace(&path).err())
        .clone()
}

fn read_trace(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let reader = sim_traces::open_trace(path).map_err(|e| format!("trace {shown}: {e}"))?;
    for rec in reader {
        rec.map_err(|e| format!("trace {shown}: {e}"))?;
    }
    Ok(())
}

/// What a run selects: `FILE:LINE`, tags, name and shard.
pub(crate) struct Selection<'a> {
    /// Per selected file (canonical), the lines asked for (empty: the whole file).
    pub lines: BTreeMap<PathBuf, Vec<usize>>,
    /// Tag expression.
    pub tags: Option<gherkin::tagexpr::TagOperation>,
    /// Name regex.
    pub name: Option<Regex>,
    /// Shard K of N.
    pub shard: Option<(u64, u64)>,
    /// The paths as given (for messages).
    pub shown: &'a [(PathBuf, Option<usize>)],
}

impl Selection<'_> {
    fn by_line(&self, p: &Planned, rows: &RowIndex) -> bool {
        let Some(lines) = self.lines.get(&p.path) else {
            return false;
        };
        lines.is_empty()
            || lines.iter().any(|&l| match p.row_line {
                Some(row) if l == row => true,
                // Any line of an outline that is not one of its rows selects every row.
                Some(_) => {
                    l >= p.span.0
                        && l <= p.span.1
                        && !rows
                            .get(&(p.path.clone(), p.span.0))
                            .is_some_and(|r| r.contains(&l))
                }
                None => l >= p.span.0 && l <= p.span.1,
            })
    }

    fn by_filters(&self, p: &Planned) -> bool {
        self.tags.as_ref().is_none_or(|t| t.eval(p.all_tags.iter()))
            && self
                .name
                .as_ref()
                .is_none_or(|re| re.is_match(&p.info.meta.scenario))
    }

    /// The selected scenarios (shards split the filtered list round-robin, in file
    /// order), and a problem for each `FILE:LINE` that selects no scenario.
    pub fn apply(&self, all: Vec<Planned>) -> (Vec<Planned>, Vec<String>) {
        let mut problems = Vec::new();
        let rows = index_rows(&all);
        for (path, line) in self.shown {
            let Some(l) = line else { continue };
            let key = super::canonical(path);
            let hit = all.iter().any(|p| {
                p.path == key && (p.row_line == Some(*l) || (l >= &p.span.0 && l <= &p.span.1))
            });
            if !hit {
                problems.push(format!(
                    "{}:{l}: no scenario at line {l}: expected a line of a scenario, or an \
                     example row",
                    super::rel(path)
                ));
            }
        }
        let selected = all
            .into_iter()
            .filter(|p| self.by_line(p, &rows) && self.by_filters(p))
            .enumerate()
            .filter(|(i, _)| self.shard.is_none_or(|(k, n)| (*i as u64) % n == k - 1))
            .map(|(_, p)| p)
            .collect();
        (selected, problems)
    }
}

/// Per outline (file, first line), the lines of its example rows.
type RowIndex = BTreeMap<(PathBuf, usize), BTreeSet<usize>>;

fn index_rows(all: &[Planned]) -> RowIndex {
    let mut rows = RowIndex::new();
    for p in all {
        if let Some(l) = p.row_line {
            rows.entry((p.path.clone(), p.span.0))
                .or_default()
                .insert(l);
        }
    }
    rows
}
