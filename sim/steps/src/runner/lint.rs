//! A pre-pass over a feature file's text: what cucumber's Gherkin parser would silently
//! drop or accept. A line that is no keyword, step, table row, tag or comment where only
//! those may stand (after the first step of a block, e.g. a misspelled `Scenari:`), a
//! keyword-like line close to a known keyword, a table row whose number of cells differs
//! from its table's first row, and an `Examples:` without a data row. Each problem names
//! the file's line and column and what was expected.

/// A problem found in the text: line, column (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lint {
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based).
    pub col: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

const BLOCKS: &[&str] = &[
    "Feature",
    "Rule",
    "Background",
    "Scenario",
    "Scenario Outline",
    "Scenario Template",
    "Example",
    "Examples",
    "Scenarios",
];
const STEPS: &[&str] = &["Given ", "When ", "Then ", "And ", "But ", "* "];
const EXPECTED: &str = "expected a step (Given, When, Then, And, But, *), a table row, a tag, \
                        a comment or a keyword (Feature:, Rule:, Background:, Scenario:, \
                        Scenario Outline:, Examples:)";

/// What a trimmed line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line<'a> {
    Blank,
    Comment,
    Tag,
    Row,
    DocString,
    Step,
    Block(&'a str),
    Other,
}

fn classify(t: &str) -> Line<'_> {
    if t.is_empty() {
        return Line::Blank;
    }
    if t.starts_with('#') {
        return Line::Comment;
    }
    if t.starts_with('@') {
        return Line::Tag;
    }
    if t.starts_with('|') {
        return Line::Row;
    }
    if t.starts_with("\"\"\"") || t.starts_with("```") {
        return Line::DocString;
    }
    if STEPS.iter().any(|s| t.starts_with(s)) || t == "*" {
        return Line::Step;
    }
    if let Some((head, _)) = t.split_once(':') {
        if let Some(k) = BLOCKS.iter().find(|k| **k == head.trim_end()) {
            return Line::Block(k);
        }
    }
    Line::Other
}

/// The cells of a table row (`| a | b \| c |` has two), escapes kept.
fn cells(row: &str) -> usize {
    let body = row.trim().trim_start_matches('|');
    let mut n = 0;
    let mut escaped = false;
    for c in body.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
    }
    n
}

/// A keyword-like head (`Scenari:`) close to a known keyword: the keyword it resembles.
fn near_keyword(t: &str) -> Option<&'static str> {
    let (head, _) = t.split_once(':')?;
    let head = head.trim_end();
    if head.is_empty() || head.len() > 20 || !head.chars().all(|c| c.is_alphabetic() || c == ' ') {
        return None;
    }
    let lower = head.to_lowercase();
    BLOCKS
        .iter()
        .copied()
        .filter(|k| {
            let k = k.to_lowercase();
            // Short keywords (`Rule`) tolerate one typo, so that `Note:` stays text.
            let tolerance = if k.len() <= 5 { 1 } else { 2 };
            k != lower && distance(&k, &lower) <= tolerance
        })
        .min_by_key(|k| distance(&k.to_lowercase(), &lower))
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The state of the pass between lines.
#[derive(Default)]
struct Pass {
    out: Vec<Lint>,
    /// A step was seen in the current block: free text may no longer follow.
    in_steps: bool,
    /// Inside a doc string: its fence.
    doc: Option<&'static str>,
    /// The current table: its first row's line and number of cells, and its rows.
    table: Option<(usize, usize, usize)>,
    /// An `Examples:` waiting for its table: its line, column and rows seen.
    examples: Option<(usize, usize)>,
}

impl Pass {
    fn lint(&mut self, line: usize, col: usize, message: String) {
        self.out.push(Lint { line, col, message });
    }

    /// A line that is not a table row ends the current table.
    fn end_table(&mut self) {
        let table = self.table.take();
        if let Some((l, c)) = self.examples.take() {
            if table.map_or(0, |t| t.2) < 2 {
                self.lint(
                    l,
                    c,
                    "Examples without rows: expected a table with a header row and at least \
                     one data row"
                        .into(),
                );
            }
        }
    }

    fn row(&mut self, n: usize, col: usize, t: &str) {
        let width = cells(t);
        match &mut self.table {
            None => self.table = Some((n, width, 1)),
            Some((first, w, rows)) => {
                *rows += 1;
                if width != *w {
                    let (first, w) = (*first, *w);
                    self.lint(
                        n,
                        col,
                        format!(
                            "table row has {width} cells, expected {w} (as the row at line \
                             {first})"
                        ),
                    );
                }
            }
        }
    }

    fn line(&mut self, n: usize, raw: &str) {
        let t = raw.trim();
        let col = raw.len() - raw.trim_start().len() + 1;
        if let Some(fence) = self.doc {
            if t.starts_with(fence) {
                self.doc = None;
            }
            return;
        }
        let kind = classify(t);
        if kind == Line::Row {
            return self.row(n, col, t);
        }
        if !matches!(kind, Line::Comment) {
            self.end_table();
        }
        match kind {
            Line::DocString => {
                self.doc = Some(if t.starts_with("```") {
                    "```"
                } else {
                    "\"\"\""
                });
            }
            Line::Step => self.in_steps = true,
            Line::Block(k) => {
                self.in_steps = false;
                if matches!(k, "Examples" | "Scenarios") {
                    self.examples = Some((n, col));
                }
            }
            Line::Other => self.other(n, col, t),
            Line::Blank | Line::Comment | Line::Tag | Line::Row => {}
        }
    }

    fn other(&mut self, n: usize, col: usize, t: &str) {
        let shown: String = t.chars().take(60).collect();
        if let Some(k) = near_keyword(t) {
            self.lint(
                n,
                col,
                format!("unknown keyword `{shown}`: expected `{k}:` or another keyword"),
            );
        } else if self.in_steps {
            self.lint(n, col, format!("unexpected `{shown}`: {EXPECTED}"));
        }
    }
}

/// Every problem of a feature file's text, in line order.
pub(crate) fn check(text: &str) -> Vec<Lint> {
    let mut pass = Pass::default();
    for (i, raw) in text.lines().enumerate() {
        pass.line(i + 1, raw);
    }
    pass.end_table();
    pass.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_keywords_tables_and_examples() {
        let text = "Feature: F\n  Scenario: a\n    Given x\n\n  Scenari: b\n    Given y\n    | a | b |\n    | 1 |\n\n  Scenario Outline: c\n    Given <a>\n    Examples:\n      | a |\n";
        let lints = check(text);
        let at: Vec<(usize, usize)> = lints.iter().map(|l| (l.line, l.col)).collect();
        assert_eq!(at, vec![(5, 3), (8, 5), (12, 5)], "{lints:?}");
        assert!(lints[0].message.contains("`Scenario:`"), "{lints:?}");
        assert!(
            lints[1].message.contains("1 cells, expected 2"),
            "{lints:?}"
        );
        assert!(
            lints[2].message.contains("Examples without rows"),
            "{lints:?}"
        );
    }

    #[test]
    fn descriptions_doc_strings_and_escapes_are_fine() {
        let text = "Feature: F\n  Some words: here.\n  Note: a description.\n  Scenario: a\n    Free text.\n    Given x\n      \"\"\"\n      Scenari: inside\n      \"\"\"\n    | a \\| b | c |\n    | 1 | 2 |\n";
        assert_eq!(check(text), vec![]);
    }
}
