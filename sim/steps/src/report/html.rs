//! HTML building blocks of the reports: escaping, the page shell with its inline style
//! sheet, and the timeline table.
//!
//! Everything written here is well-formed XML as well as HTML5 (every element closed,
//! void elements self-closed, only the XML entities plus numeric references, no `<` or
//! `&` in the style sheet), so an XML parser can check a report's structure. Nothing
//! refers to an outside resource: no links, scripts, fonts or images.

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

/// The inline style sheet (no `<`, `&` or `url(`).
const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em;color:#1d2330;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}
h2{font-size:1.2em;margin:1.2em 0 .4em}
h3{font-size:1.05em;margin:1em 0 .3em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.4em 0 1em}
dl.meta dt{font-weight:600;color:#555}
dl.meta dd{margin:0}
code,pre,table.timeline{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
pre.message{background:#fff1f0;border-left:4px solid #d93025;padding:.5em;white-space:pre-wrap}
figure{margin:0 0 .8em}
figcaption{font-size:.85em;color:#555;margin:.1em 0 .2em}
svg.plot{display:block;max-width:100%;height:auto;background:#fcfcfd;border:1px solid #e3e6ec}
svg.plot text{font-family:system-ui,sans-serif;font-size:11px;fill:#444}
svg.plot text.empty{fill:#999;font-style:italic}
svg.plot .grid{stroke:#e3e6ec;stroke-width:1}
svg.plot .axis{stroke:#888;stroke-width:1}
svg.plot .accel-magnitude{fill:none;stroke:#1a73e8;stroke-width:1}
svg.plot .link-state{fill:none;stroke:#188038;stroke-width:2}
svg.plot .signal{fill:none;stroke:#1a73e8;stroke-width:1}
svg.plot .signal.raw{stroke:#9aa0a6}
svg.plot .signal.baseline,svg.plot .signal.energy{stroke:#e37400}
svg.plot .threshold line{stroke:#d93025;stroke-width:1;stroke-dasharray:2 3}
svg.plot .threshold text{fill:#d93025;font-size:10px}
svg.plot .candidate rect{fill:#f9ab00;opacity:.18}
svg.plot .candidate line{stroke:#f9ab00;stroke-width:1.5}
svg.plot .candidate.accepted line{stroke:#d93025}
svg.plot .candidate text{fill:#5f6368;font-size:10px}
svg.plot .battery-level{fill:none;stroke:#e37400;stroke-width:2}
svg.plot .lane{stroke:#d0d4dc;stroke-width:1}
svg.plot .marker line{stroke-width:1.5;stroke-dasharray:4 3}
svg.plot .marker circle,svg.plot .point{stroke:#fff;stroke-width:1}
svg.plot .gesture line{stroke:#9334e6}
svg.plot .gesture circle,svg.plot .gesture text{fill:#9334e6}
svg.plot .fall line{stroke:#d93025}
svg.plot .fall circle,svg.plot .fall text{fill:#d93025}
svg.plot .sms circle{fill:#1a73e8}
svg.plot .call circle{fill:#188038}
svg.plot .siren circle{fill:#d93025}
svg.plot .recording circle{fill:#e37400}
svg.plot .countdown circle{fill:#f9ab00}
svg.plot .warning circle{fill:#a142f4}
svg.plot .rejected circle{fill:#5f6368}
svg.plot .fault circle{fill:#000}
svg.plot .other circle{fill:#80868b}
svg.plot .link-change circle{fill:#188038}
svg.plot .battery-report circle{fill:#e37400}
table{border-collapse:collapse}
table.timeline td,table.timeline th{padding:1px 8px;text-align:left;vertical-align:top}
table.timeline td.t{text-align:right;white-space:nowrap}
table.timeline tr:nth-child(even){background:#f6f7f9}
tr.layer-wearer td.layer{color:#9334e6}
tr.layer-button td.layer{color:#1a73e8}
tr.layer-link td.layer{color:#188038}
tr.layer-phone td.layer{color:#e37400}
tr.layer-platform td.layer{color:#5f6368}
tr.layer-harness td.layer{color:#d93025;font-weight:600}
table.summary td,table.summary th{padding:2px 10px;text-align:left;border-bottom:1px solid #e3e6ec}
.passed .status,.status.passed{color:#188038;font-weight:600}
.failed .status,.status.failed{color:#d93025;font-weight:600}
.status.skipped{color:#80868b}
section.scenario{border-top:2px solid #e3e6ec;padding-top:.3em;margin-top:1.5em}
section.scenario.failed{border-top-color:#d93025}
ol.steps li.failed{color:#d93025;font-weight:600}
ol.steps li.skipped{color:#80868b}
";

/// The whole page: `<!DOCTYPE html>`, head with title and style sheet, then `body`.
pub fn page(title: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + CSS.len() + 512);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let _ = writeln!(s, "<style>{CSS}</style>");
    s.push_str("</head>\n<body>\n");
    s.push_str(body);
    s.push_str("</body>\n</html>\n");
    s
}

/// The timeline as a table: time (s), layer, event; every text escaped.
pub fn timeline_table(tl: &Timeline) -> String {
    let mut s = String::with_capacity(tl.entries.len() * 96 + 256);
    s.push_str("<table class=\"timeline\">\n<thead><tr><th>time (s)</th><th>layer</th><th>event</th></tr></thead>\n<tbody>\n");
    for e in &tl.entries {
        let layer = e.layer.name();
        let _ = writeln!(
            s,
            "<tr class=\"layer-{layer}\" data-t-us=\"{}\"><td class=\"t\">{}</td><td class=\"layer\">{layer}</td><td>{}</td></tr>",
            e.t_us,
            fmt_t(e.t_us),
            esc(&e.text)
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
