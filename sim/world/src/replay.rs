//! Trace replay: a trace is streamed into the button one record at a time. Consecutive
//! records are taken inline when nothing else is due before them (same order, same
//! times as through the queue). After a trace ends the sensor holds the mean of its last
//! 0.5 s until the fall detector has judged it, then stops (motion-wake logic). When
//! asked ([`Simulation::explain_falls`]), every sample also goes to a probed copy of the
//! detector (`fall_probe.rs`).

use std::collections::VecDeque;
use std::path::Path;

use device_model::accel::Resampler;
use device_model::Input;

use crate::fall_probe::DetectorLog;
use crate::observed::{HarnessNote, Observed};
use crate::sched::Micros;
use crate::shared::Ev;
use crate::simulation::Simulation;
use crate::timeline::Layer;
use crate::trace::{open_trace, Record, RecordKind, TraceError, TraceReader};

/// A trace being replayed: streamed, one record scheduled at a time.
pub(crate) struct Replay {
    name: String,
    reader: Box<dyn Iterator<Item = Result<Record, TraceError>>>,
    start: Micros,
    pending: Option<Record>,
    resampler: Resampler,
    /// Accelerometer input of the last 0.5 s (trace time, g).
    recent: VecDeque<(Micros, [f64; 3])>,
    records: u64,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replay({}, {} records)", self.name, self.records)
    }
}

impl Simulation {
    /// Start replaying a trace now (records at their offsets from now).
    pub fn start_replay(&mut self, path: &Path) -> Result<(), TraceError> {
        let reader = open_trace(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.start_replay_reader(name, reader);
        Ok(())
    }

    /// Start replaying an already opened trace now.
    pub fn start_replay_reader(&mut self, name: String, reader: TraceReader) {
        self.start_replay_records(name, Box::new(reader));
    }

    /// Start replaying records from any source (decoded traces, generators) now.
    pub fn start_replay_records(
        &mut self,
        name: String,
        reader: Box<dyn Iterator<Item = Result<Record, TraceError>>>,
    ) {
        self.observe(Layer::Wearer, Observed::TraceStarts { name: name.clone() });
        self.replay_error = None;
        let now = self.now();
        self.replay = Some(Box::new(Replay {
            name,
            reader,
            start: now,
            pending: None,
            resampler: Resampler::new(&self.air.profile().accel),
            recent: VecDeque::new(),
            records: 0,
        }));
        self.schedule(now, Ev::TraceNext);
        self.settle();
    }

    /// From now on, log what the fall detector computes on every sample the button
    /// reads (`series.detector`): its signals and every candidate's judgement, for
    /// explaining a replay. Costs nothing unless called.
    pub fn explain_falls(&mut self) {
        let p = self.air.profile();
        self.series.detector = Some(DetectorLog::new(&p.fall, p.accel.odr_hz));
    }

    /// From now on, keep every accelerometer sample: the trace's own (`series.raw_accel`,
    /// mg) and the sensor's output after the front end (`accel_log`), for plots.
    pub fn record_accel(&mut self) {
        self.accel_log.get_or_insert_with(Vec::new);
        self.series.raw_accel.get_or_insert_with(Vec::new);
    }

    /// Whether a trace is still being replayed.
    pub fn replay_active(&self) -> bool {
        self.replay.is_some()
    }

    /// The replayed trace's next record is due.
    pub(crate) fn trace_next(&mut self) {
        let Some(mut r) = self.replay.take() else {
            return;
        };
        loop {
            if let Some(rec) = r.pending.take() {
                r.records += 1;
                // The deadlines only move when the button acted on the record.
                if self.take_record(&mut r, rec) {
                    self.refresh_due();
                }
            }
            match r.reader.next() {
                Some(Ok(rec)) => {
                    let at = (r.start + rec.t_us).max(self.now());
                    r.pending = Some(rec);
                    // Nothing else due before the next record, and within this run:
                    // take it now rather than through the queue (same order, same times).
                    if at <= self.horizon && self.next_due().is_none_or(|d| d > at) {
                        self.set_now(at);
                        continue;
                    }
                    self.schedule(at, Ev::TraceNext);
                    self.replay = Some(r);
                }
                Some(Err(e)) => {
                    let (name, records) = (r.name.clone(), r.records);
                    let error = e.to_string();
                    self.harness(HarnessNote::TraceUnreadable {
                        name,
                        records,
                        error,
                    });
                    self.replay_error = Some(e);
                    self.hold_posture(&r);
                }
                None => {
                    let (name, records) = (r.name.clone(), r.records);
                    self.observe(Layer::Wearer, Observed::TraceEnds { name, records });
                    self.hold_posture(&r);
                }
            }
            return;
        }
    }

    /// Feed one record to the button; whether the button acted on it.
    fn take_record(&mut self, r: &mut Replay, rec: Record) -> bool {
        match rec.kind {
            RecordKind::Accel(g) => {
                if let Some(d) = self.series.detector.as_mut() {
                    d.raw(r.start + rec.t_us, g);
                }
                if let Some(log) = self.series.raw_accel.as_mut() {
                    log.push((r.start + rec.t_us, g.map(g_to_mg)));
                }
                r.recent.push_back((rec.t_us, g));
                while r
                    .recent
                    .front()
                    .is_some_and(|(t, _)| t + 500_000 < rec.t_us)
                {
                    r.recent.pop_front();
                }
                let mut out = [[0i16; 3]; 4];
                let mut extra = Vec::new();
                let mut n = 0;
                r.resampler.push_with(rec.t_us, g, |_, mg| {
                    match out.get_mut(n) {
                        Some(o) => *o = mg,
                        None => extra.push(mg),
                    }
                    n += 1;
                });
                let mut acted = false;
                for &mg in out.iter().take(n) {
                    acted |= self.accel_sample(mg);
                }
                for mg in extra {
                    acted |= self.accel_sample(mg);
                }
                acted
            }
            RecordKind::Button { down } => {
                self.series.edges.push((self.now(), down));
                self.air.button_input(Input::Edge { down });
                true
            }
            RecordKind::BatteryMv(mv) => {
                self.air.set_cell_mv(mv);
                true
            }
        }
    }

    /// After a trace, the wearer stays as they were: the sensor reads the mean of the
    /// trace's last 0.5 s until the fall detector has judged what it saw (its settle and
    /// stillness windows, plus a second); then the firmware's motion-wake logic stops
    /// sampling an unchanging signal.
    fn hold_posture(&mut self, r: &Replay) {
        if r.recent.is_empty() {
            return;
        }
        let n = r.recent.len() as f64;
        let mut mean = [0.0; 3];
        for (_, g) in &r.recent {
            for (m, v) in mean.iter_mut().zip(g) {
                *m += v / n;
            }
        }
        let profile = self.air.profile();
        let mut one = Resampler::new(&profile.accel);
        let mut mg = [0i16; 3];
        one.push_with(0, mean, |_, s| mg = s);
        let f = &profile.fall;
        let hold_ms = u64::from(f.settle_ms) + u64::from(f.still_window_ms) + 1_000;
        let left = (hold_ms * u64::from(profile.accel.odr_hz) / 1_000).max(1) as u32;
        let period = profile.accel.period_us();
        self.schedule(self.now() + period, Ev::AccelHold { mg, left });
    }

    /// The sensor still reads `mg`, `left` more samples.
    pub(crate) fn accel_hold(&mut self, mg: [i16; 3], left: u32) {
        self.accel_sample(mg);
        if left > 1 {
            let period = self.air.profile().accel.period_us();
            let ev = Ev::AccelHold { mg, left: left - 1 };
            self.schedule(self.now() + period, ev);
        }
    }

    /// One sample to the button's sensor; whether the button acted on it.
    fn accel_sample(&mut self, mg: [i16; 3]) -> bool {
        if self.accel_log.is_some() || self.series.detector.is_some() {
            let now = self.now();
            if let Some(log) = self.accel_log.as_mut() {
                log.push((now, mg));
            }
            if let Some(d) = self.series.detector.as_mut() {
                d.sample(now, mg);
            }
        }
        self.air.accel(mg)
    }
}

/// Acceleration in g to mg, saturated to the `i16` range (±32.767 g).
fn g_to_mg(g: f64) -> i16 {
    (g * 1000.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
}
