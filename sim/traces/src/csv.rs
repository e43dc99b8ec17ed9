//! Generic CSV accelerometer trace reader.
//!
//! The first line is exactly `t_ms,ax_g,ay_g,az_g` (surrounding spaces allowed);
//! every later non-blank line holds 4 numbers: time in ms (non-negative, never
//! decreasing) and the acceleration in g (finite, within ±200 g).

use super::{check_time, excerpt, Lines, Record, RecordKind, TraceError};

/// The required header.
pub const HEADER: &str = "t_ms,ax_g,ay_g,az_g";

/// Streaming CSV reader.
pub struct CsvReader {
    lines: Lines,
    prev_us: Option<u64>,
}

impl CsvReader {
    pub(crate) fn new(mut lines: Lines) -> Result<Self, TraceError> {
        let expected = format!("the CSV header `{HEADER}`");
        let line = match lines.next_line() {
            None => return Err(lines.err(1, expected, "end of file")),
            Some(r) => r?,
        };
        let cleaned: String = line
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(",");
        if cleaned != HEADER {
            return Err(lines.err(1, expected, excerpt(&line)));
        }
        Ok(Self {
            lines,
            prev_us: None,
        })
    }

    pub(crate) fn next_record(&mut self) -> Option<Result<Record, TraceError>> {
        Some(
            self.lines
                .next_content_line()?
                .and_then(|line| self.parse(&line)),
        )
    }

    fn parse(&mut self, line: &str) -> Result<Record, TraceError> {
        let mut vals = [0.0f64; 4];
        let mut cols = [1usize; 4];
        let mut n = 0usize;
        let mut start = 0usize;
        for field in line.split(',') {
            let col = start + 1 + (field.len() - field.trim_start().len());
            start += field.len() + 1;
            if n == 4 {
                return Err(self.lines.err(col, "4 columns", "a 5th column"));
            }
            let t = field.trim();
            let v: f64 = t
                .parse()
                .map_err(|_| self.lines.err(col, "a number", excerpt(t)))?;
            if n > 0 && !(v.is_finite() && v.abs() <= super::jsonl::MAX_ABS_G) {
                return Err(self.lines.err(
                    col,
                    format!("an acceleration in g within ±{}", super::jsonl::MAX_ABS_G),
                    excerpt(t),
                ));
            }
            vals[n] = v;
            cols[n] = col;
            n += 1;
        }
        if n < 4 {
            return Err(self.lines.err(
                line.len() + 1,
                "4 comma-separated numbers `t_ms,ax_g,ay_g,az_g`",
                format!("{n} column(s)"),
            ));
        }
        let t_text = line.split(',').next().unwrap_or("").trim().to_string();
        let t_us = check_time(&self.lines, cols[0], &t_text, vals[0], &mut self.prev_us)?;
        Ok(Record {
            t_us,
            kind: RecordKind::Accel([vals[1], vals[2], vals[3]]),
        })
    }
}
