//! Streaming trace readers for the formats of SPEC §5, and the physical model that
//! generates the synthetic accelerometer traces of `scenarios/traces/` ([`gen`]).
//! This crate depends on nothing of the workspace.
//!
//! - native JSON Lines ([`jsonl`]): a header object
//!   `{"trace":"alarm-button","version":1,...}` then one record per line;
//! - generic CSV ([`csv`]): header `t_ms,ax_g,ay_g,az_g`, one sample per line;
//! - SisFall raw `.txt` ([`sisfall`]): 200 Hz, 9 integer columns, `;` at the end;
//! - FallAllD `.dat` ([`fallalld`]): 238 Hz, 3 integer columns, no header.
//!
//! Files are read line by line through a [`BufRead`] (never loaded whole, each
//! line capped at [`MAX_LINE_BYTES`]). A [`TraceReader`] is an iterator of
//! [`Record`]s; the first error ends it (the records already returned stay
//! valid). Every error names the file, the 1-based line and column, what was
//! expected and what was found. Nothing in here panics on bad input.
//!
//! The format is chosen from the extension (`.jsonl`/`.json`, `.csv`, `.txt`,
//! `.dat`), otherwise by sniffing the first line (a line of integers ending in `;`
//! is SisFall, without it FallAllD).

pub mod csv;
pub mod fallalld;
pub mod gen;
pub mod jsonl;
pub mod sisfall;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use fallalld::{fallalld_is_fall, fallalld_name, fallalld_trace, FallAllDName};
pub use sisfall::{sisfall_code, sisfall_subject};

/// Longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One timestamped record of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Time since the start of the trace, in microseconds.
    pub t_us: u64,
    /// What happened.
    pub kind: RecordKind,
}

/// The payload of a [`Record`].
#[derive(Clone, Debug, PartialEq)]
pub enum RecordKind {
    /// An accelerometer sample in g (x, y, z).
    Accel([f64; 3]),
    /// A button edge.
    Button {
        /// `true` for a press, `false` for a release.
        down: bool,
    },
    /// A battery voltage reading in millivolts.
    BatteryMv(u32),
}

/// A trace that cannot be read: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The trace file.
    pub file: PathBuf,
    /// 1-based line (0 when the file could not be opened).
    pub line: usize,
    /// 1-based column (byte offset + 1).
    pub column: usize,
    /// What the reader expected.
    pub expected: String,
    /// What it found instead.
    pub found: String,
}

impl TraceError {
    /// Builds an error.
    pub fn new(
        file: &Path,
        line: usize,
        column: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            line,
            column,
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: expected {}, found {}",
            self.file.display(),
            self.line,
            self.column,
            self.expected,
            self.found
        )
    }
}

impl std::error::Error for TraceError {}

/// Quotes a short excerpt of offending text for an error message.
pub(crate) fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    format!("`{out}`")
}

/// The trace formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// Native JSON Lines.
    Jsonl,
    /// Generic CSV.
    Csv,
    /// SisFall raw text.
    SisFall,
    /// FallAllD raw `.dat` (waist accelerometer).
    FallAllD,
}

/// What the reader knows of a trace before its records.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceHeader {
    /// The detected format.
    pub format: TraceFormat,
    /// The header object of a native trace (`trace`, `version` and free extra
    /// fields such as `source`, `device`, `rate`); empty for other formats.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Nominal sample rate in Hz, when known (SisFall: 200; FallAllD: 238; native: `rate`).
    pub rate_hz: Option<f64>,
}

/// Reads lines one at a time, with line numbers, UTF-8 and length checks.
pub(crate) struct Lines {
    file: PathBuf,
    inner: Box<dyn BufRead>,
    line_no: usize,
    buf: Vec<u8>,
}

impl Lines {
    fn new(file: &Path, inner: Box<dyn BufRead>) -> Self {
        Self {
            file: file.to_path_buf(),
            inner,
            line_no: 0,
            buf: Vec::new(),
        }
    }

    /// The file name for errors.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Number of the last line returned.
    pub(crate) fn line_no(&self) -> usize {
        self.line_no
    }

    /// Next line that is not blank (space-only lines, as SisFall files end with, are
    /// skipped), or `None` at the end.
    pub(crate) fn next_content_line(&mut self) -> Option<Result<String, TraceError>> {
        loop {
            match self.next_line()? {
                Ok(l) if l.trim().is_empty() => continue,
                other => return Some(other),
            }
        }
    }

    /// Next line without its end-of-line (`\n` or `\r\n`), or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Option<Result<String, TraceError>> {
        self.buf.clear();
        let limit = (MAX_LINE_BYTES + 2) as u64;
        let res = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut self.buf);
        match res {
            Err(e) => {
                self.line_no += 1;
                return Some(Err(TraceError::new(
                    &self.file,
                    self.line_no,
                    1,
                    "a readable line",
                    format!("I/O error: {e}"),
                )));
            }
            Ok(0) => return None,
            Ok(_) => {}
        }
        self.line_no += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        } else if self.buf.len() > MAX_LINE_BYTES {
            return Some(Err(TraceError::new(
                &self.file,
                self.line_no,
                MAX_LINE_BYTES + 1,
                format!("a line of at most {MAX_LINE_BYTES} bytes"),
                "a longer line",
            )));
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Some(Ok(s.to_owned())),
            Err(e) => Some(Err(TraceError::new(
                &self.file,
                self.line_no,
                e.valid_up_to() + 1,
                "UTF-8 text",
                "invalid UTF-8",
            ))),
        }
    }

    /// An error at `column` of the current line.
    pub(crate) fn err(
        &self,
        column: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> TraceError {
        TraceError::new(&self.file, self.line_no.max(1), column, expected, found)
    }
}

/// Largest accepted time stamp, in ms (about 31 years).
pub const MAX_T_MS: f64 = 1e12;

/// Checks a time stamp in ms and converts it to µs; time may not go backwards.
pub(crate) fn check_time(
    lines: &Lines,
    column: usize,
    text: &str,
    t_ms: f64,
    prev_us: &mut Option<u64>,
) -> Result<u64, TraceError> {
    if !t_ms.is_finite() || !(0.0..=MAX_T_MS).contains(&t_ms) {
        return Err(lines.err(
            column,
            format!("a time in ms within 0..={MAX_T_MS}"),
            excerpt(text),
        ));
    }
    let t_us = (t_ms * 1000.0).round() as u64;
    if let Some(p) = *prev_us {
        if t_us < p {
            return Err(lines.err(
                column,
                format!(
                    "a time not before the previous record ({} ms)",
                    p as f64 / 1000.0
                ),
                excerpt(text),
            ));
        }
    }
    *prev_us = Some(t_us);
    Ok(t_us)
}

enum Inner {
    Jsonl(jsonl::JsonlReader),
    Csv(csv::CsvReader),
    SisFall(sisfall::SisFallReader),
    FallAllD(fallalld::FallAllDReader),
}

/// A streaming reader over one trace file; yields records in time order.
pub struct TraceReader {
    header: TraceHeader,
    inner: Inner,
    done: bool,
}

impl fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Chooses the format of `path` from its extension, else from its first byte.
fn detect_format(path: &Path, reader: &mut BufReader<File>) -> Result<TraceFormat, TraceError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl") | Some("json") | Some("ndjson") => return Ok(TraceFormat::Jsonl),
        Some("csv") => return Ok(TraceFormat::Csv),
        Some("txt") => return Ok(TraceFormat::SisFall),
        Some("dat") => return Ok(TraceFormat::FallAllD),
        _ => {}
    }
    let head = reader
        .fill_buf()
        .map_err(|e| TraceError::new(path, 1, 1, "a readable file", format!("I/O error: {e}")))?;
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{') => Ok(TraceFormat::Jsonl),
        Some(b't') => Ok(TraceFormat::Csv),
        Some(b) if b == b'-' || b.is_ascii_digit() => {
            let line_end = head.iter().position(|&c| c == b'\n').unwrap_or(head.len());
            if head[..line_end].contains(&b';') {
                Ok(TraceFormat::SisFall)
            } else {
                Ok(TraceFormat::FallAllD)
            }
        }
        Some(_) => Err(TraceError::new(
            path,
            1,
            1,
            "a trace (JSON Lines header, CSV header `t_ms,ax_g,ay_g,az_g`, SisFall or FallAllD samples)",
            "unrecognised content",
        )),
        None => Err(TraceError::new(
            path,
            1,
            1,
            "a trace header or sample",
            "end of file",
        )),
    }
}

/// Opens a trace, detecting its format, and reads its header.
pub fn open_trace(path: &Path) -> Result<TraceReader, TraceError> {
    let file = File::open(path).map_err(|e| {
        TraceError::new(
            path,
            0,
            0,
            "a readable trace file",
            format!("I/O error: {e}"),
        )
    })?;
    let mut reader = BufReader::new(file);
    let format = detect_format(path, &mut reader)?;
    TraceReader::from_reader(path, format, Box::new(reader))
}

impl TraceReader {
    /// A reader over any buffered input; `path` is only used in errors.
    pub fn from_reader(
        path: &Path,
        format: TraceFormat,
        input: Box<dyn BufRead>,
    ) -> Result<Self, TraceError> {
        let lines = Lines::new(path, input);
        let (inner, header) = match format {
            TraceFormat::Jsonl => {
                let (r, fields, rate) = jsonl::JsonlReader::new(lines)?;
                (
                    Inner::Jsonl(r),
                    TraceHeader {
                        format,
                        fields,
                        rate_hz: rate,
                    },
                )
            }
            TraceFormat::Csv => (
                Inner::Csv(csv::CsvReader::new(lines)?),
                TraceHeader {
                    format,
                    fields: Default::default(),
                    rate_hz: None,
                },
            ),
            TraceFormat::SisFall => (
                Inner::SisFall(sisfall::SisFallReader::new(lines)),
                TraceHeader {
                    format,
                    fields: Default::default(),
                    rate_hz: Some(sisfall::RATE_HZ),
                },
            ),
            TraceFormat::FallAllD => (
                Inner::FallAllD(fallalld::FallAllDReader::new(lines)),
                TraceHeader {
                    format,
                    fields: Default::default(),
                    rate_hz: Some(fallalld::RATE_HZ),
                },
            ),
        };
        Ok(Self {
            header,
            inner,
            done: false,
        })
    }

    /// The trace's header information.
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    /// Nominal sample rate in Hz, when the format or header gives one.
    pub fn rate_hint(&self) -> Option<f64> {
        self.header.rate_hz
    }

    /// The detected format.
    pub fn format(&self) -> TraceFormat {
        self.header.format
    }
}

impl Iterator for TraceReader {
    type Item = Result<Record, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match &mut self.inner {
            Inner::Jsonl(r) => r.next_record(),
            Inner::Csv(r) => r.next_record(),
            Inner::SisFall(r) => r.next_record(),
            Inner::FallAllD(r) => r.next_record(),
        };
        match item {
            None => {
                self.done = true;
                None
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(e))
            }
            Some(Ok(r)) => Some(Ok(r)),
        }
    }
}

/// Reads a whole trace's accelerometer samples (time in µs, g) into memory.
/// Convenience for tools; the simulator streams instead.
pub fn read_accel(path: &Path) -> Result<Vec<(u64, [f64; 3])>, TraceError> {
    let mut out = Vec::new();
    for rec in open_trace(path)? {
        let rec = rec?;
        if let RecordKind::Accel(a) = rec.kind {
            out.push((rec.t_us, a));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
