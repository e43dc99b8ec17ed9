//! FallAllD waist accelerometer `.dat` reader and file-name helpers.
//!
//! FallAllD (Saleh, Abbas, Le Jeannès, IEEE Internet of Things Journal 8(2), 2021;
//! data doi:10.21227/bnya-mn34): one sample per line at 238 Hz, three
//! comma-separated raw integers `x,y,z`, no header. Sensor LSM9DS1 at ±8 g:
//! `g = raw × 0.000244`; it saturates at ±32,764. Sample `i` is at
//! `round(i × 10⁶ / 238)` µs. Blank lines are skipped; a file without any sample
//! is an error. Worn at the waist with gravity on `+x` when upright.
//!
//! Only the waist accelerometer files `S<subject>_D3_A<activity>_T<trial>_A.dat`
//! are traces ([`fallalld_name`]); activities 101-135 are falls, the others daily
//! activities ([`fallalld_is_fall`]).

use std::path::Path;

use super::{excerpt, Lines, Record, RecordKind, TraceError};

/// FallAllD sample rate.
pub const RATE_HZ: f64 = 238.0;
/// g per raw unit (0.244 mg).
pub const G_PER_UNIT: f64 = 0.000_244;
/// Range of a 16-bit reading.
const RAW: std::ops::RangeInclusive<i32> = -32_768..=32_767;

/// Streaming FallAllD reader.
pub struct FallAllDReader {
    lines: Lines,
    index: u64,
}

impl FallAllDReader {
    pub(crate) fn new(lines: Lines) -> Self {
        Self { lines, index: 0 }
    }

    pub(crate) fn next_record(&mut self) -> Option<Result<Record, TraceError>> {
        match self.lines.next_content_line() {
            None if self.index == 0 => Some(Err(TraceError::new(
                self.lines.file(),
                self.lines.line_no().max(1),
                1,
                "a FallAllD sample line (3 comma-separated integers)",
                "end of file",
            ))),
            None => None,
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(line)) => Some(self.parse(&line)),
        }
    }

    fn parse(&mut self, line: &str) -> Result<Record, TraceError> {
        let mut g = [0.0f64; 3];
        let mut count = 0usize;
        let mut start = 0usize;
        for field in line.split(',') {
            let col = start + 1 + (field.len() - field.trim_start().len());
            start += field.len() + 1;
            if count == 3 {
                return Err(self.lines.err(col - 1, "3 columns", "a 4th column"));
            }
            let t = field.trim();
            let v: i32 = t
                .parse()
                .map_err(|_| self.lines.err(col, "an integer", excerpt(t)))?;
            if !RAW.contains(&v) {
                return Err(self.lines.err(
                    col,
                    "a 16-bit reading within -32768..=32767",
                    excerpt(t),
                ));
            }
            g[count] = f64::from(v) * G_PER_UNIT;
            count += 1;
        }
        if count < 3 {
            return Err(self.lines.err(
                line.len() + 1,
                "3 comma-separated integers `x,y,z`",
                format!("{count} column(s)"),
            ));
        }
        let t_us = (self.index * 1_000_000 + 119) / 238;
        self.index += 1;
        Ok(Record {
            t_us,
            kind: RecordKind::Accel(g),
        })
    }
}

/// What a FallAllD file name says: subject (`S01`), device (`3` = waist),
/// activity id, trial, and the sensor letter (`A` accelerometer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FallAllDName {
    /// Subject id as in the name, e.g. `S01`.
    pub subject: String,
    /// Device number (1 neck, 2 wrist, 3 waist).
    pub device: u8,
    /// Activity id (101-135 falls).
    pub activity: u16,
    /// Trial number.
    pub trial: u16,
    /// Sensor letter (`A` accelerometer, `G` gyroscope, `M` magnetometer, `B` barometer).
    pub sensor: char,
}

fn digits<T: std::str::FromStr>(s: &str, prefix: char) -> Option<T> {
    let rest = s.strip_prefix(prefix)?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// Parses `S<subject>_D<device>_A<activity>_T<trial>_<sensor>.dat`.
pub fn fallalld_name(path: &Path) -> Option<FallAllDName> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".dat")?;
    let mut parts = stem.split('_');
    let subject = parts.next()?;
    digits::<u16>(subject, 'S')?;
    let device = digits(parts.next()?, 'D')?;
    let activity = digits(parts.next()?, 'A')?;
    let trial = digits(parts.next()?, 'T')?;
    let sensor_s = parts.next()?;
    let mut chars = sensor_s.chars();
    let sensor = chars.next()?;
    if chars.next().is_some() || parts.next().is_some() || !sensor.is_ascii_uppercase() {
        return None;
    }
    Some(FallAllDName {
        subject: subject.to_string(),
        device,
        activity,
        trial,
        sensor,
    })
}

/// The name of a FallAllD waist accelerometer trace (device 3, sensor `A`), else `None`.
pub fn fallalld_trace(path: &Path) -> Option<FallAllDName> {
    fallalld_name(path).filter(|n| n.device == 3 && n.sensor == 'A')
}

/// Whether a FallAllD activity id is a fall (101-135).
pub fn fallalld_is_fall(activity: u16) -> bool {
    (101..=135).contains(&activity)
}
