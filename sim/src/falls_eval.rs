//! `sim falls eval DIR`: runs the fall detector over every trace under a folder.
//!
//! SisFall naming: a file whose name starts with `F` is a fall, with `D` a daily
//! activity (ADL); other files are ignored. Only trace files (`.txt`, `.csv`,
//! `.jsonl`, `.json`) are read. Each trace goes through the accelerometer model
//! ([`Resampler`]) and the [`FallDetector`] directly, not the full simulation;
//! after its last record the sensor keeps reading the mean of the last 0.5 s for
//! [`TAIL_MS`] (the wearer stays as they were, as in a replay), so that an
//! event near the end is judged. A trace counts as detected when at least one
//! fall is raised.
//!
//! Traces are loaded and resampled once ([`load_dir`]) and can then be scored
//! many times ([`score`]), which is what `cargo xtask tune-falls` does.
//! Work is spread over the machine's cores with `std::thread::scope`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use device_model::accel::{AccelConfig, Resampler};
use device_model::fall::{FallDetector, FallDetectorConfig, FallInfo, Judgement};
use serde::Serialize;

use crate::trace::{open_trace, sisfall_code, sisfall_subject, RecordKind, TraceError};

/// How long the last posture is held after a trace ends, in ms.
pub const TAIL_MS: u64 = 8_000;

/// Which subjects to evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectFilter {
    /// Every trace.
    All,
    /// Every trace except these subjects'.
    Exclude(Vec<String>),
    /// Only these subjects' traces.
    Only(Vec<String>),
}

impl SubjectFilter {
    /// Whether a trace of `subject` is kept.
    pub fn keeps(&self, subject: Option<&str>) -> bool {
        match self {
            SubjectFilter::All => true,
            SubjectFilter::Exclude(list) => !subject.is_some_and(|s| list.iter().any(|x| x == s)),
            SubjectFilter::Only(list) => subject.is_some_and(|s| list.iter().any(|x| x == s)),
        }
    }
}

/// One trace, resampled to the accelerometer's ODR.
#[derive(Clone, Debug)]
pub struct LoadedTrace {
    /// The file.
    pub path: PathBuf,
    /// Activity code (`F05`, `D19`, or the file stem up to its first `_`).
    pub code: String,
    /// Subject, when the path names one.
    pub subject: Option<String>,
    /// `true` for a fall (name starts with `F`).
    pub is_fall: bool,
    /// ODR samples in mg, including the held tail.
    pub samples: Vec<[i16; 3]>,
}

/// Result of one trace.
#[derive(Clone, Debug)]
pub struct TraceOutcome {
    /// The file.
    pub path: PathBuf,
    /// Activity code.
    pub code: String,
    /// Subject, when known.
    pub subject: Option<String>,
    /// `true` for a fall trace.
    pub is_fall: bool,
    /// First fall raised, if any.
    pub first_fall: Option<FallInfo>,
}

/// Per activity code: how many files, how many raised a fall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodeStats {
    /// Files with this code.
    pub files: usize,
    /// Files where a fall was raised.
    pub detected: usize,
}

/// Outcome of an evaluation.
#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    /// Fall traces.
    pub falls: usize,
    /// ADL traces.
    pub adls: usize,
    /// Falls detected.
    pub tp: usize,
    /// Falls missed.
    pub fn_: usize,
    /// ADLs without a fall raised.
    pub tn: usize,
    /// ADLs with a fall raised.
    pub fp: usize,
    /// Per activity code.
    pub per_code: BTreeMap<String, CodeStats>,
    /// Per trace, in path order.
    pub outcomes: Vec<TraceOutcome>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    falls: usize,
    adls: usize,
    tp: usize,
    #[serde(rename = "fn")]
    fn_: usize,
    tn: usize,
    fp: usize,
    sensitivity: f64,
    specificity: f64,
    per_code: &'a BTreeMap<String, CodeStats>,
}

impl EvalReport {
    /// `tp / falls` (0 when there is no fall trace).
    pub fn sensitivity(&self) -> f64 {
        if self.falls == 0 {
            0.0
        } else {
            self.tp as f64 / self.falls as f64
        }
    }

    /// `tn / adls` (0 when there is no ADL trace).
    pub fn specificity(&self) -> f64 {
        if self.adls == 0 {
            0.0
        } else {
            self.tn as f64 / self.adls as f64
        }
    }

    fn json_view(&self) -> JsonReport<'_> {
        JsonReport {
            falls: self.falls,
            adls: self.adls,
            tp: self.tp,
            fn_: self.fn_,
            tn: self.tn,
            fp: self.fp,
            sensitivity: self.sensitivity(),
            specificity: self.specificity(),
            per_code: &self.per_code,
        }
    }

    /// The `--json` object: `{"falls","adls","tp","fn","tn","fp","sensitivity",
    /// "specificity","per_code":{"F01":{"files","detected"},…}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json_view()).unwrap_or(serde_json::Value::Null)
    }

    /// The same object as one line of text, keys in the documented order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(&self.json_view()).unwrap_or_default()
    }

    /// Human summary: confusion matrix, sensitivity, specificity and the worst
    /// activity codes (missed falls, false alarms).
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "                 detected   not detected");
        let _ = writeln!(
            s,
            "falls ({:>4})     TP {:>5}       FN {:>5}",
            self.falls, self.tp, self.fn_
        );
        let _ = writeln!(
            s,
            "ADLs  ({:>4})     FP {:>5}       TN {:>5}",
            self.adls, self.fp, self.tn
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "sensitivity {:.4}", self.sensitivity());
        let _ = writeln!(s, "specificity {:.4}", self.specificity());
        let mut worst: Vec<(f64, &String, &CodeStats, bool)> = self
            .per_code
            .iter()
            .filter_map(|(code, st)| {
                let fall = code.starts_with('F');
                let errors = if fall {
                    st.files - st.detected
                } else {
                    st.detected
                };
                (errors > 0).then(|| (errors as f64 / st.files.max(1) as f64, code, st, fall))
            })
            .collect();
        worst.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let _ = writeln!(s);
        if worst.is_empty() {
            let _ = writeln!(s, "worst activity codes: none (no error)");
        } else {
            let _ = writeln!(s, "worst activity codes:");
            for (rate, code, st, fall) in worst.iter().take(8) {
                let what = if *fall {
                    format!("{} of {} falls missed", st.files - st.detected, st.files)
                } else {
                    format!("{} of {} false alarms", st.detected, st.files)
                };
                let _ = writeln!(s, "  {code:<6} {:>5.1} %  {what}", rate * 100.0);
            }
        }
        s
    }
}

/// Activity code and class of a trace file, or `None` when it is neither a
/// fall (`F…`) nor an ADL (`D…`) trace file.
pub fn classify(path: &Path) -> Option<(String, bool)> {
    let name = path.file_name()?.to_str()?;
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !matches!(ext.as_str(), "txt" | "csv" | "jsonl" | "json") {
        return None;
    }
    let is_fall = match name.as_bytes().first()? {
        b'F' => true,
        b'D' => false,
        _ => return None,
    };
    let code = sisfall_code(path).unwrap_or_else(|| {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(name);
        stem.split('_').next().unwrap_or(stem).to_string()
    });
    Some((code, is_fall))
}

/// Every fall/ADL trace under `dir`, recursively, sorted by path.
pub fn list_traces(dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| {
            TraceError::new(
                &d,
                0,
                0,
                "a readable folder of traces",
                format!("I/O error: {e}"),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                TraceError::new(
                    &d,
                    0,
                    0,
                    "a readable folder entry",
                    format!("I/O error: {e}"),
                )
            })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if classify(&p).is_some() {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one trace and resamples its accelerometer records to the ODR, then
/// appends the held tail (mean of the last 0.5 s for [`TAIL_MS`]).
pub fn resample_trace(path: &Path, accel: &AccelConfig) -> Result<Vec<[i16; 3]>, TraceError> {
    let mut r = Resampler::new(accel);
    let mut out: Vec<[i16; 3]> = Vec::new();
    for rec in open_trace(path)? {
        let rec = rec?;
        if let RecordKind::Accel(g) = rec.kind {
            r.push_with(rec.t_us, g, |_, s| out.push(s));
        }
    }
    let odr = u64::from(accel.odr_hz.max(1));
    let last_n = ((odr / 2).max(1) as usize).min(out.len());
    if last_n > 0 {
        let mut sum = [0i64; 3];
        for s in &out[out.len() - last_n..] {
            for (a, v) in sum.iter_mut().zip(s) {
                *a += i64::from(*v);
            }
        }
        let n = last_n as i64;
        let mean = [
            (sum[0] / n) as i16,
            (sum[1] / n) as i16,
            (sum[2] / n) as i16,
        ];
        let tail = (TAIL_MS * odr / 1000) as usize;
        out.extend(std::iter::repeat_n(mean, tail));
    }
    Ok(out)
}

/// Runs the detector over ODR samples; returns the first fall raised and how many.
pub fn run_detector(
    samples: &[[i16; 3]],
    fall: &FallDetectorConfig,
    odr_hz: u32,
) -> (Option<FallInfo>, usize) {
    let mut d = FallDetector::new(fall, odr_hz);
    let mut first = None;
    let mut count = 0;
    for s in samples {
        if let Some(info) = d.push(*s) {
            first.get_or_insert(info);
            count += 1;
        }
    }
    (first, count)
}

/// Every candidate event the detector judged on `samples`, in order (for
/// explaining a miss or a false alarm).
pub fn judgements(samples: &[[i16; 3]], fall: &FallDetectorConfig, odr_hz: u32) -> Vec<Judgement> {
    let mut d = FallDetector::new(fall, odr_hz);
    let mut out = Vec::new();
    let mut last = None;
    for s in samples {
        d.push(*s);
        let j = d.last_judgement().copied();
        if j != last {
            if let Some(j) = j {
                out.push(j);
            }
            last = j;
        }
    }
    out
}

/// Maps `f` over `items` on up to `available_parallelism` threads, keeping order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

/// Loads and resamples every fall/ADL trace under `dir` kept by `filter`.
pub fn load_dir(
    dir: &Path,
    accel: &AccelConfig,
    filter: &SubjectFilter,
) -> Result<Vec<LoadedTrace>, TraceError> {
    let paths: Vec<PathBuf> = list_traces(dir)?
        .into_iter()
        .filter(|p| filter.keeps(sisfall_subject(p).as_deref()))
        .collect();
    let loaded = par_map(&paths, |p| -> Result<LoadedTrace, TraceError> {
        let (code, is_fall) = classify(p).unwrap_or_default();
        Ok(LoadedTrace {
            path: p.clone(),
            code,
            subject: sisfall_subject(p),
            is_fall,
            samples: resample_trace(p, accel)?,
        })
    });
    loaded.into_iter().collect()
}

/// Scores a detector configuration on loaded traces.
pub fn score(traces: &[LoadedTrace], fall: &FallDetectorConfig, odr_hz: u32) -> EvalReport {
    let outcomes = par_map(traces, |t| TraceOutcome {
        path: t.path.clone(),
        code: t.code.clone(),
        subject: t.subject.clone(),
        is_fall: t.is_fall,
        first_fall: run_detector(&t.samples, fall, odr_hz).0,
    });
    let mut r = EvalReport::default();
    for o in &outcomes {
        let detected = o.first_fall.is_some();
        let st = r.per_code.entry(o.code.clone()).or_default();
        st.files += 1;
        st.detected += usize::from(detected);
        match (o.is_fall, detected) {
            (true, true) => r.tp += 1,
            (true, false) => r.fn_ += 1,
            (false, true) => r.fp += 1,
            (false, false) => r.tn += 1,
        }
    }
    r.falls = r.tp + r.fn_;
    r.adls = r.tn + r.fp;
    r.outcomes = outcomes;
    r
}

/// What `sim falls eval DIR [--json]` prints: the one-line JSON object, or the
/// human table.
pub fn render(report: &EvalReport, json: bool) -> String {
    if json {
        let mut s = report.to_json_string();
        s.push('\n');
        s
    } else {
        report.to_table()
    }
}

/// Evaluates every trace under `dir` except those of `exclude_subjects`.
pub fn eval_dir(
    dir: &Path,
    accel: &AccelConfig,
    fall: &FallDetectorConfig,
    exclude_subjects: &[String],
) -> Result<EvalReport, TraceError> {
    eval_dir_filtered(
        dir,
        accel,
        fall,
        &SubjectFilter::Exclude(exclude_subjects.to_vec()),
    )
}

/// Evaluates the traces under `dir` kept by `filter` (e.g. only one subject,
/// for a leave-one-subject-out fold).
pub fn eval_dir_filtered(
    dir: &Path,
    accel: &AccelConfig,
    fall: &FallDetectorConfig,
    filter: &SubjectFilter,
) -> Result<EvalReport, TraceError> {
    let traces = load_dir(dir, accel, filter)?;
    Ok(score(&traces, fall, accel.odr_hz))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracegen::{to_jsonl, Activity};

    #[test]
    fn eval_dir_on_generated_traces() {
        let dir = std::env::temp_dir().join(format!("falls-eval-test-{}", std::process::id()));
        let sub = dir.join("SA99");
        std::fs::create_dir_all(&sub).expect("dir");
        let files = [
            ("F01_SA99_R01.jsonl", Activity::FallForward),
            ("D01_SA99_R01.jsonl", Activity::Walking),
            ("D03_SA99_R01.jsonl", Activity::Jogging),
            ("D10_SA99_R01.jsonl", Activity::SitDownHard),
            ("D12_SA99_R01.jsonl", Activity::LieDown),
        ];
        for (name, a) in files {
            std::fs::write(sub.join(name), to_jsonl(a, 42)).expect("write");
        }
        std::fs::write(sub.join("README.md"), "not a trace").expect("write");
        let accel = AccelConfig::default();
        let fall = FallDetectorConfig::default();
        let r = eval_dir(&dir, &accel, &fall, &[]).expect("eval");
        assert_eq!(
            (r.falls, r.adls, r.tp, r.fn_, r.tn, r.fp),
            (1, 4, 1, 0, 4, 0)
        );
        assert_eq!(
            r.to_json_string(),
            r#"{"falls":1,"adls":4,"tp":1,"fn":0,"tn":4,"fp":0,"sensitivity":1.0,"specificity":1.0,"per_code":{"D01":{"files":1,"detected":0},"D03":{"files":1,"detected":0},"D10":{"files":1,"detected":0},"D12":{"files":1,"detected":0},"F01":{"files":1,"detected":1}}}"#
        );
        assert_eq!(r.to_json()["fn"], 0);
        assert!(r.to_table().contains("sensitivity 1.0000"));
        let none = eval_dir(&dir, &accel, &fall, &["SA99".to_string()]).expect("eval");
        assert_eq!(none.falls + none.adls, 0);
        let only = eval_dir_filtered(
            &dir,
            &accel,
            &fall,
            &SubjectFilter::Only(vec!["SA99".into()]),
        )
        .expect("eval");
        assert_eq!(only.falls + only.adls, 5);
        // A broken trace is an error naming the file.
        std::fs::write(
            sub.join("D02_SA99_R01.jsonl"),
            "{\"trace\":\"alarm-button\"",
        )
        .expect("write");
        let e = eval_dir(&dir, &accel, &fall, &[]).expect_err("broken");
        assert!(e.to_string().contains("D02_SA99_R01.jsonl:1:"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn table_lists_worst_codes() {
        let mut r = EvalReport {
            falls: 2,
            adls: 2,
            tp: 1,
            fn_: 1,
            tn: 1,
            fp: 1,
            ..EvalReport::default()
        };
        r.per_code.insert(
            "F01".into(),
            CodeStats {
                files: 2,
                detected: 1,
            },
        );
        r.per_code.insert(
            "D19".into(),
            CodeStats {
                files: 2,
                detected: 1,
            },
        );
        let t = r.to_table();
        assert!(
            t.contains("F01") && t.contains("1 of 2 falls missed"),
            "{t}"
        );
        assert!(
            t.contains("D19") && t.contains("1 of 2 false alarms"),
            "{t}"
        );
    }
}
