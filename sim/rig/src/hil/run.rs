//! `sim hil run`: the scenarios tagged `@hil` of feature files, run in real time with the
//! phone-side logic ([`phone::PhoneApp`]) driving a real button through [`BtleClient`].
//!
//! What a rig can do, it does for real: the button, its firmware and the radio are real;
//! time is the wall clock. The phone's platform ports are a dry-run recorder (SMS are
//! accepted but not sent, calls are recorded but never answered, the location service
//! answers with the scenario's position), so the `Then` checks look at what the phone
//! *asked for*. Presses are injected through the firmware's test service
//! ([`TEST_INJECT_CHAR`]) when it is exposed, else asked of the operator on the terminal
//! and awaited (bounded by [`HilOptions::operator_timeout`]). A scenario with a step that
//! has no meaning on hardware (the simulated radio, restarts, attackers, traces, long
//! waits) is reported as *not run on hardware* without touching the button — never as
//! passed.
//!
//! Events still queued on the button when a scenario connects are acknowledged during a
//! settling period and their effects are not counted: counts start after it.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cucumber::gherkin::{self, GherkinEnv, StepType};
use phone::gatt::{DeviceId, GattClient, GattCommand, GattEvent};
use phone::{AppConfig, Command, Contact, Durable, Fix, Input, PhoneApp, Warning};
use protocol::command::TestInjection;
use protocol::gatt::{CONTROL_CHAR, TEST_INJECT_CHAR};
use protocol::{BondKey, VibrationPattern};

use super::{BtleClient, HilError};
use crate::steps::{self, Args, Kind};

/// Options of a hardware run.
#[derive(Clone, Debug)]
pub struct HilOptions {
    /// The bond key the button's firmware holds (the phone verifies event tags with it).
    pub key: BondKey,
    /// How long to wait for the operator to perform a step asked on the terminal.
    pub operator_timeout: Duration,
    /// Whether the operator may be asked (default: stdin is a terminal).
    pub interactive: bool,
    /// Longest `{n} seconds/minutes/hours pass` step run for real; longer ones are not
    /// run on hardware.
    pub max_wait: Duration,
    /// How long to wait for the button to connect at the start of a scenario.
    pub connect_timeout: Duration,
    /// Settling time after connecting (stale queued events are acknowledged).
    pub settle: Duration,
}

impl HilOptions {
    /// Defaults for a rig with bond key `key`.
    pub fn new(key: BondKey) -> Self {
        HilOptions {
            key,
            operator_timeout: Duration::from_secs(30),
            interactive: std::io::stdin().is_terminal(),
            max_wait: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            settle: Duration::from_secs(3),
        }
    }
}

/// How one scenario ended on hardware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioStatus {
    /// Every step ran on hardware and every check held.
    Passed,
    /// A step failed (why).
    Failed(String),
    /// A step cannot be performed or checked on hardware (which, and why).
    NotRunOnHardware(String),
}

/// One scenario's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioResult {
    /// `file:line`.
    pub location: String,
    /// Scenario name.
    pub name: String,
    /// Outcome.
    pub status: ScenarioStatus,
    /// What happened (phone log and rig notes), for failures.
    pub log: Vec<String>,
}

/// The outcome of `sim hil run`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HilReport {
    /// The device the scenarios ran against.
    pub device: String,
    /// Each `@hil` scenario, in file order.
    pub scenarios: Vec<ScenarioResult>,
}

impl HilReport {
    fn count(&self, f: impl Fn(&ScenarioStatus) -> bool) -> usize {
        self.scenarios.iter().filter(|s| f(&s.status)).count()
    }

    /// Scenarios that passed on hardware.
    pub fn passed(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::Passed))
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::Failed(_)))
    }

    /// Scenarios not run on hardware.
    pub fn not_run(&self) -> usize {
        self.count(|s| matches!(s, ScenarioStatus::NotRunOnHardware(_)))
    }

    /// No scenario failed (scenarios not run on hardware do not fail the run, and are not
    /// passes either).
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// The human report: one line per scenario, the log of failures, a count.
    pub fn render(&self) -> String {
        let mut out = format!("hardware run against {}\n", self.device);
        for s in &self.scenarios {
            let (tag, why) = match &s.status {
                ScenarioStatus::Passed => ("PASS", String::new()),
                ScenarioStatus::Failed(w) => ("FAIL", format!(": {w}")),
                ScenarioStatus::NotRunOnHardware(w) => ("NOT RUN ON HARDWARE", format!(": {w}")),
            };
            out.push_str(&format!("{tag} {} {}{why}\n", s.location, s.name));
            if matches!(s.status, ScenarioStatus::Failed(_)) {
                for l in &s.log {
                    out.push_str(&format!("    {l}\n"));
                }
            }
        }
        out.push_str(&format!(
            "{} scenarios: {} passed, {} failed, {} not run on hardware\n",
            self.scenarios.len(),
            self.passed(),
            self.failed(),
            self.not_run()
        ));
        out
    }
}

/// A step of a scenario, with its location and resolved text.
#[derive(Clone, Debug)]
struct PlannedStep {
    kind: Kind,
    text: String,
    line: usize,
    pattern: &'static str,
    args: Args,
}

struct Planned {
    location: String,
    name: String,
    steps: Vec<PlannedStep>,
}

fn tagged_hil(tags: &[String]) -> bool {
    tags.iter().any(|t| t.trim_start_matches('@') == "hil")
}

fn kind_of(t: StepType) -> Kind {
    match t {
        StepType::Given => Kind::Given,
        StepType::When => Kind::When,
        StepType::Then => Kind::Then,
    }
}

fn plan_step(st: &gherkin::Step, text: String) -> Result<PlannedStep, String> {
    let kind = kind_of(st.ty);
    let found = steps::find(kind, &text);
    let [(def, args)] = <[_; 1]>::try_from(found).map_err(|v| {
        format!(
            "step {:?} (line {}) is {}",
            text,
            st.position.line,
            if v.is_empty() {
                "undefined"
            } else {
                "ambiguous"
            }
        )
    })?;
    let mut args = args;
    args.table = st.table.as_ref().map(|t| t.rows.clone());
    Ok(PlannedStep {
        kind,
        text,
        line: st.position.line,
        pattern: def.pattern,
        args,
    })
}

/// The `@hil` scenarios of one feature file (outlines expanded, backgrounds prepended).
fn plan_feature(path: &Path) -> Result<Vec<Planned>, HilError> {
    let bad = |message: String| HilError::Feature {
        path: path.display().to_string(),
        message,
    };
    let feature = gherkin::Feature::parse_path(path, GherkinEnv::default())
        .map_err(|e| bad(format!("cannot parse: {e}")))?;
    let feature_hil = tagged_hil(&feature.tags);
    let mut out = Vec::new();
    let mut groups: Vec<(Option<&gherkin::Background>, &gherkin::Scenario, bool)> = Vec::new();
    for sc in &feature.scenarios {
        groups.push((feature.background.as_ref(), sc, feature_hil));
    }
    for rule in &feature.rules {
        let bg = rule.background.as_ref().or(feature.background.as_ref());
        for sc in &rule.scenarios {
            groups.push((bg, sc, feature_hil || tagged_hil(&rule.tags)));
        }
    }
    for (bg, sc, inherited) in groups {
        if !(inherited || tagged_hil(&sc.tags)) {
            continue;
        }
        let mut rows: Vec<BTreeMap<String, String>> = Vec::new();
        for ex in &sc.examples {
            if let Some((header, body)) = ex.table.as_ref().and_then(|t| t.rows.split_first()) {
                for r in body {
                    rows.push(header.iter().cloned().zip(r.iter().cloned()).collect());
                }
            }
        }
        if rows.is_empty() {
            rows.push(BTreeMap::new());
        }
        for (i, row) in rows.iter().enumerate() {
            let mut steps = Vec::new();
            for st in bg
                .iter()
                .flat_map(|b| b.steps.iter())
                .chain(sc.steps.iter())
            {
                let mut text = st.value.clone();
                for (k, v) in row {
                    text = text.replace(&format!("<{k}>"), v);
                }
                steps.push(plan_step(st, text).map_err(&bad)?);
            }
            let name = if row.is_empty() {
                sc.name.clone()
            } else {
                format!("{} (example {})", sc.name, i + 1)
            };
            out.push(Planned {
                location: format!("{}:{}", path.display(), sc.position.line),
                name,
                steps,
            });
        }
    }
    Ok(out)
}

/// Why a step cannot run on hardware, if it cannot.
fn unsupported(s: &PlannedStep, opts: &HilOptions) -> Option<String> {
    let p = s.pattern;
    let sim_only = [
        "contact {text} does not answer",
        "contact {text} is busy",
        "contact {text} answers after {n} s",
        "the button battery is at {n}%",
        "the button is {n} m from the phone",
        "the BLE link loses {n}% of packets",
        "the BLE link is lost for {n} s",
        "Bluetooth is turned off on the phone",
        "Bluetooth is turned on on the phone",
        "the phone app restarts",
        "the button resets",
        "an unpaired button sends a press",
        "an attacker replays the last alert event",
        "an attacker sends a tampered alert event",
        "the trace {text} is replayed",
        "an audio recording of at least {n} s is stored",
    ];
    if sim_only.contains(&p) {
        return Some(format!(
            "step {:?} (line {}) needs the simulator",
            s.text, s.line
        ));
    }
    let unit = match p {
        "{n} seconds pass" => Some(1.0),
        "{n} minutes pass" => Some(60.0),
        "{n} hours pass" => Some(3_600.0),
        "{n} days pass" => Some(86_400.0),
        _ => None,
    };
    if let Some(u) = unit {
        let secs = s.args.num(0).unwrap_or(f64::INFINITY) * u;
        if !(0.0..=opts.max_wait.as_secs_f64()).contains(&secs) {
            return Some(format!(
                "step {:?} (line {}) waits longer than {:?} of real time",
                s.text, s.line, opts.max_wait
            ));
        }
    }
    if s.kind == Kind::Given && !GIVEN_OK.contains(&p) {
        return Some(format!(
            "step {:?} (line {}) has no rig meaning",
            s.text, s.line
        ));
    }
    if s.kind == Kind::When && unit.is_none() && !WHEN_OK.contains(&p) {
        return Some(format!(
            "step {:?} (line {}) has no rig action",
            s.text, s.line
        ));
    }
    None
}

const GIVEN_OK: &[&str] = &[
    "a button paired with a phone",
    "the phone has {n} emergency contacts",
    "the emergency contacts:",
    "the wearer's alert message is {text}",
    "the phone is at {n}, {n}",
    "the phone has no location fix",
    "the phone has no cellular network",
    "the random seed is {n}",
];

const WHEN_OK: &[&str] = &[
    "the wearer presses the button",
    "the wearer double-presses the button",
    "the wearer triple-presses the button",
    "the wearer holds the button for {n} s",
    "the wearer presses the button for {n} ms",
    "the phone regains cellular network",
    "the phone gets a location fix at {n}, {n}",
    "the wearer cancels on the phone",
];

/// What the phone asked of its platform, since the scenario's counts started.
#[derive(Debug, Default)]
struct Record {
    sms: Vec<(String, String)>,
    calls: Vec<String>,
    siren_on: bool,
    siren_ever: bool,
    recording: bool,
    recording_ever: bool,
    countdowns: u32,
    warnings: Vec<Warning>,
    /// Vibrations the button confirmed (write response to the phone's Vibrate).
    vibrations: Vec<VibrationPattern>,
}

/// Write ids at or above this are the rig's own (injections), not the phone's.
const RIG_IDS: u64 = 1 << 62;
const TICK: Duration = Duration::from_millis(20);

struct Rig<'a> {
    client: &'a mut BtleClient,
    device: DeviceId,
    app: PhoneApp,
    config: AppConfig,
    opts: &'a HilOptions,
    position: Option<(f64, f64)>,
    network: bool,
    inputs: Vec<Input>,
    vibrate_writes: BTreeMap<u64, VibrationPattern>,
    rig_writes: BTreeMap<u64, Option<bool>>,
    next_rig_id: u64,
    record: Record,
    log: Vec<String>,
    t0: Instant,
}

fn utc_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Rig<'_> {
    fn note(&mut self, s: String) {
        let t = self.t0.elapsed().as_secs_f64();
        self.log.push(format!("{t:8.3} s  {s}"));
    }

    /// One driver iteration: hand the app what arrived, run its timers, execute its
    /// commands, then let [`TICK`] pass.
    fn tick(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            if let GattEvent::WriteDone { id, ok } = ev {
                if id >= RIG_IDS {
                    self.rig_writes.insert(id, Some(ok));
                    continue;
                }
                if let Some(p) = self.vibrate_writes.remove(&id) {
                    if ok {
                        self.record.vibrations.push(p);
                    }
                }
            }
            self.app.handle(utc_us(), Input::Gatt(ev));
        }
        for input in std::mem::take(&mut self.inputs) {
            self.app.handle(utc_us(), input);
        }
        let now = utc_us();
        if self.app.poll_timeout().is_some_and(|t| t <= now) {
            self.app.handle_timeout(now);
        }
        while let Some(c) = self.app.poll_command() {
            self.exec(c);
        }
        self.client.pump(TICK);
    }

    fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.tick();
        }
    }

    fn run_until(&mut self, d: Duration, cond: impl Fn(&Self) -> bool) -> bool {
        let end = Instant::now() + d;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            self.tick();
        }
    }

    fn exec(&mut self, c: Command) {
        match c {
            Command::Gatt(g) => {
                if let GattCommand::Write {
                    char, value, id, ..
                } = &g
                {
                    if *char == CONTROL_CHAR {
                        if let Ok(protocol::Command::Vibrate(p)) = protocol::Command::decode(value)
                        {
                            self.vibrate_writes.insert(*id, p);
                        }
                    }
                }
                if let Err(e) = g.apply(self.client) {
                    self.note(format!("GATT {g:?} failed: {e}"));
                }
            }
            Command::SendSms { id, to, text } => {
                self.note(format!("SMS to {to}: {text}"));
                if self.network {
                    self.record.sms.push((to, text));
                }
                let ok = self.network;
                self.inputs.push(Input::SmsResult { id, ok });
            }
            Command::Dial { to, .. } => {
                self.note(format!("call to {to} (not placed: dry run)"));
                self.record.calls.push(to);
            }
            Command::HangUp { .. } | Command::JoinConference { .. } | Command::Persist(_) => {}
            Command::RequestLocation => {
                if let Some((lat, lon)) = self.position {
                    self.inputs.push(Input::Location(Fix {
                        lat,
                        lon,
                        accuracy_m: 5.0,
                        utc_ms: utc_us() / 1_000,
                    }));
                }
            }
            Command::Siren { on, .. } => {
                self.record.siren_on = on;
                self.record.siren_ever |= on;
                self.note(format!("siren {}", if on { "on" } else { "off" }));
            }
            Command::StartRecording { .. } => {
                self.record.recording = true;
                self.record.recording_ever = true;
            }
            Command::StopRecording { id } => {
                self.record.recording = false;
                self.inputs.push(Input::RecordingStopped {
                    id,
                    content: Vec::new(),
                });
            }
            Command::CountdownAlarm { on, .. } => {
                if on {
                    self.record.countdowns += 1;
                }
            }
            Command::Warn(w) => {
                self.note(format!("warning {w:?}"));
                self.record.warnings.push(w);
            }
            Command::Note(n) => self.note(format!("phone: {n}")),
        }
    }

    /// Write a test-service injection and wait for its write response.
    fn inject(&mut self, down: bool) -> Result<(), String> {
        let id = RIG_IDS + self.next_rig_id;
        self.next_rig_id += 1;
        self.rig_writes.insert(id, None);
        let value = TestInjection::Edge { down }.encode();
        self.client
            .write(&self.device, TEST_INJECT_CHAR, &value, id)
            .map_err(|e| format!("injection refused: {e}"))?;
        let done = self.run_until(Duration::from_secs(5), |r| {
            r.rig_writes.get(&id).copied().flatten().is_some()
        });
        match self.rig_writes.remove(&id).flatten() {
            Some(true) => Ok(()),
            Some(false) => Err("the button refused an injection".into()),
            None if !done => Err("no answer to an injection within 5 s".into()),
            None => Err("injection lost".into()),
        }
    }

    /// Presses of `press` each, `gap` apart; then the click window closes.
    fn presses(&mut self, n: u32, press: Duration, what: &str) -> Step {
        if self
            .client
            .has_characteristic(&self.device, TEST_INJECT_CHAR)
        {
            for i in 0..n {
                if i > 0 {
                    self.run_for(Duration::from_millis(200));
                }
                if let Err(e) = self.inject(true) {
                    return Step::Fail(e);
                }
                self.run_for(press);
                if let Err(e) = self.inject(false) {
                    return Step::Fail(e);
                }
            }
            self.run_for(Duration::from_millis(600));
            return Step::Done;
        }
        if !self.opts.interactive {
            return Step::NotRun(
                "the firmware has no test service and no operator can be asked".into(),
            );
        }
        let before = self.app.durable().events.len();
        eprintln!(
            ">>> {what} now (waiting up to {:?})",
            self.opts.operator_timeout
        );
        let _ = std::io::stderr().flush();
        let t = self.opts.operator_timeout;
        if self.run_until(t, |r| r.app.durable().events.len() > before) {
            self.run_for(Duration::from_millis(600));
            Step::Done
        } else {
            Step::Fail(format!(
                "no event from the button within {t:?} of asking: {what}"
            ))
        }
    }

    fn contact(&self, who: &str) -> Result<Contact, String> {
        self.config
            .contacts
            .iter()
            .find(|c| c.name == who || c.phone == who)
            .cloned()
            .ok_or_else(|| format!("no contact named {who:?}"))
    }

    fn check(&self, p: &str, a: &Args) -> Result<(), String> {
        let r = &self.record;
        let holds = |ok: bool, why: String| if ok { Ok(()) } else { Err(why) };
        match p {
            "every contact receives an SMS" => {
                let missing: Vec<&str> = self
                    .config
                    .contacts
                    .iter()
                    .filter(|c| !r.sms.iter().any(|(to, _)| *to == c.phone))
                    .map(|c| c.name.as_str())
                    .collect();
                holds(missing.is_empty(), format!("no SMS for {missing:?}"))
            }
            "{n} contacts receive an SMS containing {text}" => {
                let n = a.int(0, 0, 5)? as usize;
                let text = a.text(1)?;
                let mut to: Vec<&str> = r
                    .sms
                    .iter()
                    .filter(|(_, t)| t.contains(text))
                    .map(|(to, _)| to.as_str())
                    .collect();
                to.sort();
                to.dedup();
                holds(to.len() == n, format!("{} contacts got it", to.len()))
            }
            "contact {text} receives an SMS containing {text}" => {
                let c = self.contact(a.text(0)?)?;
                let text = a.text(1)?;
                holds(
                    r.sms
                        .iter()
                        .any(|(to, t)| *to == c.phone && t.contains(text)),
                    format!("{} got no SMS containing {text:?}", c.name),
                )
            }
            "every SMS contains the location {n}, {n}" => {
                let (lat, lon) = (format!("{:.6}", a.num(0)?), format!("{:.6}", a.num(1)?));
                holds(
                    r.sms
                        .iter()
                        .all(|(_, t)| t.contains(&lat) && t.contains(&lon)),
                    format!("an SMS lacks {lat}, {lon}"),
                )
            }
            "the phone calls every contact" => holds(
                self.config
                    .contacts
                    .iter()
                    .all(|c| r.calls.contains(&c.phone)),
                format!("calls placed: {:?}", r.calls),
            ),
            "the phone calls {text}" => {
                let c = self.contact(a.text(0)?)?;
                holds(r.calls.contains(&c.phone), format!("calls: {:?}", r.calls))
            }
            "contact {text} has been called {n} times" => {
                let c = self.contact(a.text(0)?)?;
                let n = a.int(1, 0, 1_000)? as usize;
                let got = r.calls.iter().filter(|t| **t == c.phone).count();
                holds(got == n, format!("called {got} times"))
            }
            "the siren is on" => holds(r.siren_on, "the siren is off".into()),
            "the siren is off" => holds(!r.siren_on, "the siren is on".into()),
            "an audio recording is in progress" => {
                holds(r.recording, "no recording in progress".into())
            }
            "a fall is reported to the phone" => holds(
                self.app.durable().last_fall_ms.is_some(),
                "no fall reported".into(),
            ),
            "no SMS is sent" => holds(r.sms.is_empty(), format!("{} SMS sent", r.sms.len())),
            "no call is placed" => holds(r.calls.is_empty(), format!("calls: {:?}", r.calls)),
            "no alert is raised" => holds(
                r.sms.is_empty()
                    && r.calls.is_empty()
                    && !r.siren_ever
                    && !r.recording_ever
                    && r.countdowns == 0,
                "an alert was raised".into(),
            ),
            "exactly {n} SMS are sent" => {
                let n = a.int(0, 0, 10_000)? as usize;
                holds(r.sms.len() == n, format!("{} SMS sent", r.sms.len()))
            }
            "the button vibrates" => holds(
                !r.vibrations.is_empty(),
                "the button confirmed no vibration".into(),
            ),
            "the button vibrates the {text} pattern" => {
                let name = a.text(0)?;
                holds(
                    r.vibrations.iter().any(|p| p.name() == name),
                    format!("patterns confirmed: {:?}", r.vibrations),
                )
            }
            "the phone warns the wearer that the button battery is low" => holds(
                r.warnings
                    .iter()
                    .any(|w| matches!(w, Warning::BatteryLow(_))),
                "no battery warning".into(),
            ),
            "the phone warns the wearer that the button is disconnected" => holds(
                r.warnings.contains(&Warning::ButtonDisconnected),
                "no disconnection warning".into(),
            ),
            "the phone has rejected {n} events" => {
                let n = a.int(0, 0, 1_000_000)?;
                let got = u64::from(self.app.durable().rejected);
                holds(got == n, format!("rejected {got}"))
            }
            other => Err(format!("no hardware check for {other:?}")),
        }
    }

    fn step(&mut self, s: &PlannedStep) -> Step {
        let a = &s.args;
        let r: Result<(), String> = match s.pattern {
            "the wearer presses the button" => {
                return self.presses(1, Duration::from_millis(120), "press the button once")
            }
            "the wearer double-presses the button" => {
                return self.presses(2, Duration::from_millis(120), "press the button twice")
            }
            "the wearer triple-presses the button" => {
                return self.presses(3, Duration::from_millis(120), "press the button 3 times")
            }
            "the wearer holds the button for {n} s" => match a.num(0) {
                Ok(x) if (0.0..=600.0).contains(&x) => {
                    let what = format!("hold the button for {x} s");
                    return self.presses(1, Duration::from_secs_f64(x), &what);
                }
                _ => Err("bad duration".into()),
            },
            "the wearer presses the button for {n} ms" => match a.num(0) {
                Ok(x) if (0.0..=600_000.0).contains(&x) => {
                    let what = format!("press the button once for {x} ms");
                    return self.presses(1, Duration::from_secs_f64(x / 1e3), &what);
                }
                _ => Err("bad duration".into()),
            },
            "{n} seconds pass" | "{n} minutes pass" | "{n} hours pass" | "{n} days pass" => {
                let unit = match s.pattern {
                    "{n} seconds pass" => 1.0,
                    "{n} minutes pass" => 60.0,
                    "{n} hours pass" => 3_600.0,
                    _ => 86_400.0,
                };
                a.num(0)
                    .map(|x| self.run_for(Duration::from_secs_f64(x * unit)))
            }
            "the phone regains cellular network" => {
                self.network = true;
                self.inputs.push(Input::Network { available: true });
                Ok(())
            }
            "the phone gets a location fix at {n}, {n}" => a.num(0).and_then(|lat| {
                let lon = a.num(1)?;
                self.position = Some((lat, lon));
                self.inputs.push(Input::Location(Fix {
                    lat,
                    lon,
                    accuracy_m: 5.0,
                    utc_ms: utc_us() / 1_000,
                }));
                Ok(())
            }),
            "the wearer cancels on the phone" => {
                self.inputs.push(Input::UserCancel);
                Ok(())
            }
            p if s.kind == Kind::Then => {
                let within = a
                    .within
                    .map(|w| Duration::from_secs_f64(w.clamp(0.0, 3_600.0)));
                match within {
                    None => self.check(p, a),
                    Some(w) => {
                        self.run_until(w, |r| r.check(p, a).is_ok());
                        self.check(p, a)
                    }
                }
            }
            // Given steps were applied when the rig was built.
            _ => Ok(()),
        };
        match r {
            Ok(()) => Step::Done,
            Err(e) => Step::Fail(format!("step {:?} (line {}): {e}", s.text, s.line)),
        }
    }
}

enum Step {
    Done,
    Fail(String),
    NotRun(String),
}

/// The phone's configuration and the rig's platform from the scenario's Given steps.
/// Phone configuration, position the location service answers (if any), network up.
type RigSetup = (AppConfig, Option<(f64, f64)>, bool);

fn configure(steps: &[PlannedStep]) -> Result<RigSetup, String> {
    let mut contacts = vec![crate::simulation::generated_contact(1)];
    let mut message = None;
    let mut position = Some((45.764_043, 4.835_659));
    let mut network = true;
    for s in steps.iter().filter(|s| s.kind == Kind::Given) {
        let a = &s.args;
        match s.pattern {
            "the phone has {n} emergency contacts" => {
                let n = a.int(0, 1, 5)? as usize;
                contacts = (1..=n).map(crate::simulation::generated_contact).collect();
            }
            "the emergency contacts:" => {
                let rows = a.table.clone().unwrap_or_default();
                let (header, body) = rows.split_first().ok_or("empty contact table")?;
                let col = |name: &str| {
                    header
                        .iter()
                        .position(|h| h == name)
                        .ok_or(format!("no {name} column"))
                };
                let (ni, pi) = (col("name")?, col("phone")?);
                contacts = body
                    .iter()
                    .map(|r| {
                        let get = |i: usize| r.get(i).map(String::as_str).unwrap_or("");
                        Contact::new(get(ni), get(pi)).map_err(|e| e.to_string())
                    })
                    .collect::<Result<_, _>>()?;
            }
            "the wearer's alert message is {text}" => message = Some(a.text(0)?.to_string()),
            "the phone is at {n}, {n}" => position = Some((a.num(0)?, a.num(1)?)),
            "the phone has no location fix" => position = None,
            "the phone has no cellular network" => network = false,
            _ => {}
        }
    }
    let mut cfg = AppConfig::new(contacts).map_err(|e| e.to_string())?;
    if let Some(m) = message {
        cfg.texts.alert_message = m;
    }
    Ok((cfg, position, network))
}

fn run_scenario(
    client: &mut BtleClient,
    device: &DeviceId,
    opts: &HilOptions,
    sc: &Planned,
) -> ScenarioResult {
    let result = |status, log| ScenarioResult {
        location: sc.location.clone(),
        name: sc.name.clone(),
        status,
        log,
    };
    if let Some(why) = sc.steps.iter().find_map(|s| unsupported(s, opts)) {
        return result(ScenarioStatus::NotRunOnHardware(why), Vec::new());
    }
    let (config, position, network) = match configure(&sc.steps) {
        Ok(c) => c,
        Err(e) => return result(ScenarioStatus::Failed(format!("set-up: {e}")), Vec::new()),
    };
    let durable = Durable::bonded(device.clone(), opts.key.0);
    let app = PhoneApp::start(config.clone(), durable, utc_us());
    let mut rig = Rig {
        client,
        device: device.clone(),
        app,
        config,
        opts,
        position,
        network,
        inputs: Vec::new(),
        vibrate_writes: BTreeMap::new(),
        rig_writes: BTreeMap::new(),
        next_rig_id: 0,
        record: Record::default(),
        log: Vec::new(),
        t0: Instant::now(),
    };
    if !network {
        rig.inputs.push(Input::Network { available: false });
    }
    let status = 'run: {
        if !rig.run_until(opts.connect_timeout, |r| r.app.is_connected()) {
            break 'run ScenarioStatus::Failed(format!(
                "{device} did not connect within {:?}",
                opts.connect_timeout
            ));
        }
        rig.run_for(opts.settle);
        rig.note("settled: counts start now".into());
        rig.record = Record {
            siren_on: rig.record.siren_on,
            ..Record::default()
        };
        for s in sc.steps.iter().filter(|s| s.kind != Kind::Given) {
            rig.note(format!("{} {}", s.kind.name(), s.text));
            match rig.step(s) {
                Step::Done => {}
                Step::Fail(e) => break 'run ScenarioStatus::Failed(e),
                Step::NotRun(why) => {
                    break 'run ScenarioStatus::NotRunOnHardware(format!(
                        "step {:?} (line {}): {why}",
                        s.text, s.line
                    ))
                }
            }
        }
        ScenarioStatus::Passed
    };
    // Leave the button idle for the next scenario.
    let _ = rig.client.stop_scan();
    let _ = rig.client.disconnect(device);
    let dev = device.clone();
    let mut gone = false;
    for _ in 0..100 {
        while let Some(ev) = rig.client.poll_event() {
            gone |= ev == GattEvent::Disconnected(dev.clone());
        }
        if gone {
            break;
        }
        rig.client.pump(TICK);
    }
    let log = std::mem::take(&mut rig.log);
    result(status, log)
}

/// Run the `@hil` scenarios (tagged on the scenario, its rule or its feature) of the
/// feature files under `paths` against the button at `device`, one after the other.
///
/// Errors (one line each) when the features cannot be read, when none is tagged `@hil`,
/// or when there is no usable adapter; scenario failures are in the report.
pub fn run(paths: &[String], device: &str, opts: &HilOptions) -> Result<HilReport, HilError> {
    let files = crate::runner::collect_features(paths).map_err(|e| HilError::Feature {
        path: paths.join(" "),
        message: e.to_string(),
    })?;
    let mut planned = Vec::new();
    for (path, _) in &files {
        planned.extend(plan_feature(path)?);
    }
    if planned.is_empty() {
        return Err(HilError::Usage(format!(
            "no scenario tagged @hil under {}",
            paths.join(" ")
        )));
    }
    let device = DeviceId(device.to_string());
    let mut client = BtleClient::new()?;
    let mut report = HilReport {
        device: device.0.clone(),
        scenarios: Vec::new(),
    };
    for sc in &planned {
        eprintln!("hil: {} {}", sc.location, sc.name);
        report
            .scenarios
            .push(run_scenario(&mut client, &device, opts, sc));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_and_classifies_hil_scenarios() {
        let dir = std::env::temp_dir().join(format!("hil-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let f = dir.join("x.feature");
        std::fs::write(
            &f,
            "Feature: F\n\n  @hil\n  Scenario: press\n    Given a button paired with a phone\n    When the wearer presses the button\n    Then within 30 s every contact receives an SMS\n\n  @hil\n  Scenario: lossy\n    Given the BLE link loses 20% of packets\n    When the wearer presses the button\n    Then within 30 s every contact receives an SMS\n\n  Scenario: untagged\n    When 2 days pass\n",
        )
        .ok();
        let planned = plan_feature(&f).unwrap_or_default();
        assert_eq!(planned.len(), 2);
        let opts = HilOptions::new(BondKey([0; 16]));
        assert!(planned[0]
            .steps
            .iter()
            .all(|s| unsupported(s, &opts).is_none()));
        let why = planned[1].steps.iter().find_map(|s| unsupported(s, &opts));
        assert!(why.is_some_and(|w| w.contains("needs the simulator")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tagged_project_features_all_run_on_hardware() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");
        let files = crate::runner::collect_features(&[dir.to_string()]).unwrap_or_default();
        let mut planned = Vec::new();
        for (f, _) in &files {
            match plan_feature(f) {
                Ok(p) => planned.extend(p),
                Err(e) => panic!("{e}"),
            }
        }
        assert!(planned.len() >= 6, "{} @hil scenarios", planned.len());
        let opts = HilOptions::new(BondKey([0; 16]));
        for sc in &planned {
            let why = sc.steps.iter().find_map(|s| unsupported(s, &opts));
            assert!(why.is_none(), "{}: {why:?}", sc.location);
            assert!(configure(&sc.steps).is_ok(), "{}", sc.location);
        }
    }

    #[test]
    fn no_adapter_is_one_clear_line() {
        // On a machine without a system bus or BlueZ (CI), the error names what is missing.
        if let Err(e) = BtleClient::new() {
            let s = e.to_string();
            println!("{s}");
            assert!(s.starts_with("no Bluetooth adapter: "), "{s}");
            assert!(!s.contains('\n'));
        }
    }
}
