//! `sim falls eval DIR`: runs the fall detector over every trace under a folder.
//!
//! Labels come from the file names: SisFall (`F…` falls, `D…` daily activities,
//! ADLs; the subject from the folder, `SA01`), FallAllD waist accelerometer files
//! (`S01_D3_A101_T01_A.dat`: activities 101-135 are falls, the others ADLs);
//! any other trace file whose name starts with `F` or `D` counts the SisFall way
//! (dataset `other`). Each trace goes through the accelerometer model
//! ([`Resampler`]) and the [`FallDetector`] directly, not the full simulation;
//! after its last record the sensor keeps reading the mean of the last 0.5 s for
//! [`TAIL_MS`] (the wearer stays as they were, as in a replay), so that an
//! event near the end is judged. A trace counts as detected when at least one
//! fall is raised.
//!
//! The report gives the confusion matrix over everything, per dataset and per
//! subject (n/a for a class without traces), and lists every miss and false
//! alarm with the stage of the detector that decided and a `sim replay` command.
//! A file that cannot be read is counted and named; the others are still scored.
//!
//! Traces are loaded and resampled once ([`load_all`]) and can then be scored
//! many times ([`score`]), which is what `cargo xtask tune-falls` does.
//! Work is spread over the machine's cores with `std::thread::scope`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use device_model::accel::{AccelConfig, Resampler};
use device_model::fall::{FallDetector, FallDetectorConfig, FallInfo, Judgement, Stage};
use serde::Serialize;

use crate::trace::{
    fallalld_is_fall, fallalld_trace, open_trace, sisfall_code, sisfall_subject, RecordKind,
    TraceError,
};

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

/// Where a trace comes from (by its file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// SisFall (`F05_SA01_R02.txt`).
    SisFall,
    /// FallAllD waist accelerometer (`S01_D3_A101_T01_A.dat`).
    FallAllD,
    /// Any other `F…`/`D…` trace file.
    Other,
}

impl Dataset {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::SisFall => "sisfall",
            Dataset::FallAllD => "fallalld",
            Dataset::Other => "other",
        }
    }
}

/// What a trace's file name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLabel {
    /// Activity code (`F05`, `D19`, `A101`, or the file stem up to its first `_`).
    pub code: String,
    /// `true` for a fall.
    pub is_fall: bool,
    /// The dataset.
    pub dataset: Dataset,
    /// Subject, when the path names one.
    pub subject: Option<String>,
}

/// One trace, resampled to the accelerometer's ODR.
#[derive(Clone, Debug)]
pub struct LoadedTrace {
    /// The file.
    pub path: PathBuf,
    /// Activity code.
    pub code: String,
    /// Subject, when the path names one.
    pub subject: Option<String>,
    /// `true` for a fall.
    pub is_fall: bool,
    /// The dataset.
    pub dataset: Dataset,
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
    /// The dataset.
    pub dataset: Dataset,
    /// First fall raised, if any.
    pub first_fall: Option<FallInfo>,
    /// The judgement that decided: the accepted one, else the candidate that
    /// went furthest through the stages (`None`: no candidate opened).
    pub deciding: Option<Judgement>,
}

/// Per activity code: how many files, how many raised a fall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodeStats {
    /// Files with this code.
    pub files: usize,
    /// Files where a fall was raised.
    pub detected: usize,
    /// Whether the code is a fall.
    #[serde(skip)]
    pub fall: bool,
}

/// A confusion matrix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Falls detected.
    pub tp: usize,
    /// Falls missed.
    pub fn_: usize,
    /// ADLs without a fall raised.
    pub tn: usize,
    /// ADLs with a fall raised.
    pub fp: usize,
}

impl Counts {
    fn add(&mut self, is_fall: bool, detected: bool) {
        match (is_fall, detected) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// `tp / falls`, `None` without fall traces.
    pub fn sensitivity(&self) -> Option<f64> {
        let n = self.tp + self.fn_;
        (n > 0).then(|| self.tp as f64 / n as f64)
    }

    /// `tn / adls`, `None` without ADL traces.
    pub fn specificity(&self) -> Option<f64> {
        let n = self.tn + self.fp;
        (n > 0).then(|| self.tn as f64 / n as f64)
    }

    fn json(&self) -> CountsJson {
        CountsJson {
            falls: self.tp + self.fn_,
            adls: self.tn + self.fp,
            tp: self.tp,
            fn_: self.fn_,
            tn: self.tn,
            fp: self.fp,
            sensitivity: self.sensitivity(),
            specificity: self.specificity(),
        }
    }
}

#[derive(Serialize)]
struct CountsJson {
    falls: usize,
    adls: usize,
    tp: usize,
    #[serde(rename = "fn")]
    fn_: usize,
    tn: usize,
    fp: usize,
    sensitivity: Option<f64>,
    specificity: Option<f64>,
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
    /// Per dataset.
    pub per_dataset: BTreeMap<Dataset, Counts>,
    /// Per dataset and subject (`None`: a trace whose path names no subject).
    pub per_subject: BTreeMap<(Dataset, String), Counts>,
    /// Per trace, in path order.
    pub outcomes: Vec<TraceOutcome>,
    /// Files that could not be read.
    pub unreadable: Vec<TraceError>,
}

/// One miss or false alarm, as `--json` lists it.
#[derive(Serialize)]
struct ErrorJson<'a> {
    file: String,
    dataset: Dataset,
    subject: Option<&'a str>,
    code: &'a str,
    /// `miss` or `false_alarm`.
    kind: &'static str,
    /// The stage that decided (`trigger` when no candidate opened).
    stage: &'static str,
    judgement: Option<&'a Judgement>,
    replay: String,
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
    per_dataset: BTreeMap<&'static str, CountsJson>,
    per_subject: BTreeMap<String, CountsJson>,
    errors: Vec<ErrorJson<'a>>,
    unreadable: Vec<String>,
}

/// The stage that decided a trace's outcome (`trigger`: no candidate opened).
pub fn deciding_stage(o: &TraceOutcome) -> &'static str {
    o.deciding.map_or("trigger", |j| j.stage.name())
}

/// The command that replays a trace with the detector's signals.
pub fn replay_command(path: &Path) -> String {
    format!("sim replay {} --json", path.display())
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

    /// The misses and false alarms, in path order.
    pub fn errors(&self) -> impl Iterator<Item = &TraceOutcome> {
        self.outcomes
            .iter()
            .filter(|o| o.is_fall != o.first_fall.is_some())
    }

    fn json_view(&self) -> JsonReport<'_> {
        let errors = self
            .errors()
            .map(|o| ErrorJson {
                file: o.path.display().to_string(),
                dataset: o.dataset,
                subject: o.subject.as_deref(),
                code: &o.code,
                kind: if o.is_fall { "miss" } else { "false_alarm" },
                stage: deciding_stage(o),
                judgement: o.deciding.as_ref(),
                replay: replay_command(&o.path),
            })
            .collect();
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
            per_dataset: self
                .per_dataset
                .iter()
                .map(|(d, c)| (d.name(), c.json()))
                .collect(),
            per_subject: self
                .per_subject
                .iter()
                .map(|((d, s), c)| (format!("{}/{s}", d.name()), c.json()))
                .collect(),
            errors,
            unreadable: self.unreadable.iter().map(|e| e.to_string()).collect(),
        }
    }

    /// The `--json` object: `{"falls","adls","tp","fn","tn","fp","sensitivity",
    /// "specificity","per_code":{"F01":{"files","detected"},…}}`, then
    /// `per_dataset`, `per_subject` (`"sisfall/SA01"`; `null` rates for a class
    /// without traces), `errors` (each miss and false alarm with its deciding
    /// stage, judgement and replay command) and `unreadable` files.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json_view()).unwrap_or(serde_json::Value::Null)
    }

    /// The same object as one line of text, keys in the documented order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(&self.json_view()).unwrap_or_default()
    }

    /// Human summary: confusion matrix, sensitivity, specificity, per dataset
    /// and subject, the worst activity codes, every error and unreadable file.
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
        self.write_groups(&mut s);
        self.write_worst(&mut s);
        self.write_errors(&mut s);
        s
    }

    fn write_groups(&self, s: &mut String) {
        let rate = |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
        let line = |s: &mut String, name: &str, c: &Counts| {
            let _ = writeln!(
                s,
                "  {name:<18} falls {:>4} ADLs {:>4}  sensitivity {:>6}  specificity {:>6}",
                c.tp + c.fn_,
                c.tn + c.fp,
                rate(c.sensitivity()),
                rate(c.specificity())
            );
        };
        let _ = writeln!(s);
        let _ = writeln!(s, "per dataset:");
        for (d, c) in &self.per_dataset {
            line(s, d.name(), c);
        }
        let _ = writeln!(s, "per subject:");
        for ((d, subj), c) in &self.per_subject {
            line(s, &format!("{}/{subj}", d.name()), c);
        }
    }

    fn write_worst(&self, s: &mut String) {
        let mut worst: Vec<(f64, &String, &CodeStats)> = self
            .per_code
            .iter()
            .filter_map(|(code, st)| {
                let errors = if st.fall {
                    st.files - st.detected
                } else {
                    st.detected
                };
                (errors > 0).then(|| (errors as f64 / st.files.max(1) as f64, code, st))
            })
            .collect();
        worst.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let _ = writeln!(s);
        if worst.is_empty() {
            let _ = writeln!(s, "worst activity codes: none (no error)");
            return;
        }
        let _ = writeln!(s, "worst activity codes:");
        for (rate, code, st) in worst.iter().take(8) {
            let what = if st.fall {
                format!("{} of {} falls missed", st.files - st.detected, st.files)
            } else {
                format!("{} of {} false alarms", st.detected, st.files)
            };
            let _ = writeln!(s, "  {code:<6} {:>5.1} %  {what}", rate * 100.0);
        }
    }

    fn write_errors(&self, s: &mut String) {
        let errors: Vec<&TraceOutcome> = self.errors().collect();
        if !errors.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "misses and false alarms (stage that decided):");
        }
        for o in errors {
            let kind = if o.is_fall { "miss" } else { "false alarm" };
            let _ = writeln!(
                s,
                "  {kind:<11} {:<14} {}\n      replay: {}",
                deciding_stage(o),
                o.path.display(),
                replay_command(&o.path)
            );
        }
        if !self.unreadable.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "unreadable files: {}", self.unreadable.len());
            for e in &self.unreadable {
                let _ = writeln!(s, "  {e}");
            }
        }
    }
}

/// What a trace file's name says, or `None` when it is not a labelled fall or
/// ADL trace.
pub fn classify(path: &Path) -> Option<TraceLabel> {
    let name = path.file_name()?.to_str()?;
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if ext == "dat" {
        let n = fallalld_trace(path)?;
        return Some(TraceLabel {
            code: format!("A{:03}", n.activity),
            is_fall: fallalld_is_fall(n.activity),
            dataset: Dataset::FallAllD,
            subject: Some(n.subject),
        });
    }
    if !matches!(ext.as_str(), "txt" | "csv" | "jsonl" | "json") {
        return None;
    }
    let is_fall = match name.as_bytes().first()? {
        b'F' => true,
        b'D' => false,
        _ => return None,
    };
    let sis = sisfall_code(path);
    let dataset = if sis.is_some() && ext == "txt" {
        Dataset::SisFall
    } else {
        Dataset::Other
    };
    let code = sis.unwrap_or_else(|| {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(name);
        stem.split('_').next().unwrap_or(stem).to_string()
    });
    Some(TraceLabel {
        code,
        is_fall,
        dataset,
        subject: sisfall_subject(path),
    })
}

/// Every fall/ADL trace under `dir`, recursively, sorted by path.
pub fn list_traces(dir: &Path) -> Result<Vec<PathBuf>, TraceError> {
    let io = |d: &Path, what: &str, e: std::io::Error| {
        TraceError::new(d, 0, 0, what, format!("I/O error: {e}"))
    };
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| io(&d, "a readable folder of traces", e))?;
        for entry in entries {
            let p = entry
                .map_err(|e| io(&d, "a readable folder entry", e))?
                .path();
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
        let mean = sum.map(|v| (v / n) as i16);
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
    for s in samples {
        d.push(*s);
        if let Some(j) = d.last_judgement() {
            if out.last() != Some(j) {
                out.push(*j);
            }
        }
    }
    out
}

/// How far a judgement got through the stages (accepted is furthest).
fn progress(stage: Stage) -> u8 {
    match stage {
        Stage::Violence => 0,
        Stage::OffBody => 1,
        Stage::Posture => 2,
        Stage::Stillness => 3,
        Stage::UprightBefore => 4,
        Stage::Accepted => 5,
    }
}

/// The first fall raised and the judgement that decided the trace: the first
/// accepted one, else the candidate that went furthest (ties: the strongest peak).
pub fn decide_trace(
    samples: &[[i16; 3]],
    fall: &FallDetectorConfig,
    odr_hz: u32,
) -> (Option<FallInfo>, Option<Judgement>) {
    let mut d = FallDetector::new(fall, odr_hz);
    let mut first = None;
    let mut best: Option<Judgement> = None;
    let mut seen = None;
    for s in samples {
        let f = d.push(*s);
        if first.is_none() {
            first = f;
        }
        let Some(j) = d.last_judgement().copied() else {
            continue;
        };
        if seen == Some(j.sample_index) {
            continue;
        }
        seen = Some(j.sample_index);
        let better = best.is_none_or(|b| {
            !b.fall
                && (progress(j.stage), j.features.peak_mg) > (progress(b.stage), b.features.peak_mg)
        });
        if better {
            best = Some(j);
        }
    }
    (first, best)
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

/// Loads and resamples every fall/ADL trace under `dir` kept by `filter`; a
/// file that cannot be read is returned apart, the others are kept. Only an
/// unreadable folder is an error.
pub fn load_all(
    dir: &Path,
    accel: &AccelConfig,
    filter: &SubjectFilter,
) -> Result<(Vec<LoadedTrace>, Vec<TraceError>), TraceError> {
    let labelled: Vec<(PathBuf, TraceLabel)> = list_traces(dir)?
        .into_iter()
        .filter_map(|p| classify(&p).map(|l| (p, l)))
        .filter(|(_, l)| filter.keeps(l.subject.as_deref()))
        .collect();
    let loaded = par_map(&labelled, |(p, l)| {
        resample_trace(p, accel).map(|samples| LoadedTrace {
            path: p.clone(),
            code: l.code.clone(),
            subject: l.subject.clone(),
            is_fall: l.is_fall,
            dataset: l.dataset,
            samples,
        })
    });
    let mut traces = Vec::new();
    let mut unreadable = Vec::new();
    for r in loaded {
        match r {
            Ok(t) => traces.push(t),
            Err(e) => unreadable.push(e),
        }
    }
    Ok((traces, unreadable))
}

/// As [`load_all`], but the first unreadable file is an error.
pub fn load_dir(
    dir: &Path,
    accel: &AccelConfig,
    filter: &SubjectFilter,
) -> Result<Vec<LoadedTrace>, TraceError> {
    let (traces, unreadable) = load_all(dir, accel, filter)?;
    match unreadable.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(traces),
    }
}

/// Scores a detector configuration on loaded traces.
pub fn score(traces: &[LoadedTrace], fall: &FallDetectorConfig, odr_hz: u32) -> EvalReport {
    let outcomes = par_map(traces, |t| {
        let (first_fall, deciding) = decide_trace(&t.samples, fall, odr_hz);
        TraceOutcome {
            path: t.path.clone(),
            code: t.code.clone(),
            subject: t.subject.clone(),
            is_fall: t.is_fall,
            dataset: t.dataset,
            first_fall,
            deciding,
        }
    });
    let mut r = EvalReport::default();
    let mut all = Counts::default();
    for o in &outcomes {
        let detected = o.first_fall.is_some();
        let st = r.per_code.entry(o.code.clone()).or_default();
        st.files += 1;
        st.detected += usize::from(detected);
        st.fall = o.is_fall;
        all.add(o.is_fall, detected);
        r.per_dataset
            .entry(o.dataset)
            .or_default()
            .add(o.is_fall, detected);
        let subject = o.subject.clone().unwrap_or_else(|| "-".into());
        r.per_subject
            .entry((o.dataset, subject))
            .or_default()
            .add(o.is_fall, detected);
    }
    (r.tp, r.fn_, r.tn, r.fp) = (all.tp, all.fn_, all.tn, all.fp);
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

/// Evaluates every trace under `dir` except those of `exclude_subjects`;
/// unreadable files are listed in the report's `unreadable`.
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
    let (traces, unreadable) = load_all(dir, accel, filter)?;
    let mut r = score(&traces, fall, accel.odr_hz);
    r.unreadable = unreadable;
    Ok(r)
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
            r#"{"falls":1,"adls":4,"tp":1,"fn":0,"tn":4,"fp":0,"sensitivity":1.0,"specificity":1.0,"per_code":{"D01":{"files":1,"detected":0},"D03":{"files":1,"detected":0},"D10":{"files":1,"detected":0},"D12":{"files":1,"detected":0},"F01":{"files":1,"detected":1}},"per_dataset":{"other":{"falls":1,"adls":4,"tp":1,"fn":0,"tn":4,"fp":0,"sensitivity":1.0,"specificity":1.0}},"per_subject":{"other/SA99":{"falls":1,"adls":4,"tp":1,"fn":0,"tn":4,"fp":0,"sensitivity":1.0,"specificity":1.0}},"errors":[],"unreadable":[]}"#
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
        // A broken trace is counted and named; the others are still scored.
        std::fs::write(
            sub.join("D02_SA99_R01.jsonl"),
            "{\"trace\":\"alarm-button\"",
        )
        .expect("write");
        let r = eval_dir(&dir, &accel, &fall, &[]).expect("eval");
        assert_eq!(r.falls + r.adls, 5);
        assert_eq!(r.unreadable.len(), 1);
        let t = r.to_table();
        assert!(
            t.contains("unreadable files: 1") && t.contains("D02_SA99_R01.jsonl:1:"),
            "{t}"
        );
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
                fall: true,
            },
        );
        r.per_code.insert(
            "D19".into(),
            CodeStats {
                files: 2,
                detected: 1,
                fall: false,
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
