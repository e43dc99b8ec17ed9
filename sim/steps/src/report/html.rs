//! HTML building blocks of the reports: escaping, the page shell with its inline style
//! sheets and scripts (uPlot, vendored, and `report.js`), the controls of a run's plots
//! and the timeline table.
//!
//! Nothing refers to an outside resource: no links, no script or style sheet by
//! address, no fonts or images; the page works from a file, offline.

use std::fmt::Write as _;

use crate::sched::{Micros, SECOND};
use crate::timeline::Timeline;

/// Escape text for HTML/XML content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newlines are not allowed in XML.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Virtual time as `seconds.micros` (`12.345678`), as in the text timeline.
pub fn fmt_t(t: Micros) -> String {
    format!("{}.{:06}", t / SECOND, t % SECOND)
}

/// A duration for people: `1 h 02 min 03.5 s`, `42.25 s`.
pub fn fmt_duration(d: Micros) -> String {
    let secs = d / SECOND;
    let frac = crate::simulation::fmt_s(d % SECOND);
    let frac = frac.trim_start_matches('0');
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02}{frac} s")
    } else if m > 0 {
        format!("{m} min {s:02}{frac} s")
    } else {
        format!("{s}{frac} s")
    }
}

/// `1 change`, `2 changes`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The report's own style sheet.
const CSS: &str = include_str!("report.css");
/// uPlot's style sheet (vendored, see `vendor/uplot-1.6.32/README.md`).
const UPLOT_CSS: &str = include_str!("vendor/uplot-1.6.32/uPlot.min.css");
/// uPlot (vendored, MIT licence in `vendor/uplot-1.6.32/LICENSE`).
const UPLOT_JS: &str = include_str!("vendor/uplot-1.6.32/uPlot.iife.min.js");
/// The report's script: plots, zoom, cursor, lanes, table, self-test.
const REPORT_JS: &str = include_str!("report.js");

/// JSON for a `<script type="application/json">` element: `<` is written `\u003c`
/// (valid JSON, and no `</script>` can end the element early).
pub fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The whole page: `<!DOCTYPE html>`, head with title, style sheets and scripts (all
/// inline: the page works offline and fetches nothing), then `body`.
pub fn page(title: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + UPLOT_JS.len() + REPORT_JS.len() + 4096);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let _ = writeln!(s, "<style>{UPLOT_CSS}</style>\n<style>{CSS}</style>");
    let _ = writeln!(s, "<script>{UPLOT_JS}</script>");
    s.push_str("</head>\n<body>\n");
    s.push_str(body);
    let _ = writeln!(s, "<script>{REPORT_JS}</script>");
    s.push_str("</body>\n</html>\n");
    s
}

/// The layer filters, zoom buttons, cursor readout and tooltip of one run's plots.
pub fn run_controls() -> String {
    let mut s = String::from("<div class=\"zoom-controls\">");
    for (act, label, title) in [
        ("left", "\u{25c0}", "pan left"),
        ("out", "\u{2212}", "zoom out"),
        ("in", "+", "zoom in"),
        ("right", "\u{25b6}", "pan right"),
        ("reset", "reset", "show everything"),
    ] {
        let _ = write!(
            s,
            "<button type=\"button\" data-act=\"{act}\" title=\"{title}\">{label}</button>"
        );
    }
    s.push_str("<span class=\"hint\">drag to zoom, wheel to zoom, shift+wheel to pan, double click to reset</span></div>\n");
    s.push_str("<div class=\"readout\">move the cursor over a plot to read every lane at that instant</div>\n");
    s.push_str("<section class=\"plots\"></section>\n<div class=\"tooltip\"></div>\n");
    s
}

/// The timeline as a table (time, layer, kind, event) with layer filters and a search
/// box; every text escaped. A row carries its time (`data-t-us`) and layer.
pub fn timeline_table(tl: &Timeline) -> String {
    let mut s = String::with_capacity(tl.entries.len() * 128 + 1024);
    s.push_str("<div class=\"filters\">layers: ");
    for layer in ["wearer", "button", "link", "phone", "platform", "harness"] {
        let _ = write!(
            s,
            "<label class=\"layer-{layer}\"><input type=\"checkbox\" value=\"{layer}\" checked=\"checked\"/> {layer}</label> "
        );
    }
    s.push_str("<input type=\"search\" placeholder=\"filter by text or kind\"/> <span class=\"hint\">click a row to centre the plots on it</span></div>\n");
    s.push_str("<table class=\"timeline\">\n<thead><tr><th>time (s)</th><th>layer</th><th>kind</th><th>event</th></tr></thead>\n<tbody>\n");
    for e in &tl.entries {
        let layer = e.layer.name();
        let _ = writeln!(
            s,
            "<tr class=\"layer-{layer}\" data-layer=\"{layer}\" data-t-us=\"{}\"><td class=\"t\">{}</td><td class=\"layer\">{layer}</td><td class=\"kind\">{}</td><td>{}</td></tr>",
            e.t_us,
            fmt_t(e.t_us),
            e.what.kind(),
            esc(&e.text())
        );
    }
    s.push_str("</tbody>\n</table>\n");
    if tl.dropped > 0 {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more entries were not kept (timeline cap).</p>",
            tl.dropped
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
        assert_eq!(esc("x\u{1}y"), "x\\u{1}y");
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(42_250_000), "42.25 s");
        assert_eq!(fmt_duration(60 * SECOND), "1 min 00 s");
        assert_eq!(fmt_duration(3723 * SECOND + 500_000), "1 h 02 min 03.5 s");
        assert_eq!(fmt_t(1_000_001), "1.000001");
    }
}
