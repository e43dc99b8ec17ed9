//! Native JSON Lines trace reader.
//!
//! Line 1 is a header object with `"trace":"alarm-button"` and `"version":1`;
//! any other header field is kept (`source`, `device`, `rate` in Hz, …).
//! Every later non-blank line is one object with a `t_ms` (non-negative number,
//! never decreasing) and exactly one of `"acc_g":[x,y,z]` (finite numbers within
//! ±[`MAX_ABS_G`] g), `"button":"down"|"up"` or `"battery_mv":n` (integer within
//! 0..=[`MAX_BATTERY_MV`]). Any other field is an error.

use serde_json::{Map, Value};

use super::{check_time, excerpt, Lines, Record, RecordKind, TraceError};

/// Largest accepted acceleration magnitude per axis, in g.
pub const MAX_ABS_G: f64 = 200.0;
/// Largest accepted battery voltage, in mV.
pub const MAX_BATTERY_MV: u64 = 10_000;

/// Streaming reader of native traces.
pub struct JsonlReader {
    lines: Lines,
    prev_us: Option<u64>,
}

/// A reader with its header fields and rate hint.
type WithHeader = (JsonlReader, Map<String, Value>, Option<f64>);

/// 1-based column of `"key"` in `line`, or 1.
fn key_column(line: &str, key: &str) -> usize {
    line.find(&format!("\"{key}\"")).map_or(1, |i| i + 1)
}

/// Parses one line as a JSON object.
fn parse_object(lines: &Lines, line: &str, what: &str) -> Result<Map<String, Value>, TraceError> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(lines.err(
            1 + line.len() - line.trim_start().len(),
            what.to_string(),
            excerpt(&other.to_string()),
        )),
        Err(e) => {
            let col = if e.line() <= 1 {
                e.column().max(1)
            } else {
                line.len() + 1
            };
            let found = if e.is_eof() {
                "end of line (truncated JSON)".to_string()
            } else {
                format!("invalid JSON ({e})")
            };
            Err(lines.err(col, what.to_string(), found))
        }
    }
}

impl JsonlReader {
    /// Reads and checks the header line.
    pub(crate) fn new(mut lines: Lines) -> Result<WithHeader, TraceError> {
        let what = r#"a header object {"trace":"alarm-button","version":1,...}"#;
        let line = match lines.next_line() {
            None => return Err(lines.err(1, what, "end of file")),
            Some(r) => r?,
        };
        let header = parse_object(&lines, &line, what)?;
        match header.get("trace") {
            Some(Value::String(s)) if s == "alarm-button" => {}
            Some(v) => {
                return Err(lines.err(
                    key_column(&line, "trace"),
                    r#""trace":"alarm-button""#,
                    excerpt(&v.to_string()),
                ))
            }
            None => return Err(lines.err(1, what, "a header without `trace`")),
        }
        match header.get("version") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => {
                return Err(lines.err(
                    key_column(&line, "version"),
                    r#""version":1"#,
                    excerpt(&v.to_string()),
                ))
            }
            None => return Err(lines.err(1, what, "a header without `version`")),
        }
        let rate = match header.get("rate") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(r) if r.is_finite() && r > 0.0 && r <= 100_000.0 => Some(r),
                _ => {
                    return Err(lines.err(
                        key_column(&line, "rate"),
                        "a rate in Hz within 0..=100000",
                        excerpt(&v.to_string()),
                    ))
                }
            },
        };
        Ok((
            Self {
                lines,
                prev_us: None,
            },
            header,
            rate,
        ))
    }

    pub(crate) fn next_record(&mut self) -> Option<Result<Record, TraceError>> {
        Some(
            self.lines
                .next_content_line()?
                .and_then(|line| self.parse(&line)),
        )
    }

    fn parse(&mut self, line: &str) -> Result<Record, TraceError> {
        // Fast path for the compact record this project writes; anything else (and any
        // doubtful number) goes through the full parser, which gives the precise error.
        if let Some((t_text, t, g)) = fast_accel(line) {
            let t_us = check_time(&self.lines, 2, t_text, t, &mut self.prev_us)?;
            return Ok(Record {
                t_us,
                kind: RecordKind::Accel(g),
            });
        }
        let lines = &self.lines;
        let obj = parse_object(
            lines,
            line,
            r#"a record object {"t_ms":…,"acc_g"|"button"|"battery_mv":…}"#,
        )?;
        let mut kind: Option<(&str, RecordKind)> = None;
        let mut t_ms: Option<f64> = None;
        // Visit fields in text order, so errors point at the later duplicate.
        let mut fields: Vec<(usize, &String, &Value)> = obj
            .iter()
            .map(|(k, v)| (key_column(line, k), k, v))
            .collect();
        fields.sort_by_key(|f| f.0);
        for (col, k, v) in fields {
            let payload = match k.as_str() {
                "t_ms" => {
                    let Some(t) = v.as_f64() else {
                        return Err(lines.err(col, "`t_ms` as a number", excerpt(&v.to_string())));
                    };
                    t_ms = Some(t);
                    continue;
                }
                other => payload(lines, col, other, v)?,
            };
            if let Some((first, _)) = kind {
                return Err(lines.err(
                    col,
                    format!("exactly one of `acc_g`, `button`, `battery_mv` (already `{first}`)"),
                    format!("`{k}`"),
                ));
            }
            kind = Some((k.as_str(), payload));
        }
        let Some(t) = t_ms else {
            return Err(lines.err(1, "a `t_ms` field", "a record without `t_ms`"));
        };
        let Some((_, kind)) = kind else {
            return Err(lines.err(
                1,
                "one of `acc_g`, `button`, `battery_mv`",
                "a record without a payload",
            ));
        };
        let col = key_column(line, "t_ms");
        let t_us = check_time(&self.lines, col, &t.to_string(), t, &mut self.prev_us)?;
        Ok(Record { t_us, kind })
    }
}

/// The payload of a record field other than `t_ms` (`col`: the key's column).
fn payload(lines: &Lines, col: usize, k: &str, v: &Value) -> Result<RecordKind, TraceError> {
    Ok(match k {
        "acc_g" => {
            let arr = v.as_array().filter(|a| a.len() == 3);
            let Some(arr) = arr else {
                return Err(lines.err(
                    col,
                    "`acc_g` as an array of 3 numbers",
                    excerpt(&v.to_string()),
                ));
            };
            let mut g = [0.0; 3];
            for (o, x) in g.iter_mut().zip(arr) {
                match x.as_f64() {
                    Some(f) if f.is_finite() && f.abs() <= MAX_ABS_G => *o = f,
                    _ => {
                        return Err(lines.err(
                            col,
                            format!("an acceleration in g within ±{MAX_ABS_G}"),
                            excerpt(&x.to_string()),
                        ))
                    }
                }
            }
            RecordKind::Accel(g)
        }
        "button" => match v.as_str() {
            Some("down") => RecordKind::Button { down: true },
            Some("up") => RecordKind::Button { down: false },
            _ => {
                return Err(lines.err(
                    col,
                    r#"`button` as "down" or "up""#,
                    excerpt(&v.to_string()),
                ))
            }
        },
        "battery_mv" => match v.as_u64() {
            Some(mv) if mv <= MAX_BATTERY_MV => RecordKind::BatteryMv(mv as u32),
            _ => {
                return Err(lines.err(
                    col,
                    format!("`battery_mv` as an integer within 0..={MAX_BATTERY_MV}"),
                    excerpt(&v.to_string()),
                ))
            }
        },
        other => {
            return Err(lines.err(
                col,
                "only the fields `t_ms`, `acc_g`, `button`, `battery_mv`",
                format!("unknown field `{}`", excerpt(other).trim_matches('`')),
            ))
        }
    })
}

/// Plain decimals (`-12.3456`): an integer mantissa below 2^53 divided by an exact power
/// of ten is correctly rounded (Clinger's fast path), so this equals `str::parse`.
fn plain_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, digits) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let mut mantissa: u64 = 0;
    let mut frac_digits: Option<usize> = None;
    let mut n = 0;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                n += 1;
                if let Some(f) = frac_digits.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac_digits.is_none() && n > 0 => frac_digits = Some(0),
            _ => return None,
        }
        if n > 15 {
            return None;
        }
    }
    let frac = frac_digits.unwrap_or(0);
    if n == 0 || frac_digits == Some(0) {
        return None;
    }
    let v = mantissa as f64 / POW10[frac];
    Some(if neg { -v } else { v })
}

/// Whether `s` follows JSON's number grammar exactly:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (so not `01`, `1.`, `-.5`,
/// `+1`, `.5`, `1e`).
fn is_json_number(s: &str) -> bool {
    fn digits(b: &[u8]) -> usize {
        b.iter().take_while(|c| c.is_ascii_digit()).count()
    }
    let mut b = s.as_bytes();
    if let [b'-', rest @ ..] = b {
        b = rest;
    }
    let int = digits(b);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    b = &b[int..];
    if let [b'.', rest @ ..] = b {
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        b = &rest[n..];
    }
    if let [b'e' | b'E', rest @ ..] = b {
        let rest = match rest {
            [b'+' | b'-', r @ ..] => r,
            r => r,
        };
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        b = &rest[n..];
    }
    b.is_empty()
}

/// A number as JSON writes it (no `+`, `inf` or `NaN`), parsed; `None` for anything
/// outside JSON's number grammar (the full parser then reports it precisely).
fn json_number(s: &str) -> Option<f64> {
    if !is_json_number(s) {
        return None;
    }
    if let Some(v) = plain_decimal(s) {
        return Some(v);
    }
    s.parse().ok()
}

/// `{"t_ms":T,"acc_g":[X,Y,Z]}` exactly (no spaces), with finite values in range, read
/// in one pass over the bytes. `None` sends the line to the full parser.
fn fast_accel(line: &str) -> Option<(&str, f64, [f64; 3])> {
    const HEAD: &[u8] = b"{\"t_ms\":";
    const MID: &[u8] = b",\"acc_g\":[";
    let b = line.trim_end().as_bytes();
    let rest = b.strip_prefix(HEAD)?;
    let t_len = rest.iter().position(|&c| c == b',')?;
    let t_text = line.get(HEAD.len()..HEAD.len() + t_len)?;
    let t = json_number(t_text)?;
    let mut rest = rest[t_len..].strip_prefix(MID)?;
    let mut g = [0.0; 3];
    for (k, o) in g.iter_mut().enumerate() {
        let end = if k < 2 { b',' } else { b']' };
        let n = rest.iter().position(|&c| c == end)?;
        let v = json_number(std::str::from_utf8(&rest[..n]).ok()?)?;
        if !(v.is_finite() && v.abs() <= MAX_ABS_G) {
            return None;
        }
        *o = v;
        rest = &rest[n + 1..];
    }
    (rest == b"}").then_some((t_text, t, g))
}

#[cfg(test)]
mod fast_number_tests {
    use super::{json_number, plain_decimal};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn plain_decimals_equal_std_parse(int in -99_999i64..99_999, frac in 0u64..10_000_000, digits in 0usize..8) {
            let text = if digits == 0 {
                format!("{int}")
            } else {
                format!("{int}.{:0width$}", frac % 10u64.pow(digits as u32), width = digits)
            };
            let ours = json_number(&text);
            prop_assert_eq!(ours.map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits), "{}", text);
        }
    }

    #[test]
    fn only_json_numbers_take_the_fast_path() {
        for bad in [
            "01", "-01", "1.", "-.5", ".5", "+1", "1e", "1e+", "--1", "1.2.3", "", "-",
        ] {
            assert_eq!(json_number(bad), None, "{bad}");
        }
        for good in ["0", "-0", "0.5", "10", "1e3", "1E-3", "-2.5e+2", "123.456"] {
            assert_eq!(json_number(good), good.parse().ok(), "{good}");
        }
    }

    #[test]
    fn odd_forms_fall_back_or_refuse() {
        assert_eq!(plain_decimal("1e3"), None);
        assert_eq!(plain_decimal("1."), None);
        assert_eq!(plain_decimal(".5"), None);
        assert_eq!(plain_decimal("-"), None);
        assert_eq!(plain_decimal("12345678901234567"), None);
        assert_eq!(json_number("1e3"), Some(1000.0));
        assert_eq!(json_number("-0.0001"), Some(-0.0001));
    }
}
