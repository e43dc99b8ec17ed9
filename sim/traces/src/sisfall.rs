//! SisFall raw `.txt` reader and file-name helpers.
//!
//! One sample per line at 200 Hz: 9 comma-separated integers with space padding,
//! the line ending in `;` (CRLF). Columns 1-3 are the ADXL345 (13 bit, ±16 g):
//! `g = raw × 32 / 8192`; the other columns (gyroscope, MMA8451Q) are checked to
//! be integers and ignored. Sample `i` is at `i × 5 ms`. Blank or space-only
//! lines are skipped (some files end with one). A file without any sample is an
//! error.

use std::path::Path;

use super::{excerpt, Lines, Record, RecordKind, TraceError};

/// SisFall sample rate.
pub const RATE_HZ: f64 = 200.0;
/// Sample period in µs.
const PERIOD_US: u64 = 5_000;
/// Range of a 13-bit ADXL345 reading.
const ADXL_RAW: std::ops::RangeInclusive<i32> = -4096..=4095;

/// Streaming SisFall reader.
pub struct SisFallReader {
    lines: Lines,
    index: u64,
}

impl SisFallReader {
    pub(crate) fn new(lines: Lines) -> Self {
        Self { lines, index: 0 }
    }

    pub(crate) fn next_record(&mut self) -> Option<Result<Record, TraceError>> {
        loop {
            let line = match self.lines.next_line() {
                None => {
                    if self.index == 0 {
                        return Some(Err(TraceError::new(
                            self.lines.file(),
                            self.lines.line_no().max(1),
                            1,
                            "a SisFall sample line (9 integers ending in `;`)",
                            "end of file",
                        )));
                    }
                    return None;
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(l)) => l,
            };
            if line.trim().is_empty() {
                continue;
            }
            return Some(self.parse(&line));
        }
    }

    fn parse(&mut self, line: &str) -> Result<Record, TraceError> {
        let body_end = line.trim_end().len();
        let body = &line[..body_end];
        let Some(body) = body.strip_suffix(';') else {
            return Err(self.lines.err(
                body_end + 1,
                "`;` at the end of the line",
                if body_end == 0 {
                    "end of line".to_string()
                } else {
                    // The last character (not byte: the line may hold any UTF-8).
                    excerpt(&body.chars().last().map(String::from).unwrap_or_default())
                },
            ));
        };
        let mut g = [0.0f64; 3];
        let mut count = 0usize;
        let mut start = 0usize;
        for field in body.split(',') {
            count += 1;
            let col = start + 1 + (field.len() - field.trim_start().len());
            start += field.len() + 1;
            if count > 9 {
                return Err(self
                    .lines
                    .err(col - 1, "9 columns then `;`", "a 10th column"));
            }
            let t = field.trim();
            let v: i32 = t.parse().map_err(|_| {
                self.lines.err(
                    col,
                    "an integer",
                    excerpt(if t.is_empty() { "" } else { t }),
                )
            })?;
            if count <= 3 {
                if !ADXL_RAW.contains(&v) {
                    return Err(self.lines.err(
                        col,
                        "an ADXL345 reading within -4096..=4095",
                        excerpt(t),
                    ));
                }
                g[count - 1] = f64::from(v) * 32.0 / 8192.0;
            }
        }
        if count < 9 {
            return Err(self.lines.err(
                body.len() + 1,
                "9 comma-separated integers",
                format!("{count} column(s)"),
            ));
        }
        let t_us = self.index * PERIOD_US;
        self.index += 1;
        Ok(Record {
            t_us,
            kind: RecordKind::Accel(g),
        })
    }
}

fn is_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && (b[0] == b'D' || b[0] == b'F') && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

fn is_subject(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4
        && b[0] == b'S'
        && (b[1] == b'A' || b[1] == b'E')
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
}

/// Activity code of a SisFall file (`F05_SA01_R02.txt` → `F05`): `D..` are daily
/// activities, `F..` falls.
pub fn sisfall_code(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let code = name.get(..3)?;
    is_code(code).then(|| code.to_string())
}

/// Subject of a SisFall file: the parent folder's name when it is a subject id
/// (`SA01`, `SE12`; some file names carry a mistyped subject), else the one in
/// the file name.
pub fn sisfall_subject(path: &Path) -> Option<String> {
    if let Some(dir) = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
    {
        if is_subject(dir) {
            return Some(dir.to_string());
        }
    }
    let name = path.file_name()?.to_str()?;
    let subj = name.split('_').nth(1)?;
    is_subject(subj).then(|| subj.to_string())
}
