//! Fleet mode: many independent wearers, each a full simulation (button, link, phone,
//! platform) with random gestures, falls and faults, spread over all cores.
//!
//! Each wearer `i` has its own seed derived from the run's seed and `i`, so a fleet run
//! is deterministic and any one wearer can be re-run alone. Over `hours` of simulated
//! time a wearer presses (75 % single, 20 % double, 5 % long then long again to stop),
//! sometimes falls (the generated forward-fall trace), and suffers link outages
//! (5 s – 15 min) and app restarts. Wearer actions are at least 2 minutes apart so that
//! a press never cancels a fall countdown (that would change what is expected). After
//! the last hour every fault ends and the world settles for an hour.
//!
//! The oracle, per wearer: every event the button queued is recorded once by the phone
//! (otherwise *lost*); every contact receives exactly one help SMS per single press, one
//! conference SMS per double press and one "Fall detected" SMS per fall (more is
//! *duplicated*, fewer is *lost*). Delivery latency is from the button queuing an event
//! to the phone recording it.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use phone::config::Contact;

use crate::rng::{derive_seed, Component, Stream};
use crate::sched::{Micros, SECOND};
use crate::simulation::{generated_contact, Setup, Simulation};
use crate::trace::{Record, TraceFormat, TraceReader};
use crate::tracegen::{to_jsonl, Activity};
use crate::SimError;

/// What one wearer's run produced.
#[derive(Clone, Debug, Default)]
pub struct WearerOutcome {
    /// Events queued by the button.
    pub queued: u64,
    /// Alerts (help, conference, fall) that reached the contacts.
    pub alerts: u64,
    /// Events or alert SMS missing.
    pub lost: u64,
    /// Alert SMS beyond one per contact and alert.
    pub duplicated: u64,
    /// Delivery latencies (µs), button queue → phone record.
    pub latencies: Vec<Micros>,
    /// Events the phone rejected.
    pub rejected: u64,
}

/// The fleet's summary.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FleetSummary {
    /// Wearers simulated.
    pub devices: u64,
    /// Simulated hours each.
    pub hours: f64,
    /// Events queued by buttons.
    pub events: u64,
    /// Alerts raised (reached the contacts).
    pub alerts: u64,
    /// Median delivery latency (ms).
    pub latency_p50_ms: f64,
    /// 99th percentile delivery latency (ms).
    pub latency_p99_ms: f64,
    /// Largest delivery latency (ms).
    pub latency_max_ms: f64,
    /// Lost events or alert SMS.
    pub lost: u64,
    /// Duplicated alert SMS.
    pub duplicated: u64,
    /// Events rejected by phones.
    pub rejected: u64,
}

impl FleetSummary {
    /// Human summary.
    pub fn to_table(&self) -> String {
        format!(
            "wearers            {}\nsimulated hours    {} each\nevents queued      {}\nalerts raised      {}\ndelivery latency   p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms\nlost               {}\nduplicated         {}\nrejected           {}\n",
            self.devices,
            self.hours,
            self.events,
            self.alerts,
            self.latency_p50_ms,
            self.latency_p99_ms,
            self.latency_max_ms,
            self.lost,
            self.duplicated,
            self.rejected
        )
    }
}

const CONTACTS: usize = 2;

#[derive(Clone, Copy, Debug)]
enum Act {
    Single,
    Double,
    Long,
    Fall,
    Outage(Micros),
    Restart,
}

/// Simulate wearer `i` of a fleet.
pub fn run_wearer(
    seed: u64,
    i: u64,
    hours: f64,
    fall: &FallTrace,
) -> Result<WearerOutcome, SimError> {
    wearer_world(seed, i, hours, fall, true, false).map(|sim| outcome(&sim))
}

/// The fall every falling wearer replays, decoded once for the whole fleet.
#[derive(Clone, Debug)]
pub struct FallTrace(Arc<[Record]>);

impl FallTrace {
    /// The generator's forward fall (seed 1), as native JSON Lines decoded.
    pub fn forward() -> Result<Self, SimError> {
        let text = to_jsonl(Activity::FallForward, 1);
        let reader = TraceReader::from_reader(
            std::path::Path::new("fall_forward.jsonl"),
            TraceFormat::Jsonl,
            Box::new(std::io::Cursor::new(text.into_bytes())),
        )
        .map_err(SimError::Trace)?;
        let records: Vec<Record> = reader.collect::<Result<_, _>>().map_err(SimError::Trace)?;
        Ok(FallTrace(records.into()))
    }
}

/// The world of wearer `i` of a fleet after its `hours` (and one more hour to settle),
/// with idle heartbeats taken in bulk or not (`fast_forward`), keeping its first 2,000
/// timeline entries or none (`timeline`: the fleet itself reads only the typed series).
pub fn wearer_world(
    seed: u64,
    i: u64,
    hours: f64,
    fall: &FallTrace,
    fast_forward: bool,
    timeline: bool,
) -> Result<Simulation, SimError> {
    let seed = derive_seed(seed, "fleet", &i.to_string(), "");
    let span = (hours * 3600.0 * SECOND as f64) as Micros;
    let acts = plan_acts(seed, span, hours / 24.0);
    let setup = Setup {
        seed,
        contacts: fleet_contacts().to_vec(),
        fix: Some((48.8566, 2.3522)),
        fast_forward,
        timeline,
        ..Setup::default()
    };
    let mut sim = Simulation::new(setup)?;
    sim.timeline.cap = 2_000;
    for (t, act) in acts {
        sim.run_until(t);
        perform(&mut sim, act, fall)?;
    }
    sim.run_until(span);
    sim.advance(3600 * SECOND);
    Ok(sim)
}

/// Every wearer's contacts ([`generated_contact`] 1 to [`CONTACTS`]), made once.
fn fleet_contacts() -> &'static [Contact] {
    static CONTACTS_OF_EVERY_WEARER: OnceLock<Vec<Contact>> = OnceLock::new();
    CONTACTS_OF_EVERY_WEARER.get_or_init(|| (1..=CONTACTS).map(generated_contact).collect())
}

/// The wearer's actions over `span`: about 3 presses, 2 outages and 0.5 restarts a
/// day; a fall for one wearer in ten a day; at least 2 minutes apart.
fn plan_acts(seed: u64, span: Micros, days: f64) -> Vec<(Micros, Act)> {
    let mut rng = Stream::new(seed, Component::Wearer);
    let mut acts: Vec<(Micros, Act)> = Vec::new();
    let draw = |rate_per_day: f64, rng: &mut Stream| -> u64 {
        let mean = rate_per_day * days;
        let whole = mean.floor() as u64;
        whole + u64::from(rng.chance(mean - mean.floor()))
    };
    for _ in 0..draw(3.0, &mut rng) {
        let r = rng.unit();
        let a = if r < 0.75 {
            Act::Single
        } else if r < 0.95 {
            Act::Double
        } else {
            Act::Long
        };
        acts.push((rng.range(0, span), a));
    }
    for _ in 0..draw(0.1, &mut rng) {
        acts.push((rng.range(0, span), Act::Fall));
    }
    for _ in 0..draw(2.0, &mut rng) {
        acts.push((rng.range(0, span), Act::Outage(rng.range(5, 900) * SECOND)));
    }
    for _ in 0..draw(0.5, &mut rng) {
        acts.push((rng.range(0, span), Act::Restart));
    }
    acts.sort_by_key(|(t, _)| *t);
    let mut last = None::<Micros>;
    acts.retain(|(t, _)| {
        let keep = last.is_none_or(|l| *t >= l + 120 * SECOND);
        if keep {
            last = Some(*t);
        }
        keep
    });
    acts
}

/// Perform one wearer action now.
fn perform(sim: &mut Simulation, act: Act, fall: &FallTrace) -> Result<(), SimError> {
    match act {
        Act::Single | Act::Double => {
            let n = if matches!(act, Act::Single) { 1 } else { 2 };
            let (edges, _) = sim.hand.presses(sim.now(), n);
            for (t, d) in edges {
                sim.edge_at(t, d);
            }
        }
        Act::Long => {
            for k in 0..2 {
                let at = sim.now() + k * 30 * SECOND;
                sim.edge_at(at, true);
                sim.edge_at(at + 2_500_000, false);
            }
        }
        Act::Fall => {
            let records = fall.0.clone();
            let replay = (0..records.len()).filter_map(move |k| records.get(k).cloned().map(Ok));
            sim.start_replay_records("fall_forward.jsonl".into(), Box::new(replay));
        }
        Act::Outage(d) => sim.outage(d),
        Act::Restart => sim.restart_app(),
    }
    Ok(())
}

/// What the run delivered: latencies of the events the phone received, and alerts
/// lost or duplicated (per contact, per kind of alert SMS).
fn outcome(sim: &Simulation) -> WearerOutcome {
    let s = &sim.series;
    let kinds = |k: &str| s.queued.iter().filter(|q| q.2.name() == k).count() as u64;
    let (singles, doubles, falls) = (kinds("single"), kinds("double"), kinds("fall"));
    let mut out = WearerOutcome {
        queued: s.queued.len() as u64,
        ..Default::default()
    };
    for (tq, seq, _) in &s.queued {
        match s.received.iter().find(|r| r.1 == *seq) {
            Some((tr, _)) => out.latencies.push(tr.saturating_sub(*tq)),
            None => out.lost += 1,
        }
    }
    for contact in fleet_contacts() {
        let to = &contact.phone;
        for (pat, expected) in [
            ("I need help.", singles),
            ("Join the conference", doubles),
            ("Fall detected", falls),
        ] {
            let got = sim
                .platform
                .sms_delivered
                .iter()
                .filter(|m| &m.to == to && m.text.contains(pat))
                .count() as u64;
            out.lost += expected.saturating_sub(got);
            out.duplicated += got.saturating_sub(expected);
        }
    }
    out.alerts = singles + doubles + falls;
    out.rejected = u64::from(sim.durable().rejected);
    out
}

fn percentile(sorted: &[Micros], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Run `devices` wearers for `hours` each on `threads` threads.
pub fn run_fleet(
    devices: u64,
    hours: f64,
    seed: u64,
    threads: usize,
    progress: bool,
) -> Result<FleetSummary, SimError> {
    run_fleet_shard(devices, hours, seed, threads, progress, None)
}

/// Run the wearers of shard `K/N` (those whose index is `K - 1` modulo `N`): N machines
/// together run the whole fleet, and their summaries add up.
pub fn run_fleet_shard(
    devices: u64,
    hours: f64,
    seed: u64,
    threads: usize,
    progress: bool,
    shard: Option<(u64, u64)>,
) -> Result<FleetSummary, SimError> {
    let (k, n) = shard.unwrap_or((1, 1));
    let mine: Vec<u64> = (0..devices).filter(|i| i % n == k - 1).collect();
    let fall = FallTrace::forward()?;
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, WearerOutcome)>> = Mutex::new(Vec::new());
    let error: Mutex<Option<SimError>> = Mutex::new(None);
    let bar = (progress && std::io::stdout().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(mine.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} wearers, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&i) = mine.get(j) else {
                    break;
                };
                match run_wearer(seed, i, hours, &fall) {
                    Ok(o) => {
                        if let Ok(mut r) = results.lock() {
                            r.push((i, o));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut slot) = error.lock() {
                            slot.get_or_insert(e);
                        }
                        break;
                    }
                }
                if let Some(b) = &bar {
                    b.inc(1);
                }
            });
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(e) = error.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    let mut lat: Vec<Micros> = Vec::new();
    let mut sum = FleetSummary {
        devices: mine.len() as u64,
        hours,
        ..Default::default()
    };
    for (_, o) in results {
        sum.events += o.queued;
        sum.alerts += o.alerts;
        sum.lost += o.lost;
        sum.duplicated += o.duplicated;
        sum.rejected += o.rejected;
        lat.extend(o.latencies);
    }
    lat.sort_unstable();
    sum.latency_p50_ms = percentile(&lat, 0.5);
    sum.latency_p99_ms = percentile(&lat, 0.99);
    sum.latency_max_ms = lat.last().map_or(0.0, |&m| m as f64 / 1000.0);
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_fleet_loses_and_duplicates_nothing() {
        let s = run_fleet(20, 24.0, 3, 2, false).expect("fleet");
        assert_eq!(s.devices, 20);
        assert!(s.events > 20, "{s:?}");
        assert_eq!(s.lost, 0, "{s:?}");
        assert_eq!(s.duplicated, 0, "{s:?}");
        let again = run_fleet(20, 24.0, 3, 1, false).expect("fleet");
        assert_eq!(
            format!("{s:?}"),
            format!("{again:?}"),
            "deterministic whatever the thread count"
        );
    }
}
