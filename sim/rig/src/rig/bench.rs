//! [`RigBench`]: a rig as a [`Bench`]. The phone logic ([`PhoneApp`]) runs here, its
//! commands executed by [`phone::host::drain`] on the dry-run platform and the link;
//! presses go through the firmware's test service when the button exposes it, else are
//! asked of the operator. What a rig cannot do (move the radio, replay a trace into a
//! real sensor, attackers, restarts) answers [`RunError::NotOnThisBench`].
//!
//! The phone starts at the first When or Then step: it connects, then settles (events
//! still queued on the button are acknowledged and their effects not counted).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use phone::{AppConfig, Contact, DeviceId, Durable, GattEvent, Input, PhoneApp};
use protocol::command::TestInjection;
use protocol::gatt::TEST_INJECT_CHAR;
use protocol::VibrationPattern;
use sim_steps::steps::{Answer, Bench, Observation, StepResult};
use sim_steps::RunError;

use super::platform::{DryRun, Tap};
use super::{Clock, HilOptions, RigLink};

/// Write ids at or above this are the rig's own (injections), not the phone's.
const RIG_IDS: u64 = 1 << 62;
/// One iteration of the rig's loop.
const TICK: Duration = Duration::from_millis(20);
/// The shortest raw press the test service can time: an edge reaches the button at a
/// connection event, so a press lasts a whole number of them (100 ms apart when the
/// button has just transmitted, up to 1 s with slave latency).
const SHORTEST_TIMED_PRESS: Duration = Duration::from_millis(250);
/// How long the click window is given to close after the last release.
const WINDOW: Duration = Duration::from_millis(600);

/// Given steps before the phone starts.
#[derive(Debug)]
struct Setup {
    contacts: Vec<Contact>,
    message: Option<String>,
}

/// One scenario on a rig.
pub(crate) struct RigBench<'a, L, C> {
    link: &'a mut L,
    clock: &'a mut C,
    device: DeviceId,
    opts: &'a HilOptions,
    setup: Setup,
    app: Option<PhoneApp>,
    dry: DryRun,
    vibrate_writes: BTreeMap<u64, VibrationPattern>,
    rig_writes: BTreeMap<u64, Option<bool>>,
    next_rig_id: u64,
    starts: u64,
    /// Clock time when the counts started, and the end of the last When step after it.
    t0: Duration,
    last_when_end: Duration,
    /// The central's adapter reported switched off (the run cannot go on).
    adapter_off: bool,
    /// Scenario time of the first press injected after the counts started.
    first_press: Option<Duration>,
}

fn not_here(why: &str) -> StepResult {
    Err(RunError::NotOnThisBench(why.to_string()))
}

fn failed(why: String) -> RunError {
    RunError::StepFailed(why)
}

impl<'a, L: RigLink, C: Clock> RigBench<'a, L, C> {
    pub(crate) fn new(
        link: &'a mut L,
        clock: &'a mut C,
        device: DeviceId,
        opts: &'a HilOptions,
    ) -> Self {
        let t0 = clock.now();
        RigBench {
            link,
            clock,
            device,
            opts,
            setup: Setup {
                contacts: vec![sim_world::simulation::generated_contact(1)],
                message: None,
            },
            app: None,
            dry: DryRun {
                network: true,
                position: Some((45.764_043, 4.835_659)),
                ..DryRun::default()
            },
            vibrate_writes: BTreeMap::new(),
            rig_writes: BTreeMap::new(),
            next_rig_id: 0,
            starts: 0,
            t0,
            last_when_end: Duration::ZERO,
            adapter_off: false,
            first_press: None,
        }
    }

    /// Press → first SMS accepted, when both happened in this scenario.
    pub(crate) fn press_to_sms(&self) -> Option<Duration> {
        let press = self.first_press?;
        let sms = self.dry.seen.sms_sent.first()?;
        Duration::from_micros(sms.at_us).checked_sub(press)
    }

    /// What the phone recorded durably (events) and asked for (SMS), for a report: a
    /// failed scenario keeps it.
    pub(crate) fn recorded(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(app) = &self.app {
            for (seq, r) in &app.durable().events {
                out.push(format!("recorded event #{seq}: {r:?}"));
            }
        }
        for sms in &self.dry.seen.sms_sent {
            out.push(format!(
                "SMS to {} at {:.3} s: {}",
                sms.to,
                sms.at_us as f64 / 1e6,
                sms.text
            ));
        }
        out
    }

    /// Fail when the central's adapter went off.
    fn check_adapter(&self) -> Result<(), RunError> {
        if self.adapter_off {
            return Err(failed(
                "the central's Bluetooth adapter was switched off".into(),
            ));
        }
        Ok(())
    }

    /// The phone's entropy for an app start: the rig's clock reading and a count of
    /// starts (expanded by the app's DRBG). Good enough for a test rig, whose bond key is
    /// given on the command line anyway; never what a product would use.
    fn entropy(&mut self) -> [u8; 32] {
        self.starts += 1;
        let mut e = [0u8; 32];
        e[..8].copy_from_slice(&self.clock.utc_us().to_le_bytes());
        e[8..16].copy_from_slice(&self.starts.to_le_bytes());
        e
    }

    /// The button's address as last connected (it rotates: private addresses).
    pub(crate) fn device(&self) -> DeviceId {
        self.device.clone()
    }

    /// The log of the scenario so far.
    pub(crate) fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.dry.log)
    }

    fn scenario_time(&self) -> Duration {
        self.clock.now().saturating_sub(self.t0)
    }

    /// Start the phone (once), on a button with nothing left queued, and start the
    /// counts. A first phone takes what the button still had queued (a previous
    /// scenario's events, acknowledged during [`HilOptions::settle`]) and is dropped with
    /// its effects; the scenario's phone then connects afresh from the same bond.
    fn start(&mut self) -> Result<(), RunError> {
        if self.app.is_some() {
            return Ok(());
        }
        let mut cfg = AppConfig::new(self.setup.contacts.clone())
            .map_err(|e| failed(format!("set-up: {e}")))?;
        if let Some(m) = &self.setup.message {
            cfg.texts.alert_message = m.clone();
        }
        let durable = Durable::bonded(self.opts.key.0);
        let entropy = self.entropy();
        self.connect_phone(PhoneApp::start(
            cfg.clone(),
            durable.clone(),
            self.clock.utc_us(),
            entropy,
        ))?;
        self.run_for(self.opts.settle);
        super::leave_idle(&mut *self.link, &mut *self.clock, &self.device);
        self.dry.note("settled: the scenario's phone starts".into());
        self.dry = DryRun {
            network: self.dry.network,
            position: self.dry.position,
            log: std::mem::take(&mut self.dry.log),
            ..DryRun::default()
        };
        self.vibrate_writes.clear();
        let entropy = self.entropy();
        self.connect_phone(PhoneApp::start(cfg, durable, self.clock.utc_us(), entropy))?;
        self.t0 = self.clock.now();
        self.last_when_end = Duration::ZERO;
        self.dry.note("connected: counts start now".into());
        Ok(())
    }

    /// Run `app` until it is connected to the button.
    fn connect_phone(&mut self, app: PhoneApp) -> Result<(), RunError> {
        self.app = Some(app);
        if !self.dry.network {
            self.dry.inputs.push(Input::Network { available: false });
        }
        let connected = self.run_until(self.opts.connect_timeout, |r| {
            r.app.as_ref().is_some_and(PhoneApp::has_session)
        });
        if connected {
            return Ok(());
        }
        Err(failed(format!(
            "{} did not connect within {:?}",
            self.device, self.opts.connect_timeout
        )))
    }

    /// Hand the app what arrived, run its timers and execute its commands; no time
    /// passes.
    fn step_app(&mut self) {
        let Some(app) = self.app.as_mut() else { return };
        let now = self.clock.utc_us();
        while let Some(ev) = self.link.poll_event() {
            if ev == GattEvent::Power(false) {
                self.adapter_off = true;
                self.dry
                    .note("the central's adapter was switched off".into());
            }
            if let GattEvent::WriteDone { id, ok } = ev {
                if id >= RIG_IDS {
                    self.rig_writes.insert(id, Some(ok));
                    continue;
                }
                if let (Some(p), true) = (self.vibrate_writes.remove(&id), ok) {
                    self.dry.seen.vibrations.push(p);
                }
            }
            app.handle(now, Input::Gatt(ev));
        }
        for input in std::mem::take(&mut self.dry.inputs) {
            app.handle(now, input);
        }
        if app.poll_timeout().is_some_and(|t| t <= now) {
            app.handle_timeout(now);
        }
        if let Some(d) = app.connected_device() {
            self.device = d.clone();
        }
        self.dry.at_us =
            u64::try_from(self.clock.now().saturating_sub(self.t0).as_micros()).unwrap_or(u64::MAX);
        self.dry.utc_us = now;
        let mut tap = Tap {
            link: &mut *self.link,
            vibrate_writes: &mut self.vibrate_writes,
        };
        while let Err(e) = phone::host::drain(app, &mut tap, &mut self.dry) {
            // The rig carries on without the failed command, as a phone would.
            let failed = app.poll_command();
            self.dry.note(format!("{failed:?} failed: {e}"));
        }
    }

    /// One iteration: [`Self::step_app`], then [`TICK`] passes.
    fn tick(&mut self) {
        self.step_app();
        self.link.pump(TICK);
        self.clock.pumped(TICK);
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.clock.now() + d;
        while self.clock.now() < end {
            self.tick();
        }
    }

    /// Run until `cond` holds, at most `d`; whether it held.
    fn run_until(&mut self, d: Duration, cond: impl Fn(&Self) -> bool) -> bool {
        let end = self.clock.now() + d;
        loop {
            if cond(self) {
                return true;
            }
            if self.clock.now() >= end {
                return false;
            }
            self.tick();
        }
    }

    /// A When step is over.
    fn when_done(&mut self) -> StepResult {
        self.last_when_end = self.scenario_time();
        Ok(())
    }

    /// Hand the app an input now (a When step that takes no time).
    fn give(&mut self, input: Input) -> StepResult {
        self.start()?;
        self.dry.inputs.push(input);
        self.step_app();
        self.when_done()
    }
}

impl<L: RigLink, C: Clock> RigBench<'_, L, C> {
    /// Write a test-service injection and wait for its write response.
    fn inject(&mut self, down: bool) -> Result<(), RunError> {
        let id = RIG_IDS + self.next_rig_id;
        self.next_rig_id += 1;
        self.rig_writes.insert(id, None);
        let value = TestInjection::Edge { down }.encode();
        self.link
            .write(&self.device, TEST_INJECT_CHAR, &value, id)
            .map_err(|e| failed(format!("injection refused: {e}")))?;
        let done = self.run_until(Duration::from_secs(5), |r| {
            r.rig_writes.get(&id).copied().flatten().is_some()
        });
        match self.rig_writes.remove(&id).flatten() {
            Some(true) => Ok(()),
            Some(false) => Err(failed(
                "an injection write failed: refused by the peripheral, or the link is gone".into(),
            )),
            None if !done => Err(failed("no answer to an injection within 5 s".into())),
            None => Err(failed("injection lost".into())),
        }
    }

    /// `n` presses, each held `held` longer than its edges take to reach the button,
    /// then the click window closes: through the test service, else asked of the
    /// operator. Each edge is written as soon as the previous one is confirmed: the
    /// button, which has just answered, hears it at the next connection event, so
    /// presses and gaps last about one event each, as a hand's do.
    fn press(&mut self, n: u32, held: Duration, what: &str) -> StepResult {
        self.start()?;
        self.check_adapter()?;
        if self.first_press.is_none() {
            self.first_press = Some(self.scenario_time());
        }
        if self.link.has_characteristic(&self.device, TEST_INJECT_CHAR) {
            for _ in 0..n {
                self.inject(true)?;
                self.run_for(held);
                self.inject(false)?;
            }
            self.run_for(WINDOW);
            return self.when_done();
        }
        if !self.opts.interactive {
            return not_here("the firmware has no test service and no operator can be asked");
        }
        let events = |r: &Self| r.app.as_ref().map_or(0, |a| a.durable().events.len());
        let before = events(self);
        eprintln!(
            ">>> {what} now (waiting up to {:?})",
            self.opts.operator_timeout
        );
        let _ = std::io::stderr().flush();
        let t = self.opts.operator_timeout;
        if !self.run_until(t, |r| events(r) > before) {
            return Err(failed(format!(
                "no event from the button within {t:?} of asking: {what}"
            )));
        }
        self.run_for(WINDOW);
        self.when_done()
    }

    /// A Given that only configures the phone before it starts.
    fn before_start(&mut self, what: &str, set: impl FnOnce(&mut Setup)) -> StepResult {
        if self.app.is_some() {
            return Err(failed(format!(
                "{what} must be set before the first When or Then step"
            )));
        }
        set(&mut self.setup);
        Ok(())
    }
}

impl<L: RigLink, C: Clock> Bench for RigBench<'_, L, C> {
    fn contacts(&mut self, contacts: Vec<Contact>) -> StepResult {
        self.before_start("contacts", |s| s.contacts = contacts)
    }
    fn alert_message(&mut self, text: &str) -> StepResult {
        self.before_start("the alert message", |s| s.message = Some(text.to_string()))
    }
    fn phone_position(&mut self, at: Option<(f64, f64)>) -> StepResult {
        self.dry.position = at;
        Ok(())
    }
    fn no_cellular_network(&mut self) -> StepResult {
        self.dry.network = false;
        if self.app.is_some() {
            self.dry.inputs.push(Input::Network { available: false });
        }
        Ok(())
    }
    fn contact_answers(&mut self, _: &str, _: Answer) -> StepResult {
        not_here("the dry-run platform places no call: nobody answers")
    }
    fn button_battery(&mut self, _: f64) -> StepResult {
        not_here("the button's cell is real: its charge cannot be set")
    }
    fn button_distance(&mut self, _: f64) -> StepResult {
        not_here("the radio is real: the button cannot be moved")
    }
    fn packet_loss(&mut self, _: f64) -> StepResult {
        not_here("the radio is real: its loss cannot be set")
    }
    fn seed(&mut self, _: u64) -> StepResult {
        // Nothing on a rig is drawn at random: presses have fixed durations.
        Ok(())
    }

    fn presses(&mut self, count: u32) -> StepResult {
        self.press(count, Duration::ZERO, &format!("press the button {count}×"))
    }
    fn hold(&mut self, held: Duration) -> StepResult {
        self.press(1, held, &format!("hold the button for {held:?}"))
    }
    fn raw_press(&mut self, held: Duration) -> StepResult {
        if held < SHORTEST_TIMED_PRESS {
            return not_here(&format!(
                "a press shorter than {SHORTEST_TIMED_PRESS:?} cannot be timed over the air"
            ));
        }
        self.press(1, held, &format!("press the button once for {held:?}"))
    }
    fn replay_trace(&mut self, _: &str) -> StepResult {
        not_here("an accelerometer trace cannot be replayed into a real sensor")
    }
    fn pass(&mut self, time: Duration) -> StepResult {
        if time > self.opts.max_wait {
            return not_here(&format!(
                "waits longer than {:?} of real time",
                self.opts.max_wait
            ));
        }
        self.start()?;
        self.run_for(time);
        self.check_adapter()?;
        self.when_done()
    }
    fn lose_link(&mut self, _: Duration) -> StepResult {
        not_here("the radio is real: the link cannot be cut on cue")
    }
    fn phone_bluetooth(&mut self, _: bool) -> StepResult {
        not_here("the rig's adapter is not switched by scenarios")
    }
    fn restart_app(&mut self) -> StepResult {
        not_here("app restarts are simulated only")
    }
    fn crash_app_after_sms(&mut self, _: u32) -> StepResult {
        not_here("app crashes are simulated only (the rig's app runs in this process)")
    }
    fn crash_app_while_saving(&mut self) -> StepResult {
        not_here("torn writes are simulated only (the rig's dry-run storage is not kept)")
    }
    fn reset_button(&mut self) -> StepResult {
        not_here("the rig cannot reset the button")
    }
    fn regain_network(&mut self) -> StepResult {
        self.dry.network = true;
        self.give(Input::Network { available: true })
    }
    fn location_fix(&mut self, lat: f64, lon: f64) -> StepResult {
        self.dry.position = Some((lat, lon));
        self.dry.utc_us = self.clock.utc_us();
        let fix = self.dry.fix(lat, lon);
        self.give(fix)
    }
    fn cancel_on_phone(&mut self) -> StepResult {
        self.give(Input::UserCancel)
    }
    fn stranger_press(&mut self) -> StepResult {
        not_here("there is no second, unpaired button on the rig")
    }
    fn replay_last_event(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn tampered_event(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_connects(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_disconnects(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_acks_all(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_sets_clock(&mut self, _utc_ms: u64) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_vibrates(&mut self, _pattern: VibrationPattern, _times: u32) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_test_clicks(&mut self, _clicks: u32) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn pair_while_listening(&mut self) -> StepResult {
        not_here("the rig has no attacker radio to listen to a pairing")
    }
    fn attacker_forges_press(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn factory_reset(&mut self) -> StepResult {
        not_here("the rig cannot erase the button's bond")
    }
    fn attacker_tries_to_bond(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn wearer_pairs(&mut self) -> StepResult {
        not_here("the rig cannot do the button's physical pairing action")
    }
    fn impostor_takes_over(&mut self) -> StepResult {
        not_here("the rig has no attacker radio")
    }
    fn attacker_listens(&mut self) -> StepResult {
        not_here("the rig has no sniffer")
    }
    fn reinstall_app(&mut self) -> StepResult {
        not_here("the rig cannot do the button's physical pairing action")
    }
    fn backup_app(&mut self) -> StepResult {
        not_here("the rig keeps no backups of the app")
    }
    fn restore_app(&mut self) -> StepResult {
        not_here("the rig keeps no backups of the app")
    }

    fn observe(&mut self) -> Result<Observation, RunError> {
        self.start()?;
        self.check_adapter()?;
        let Some(app) = self.app.as_ref() else {
            return Err(failed("the phone has not started".into()));
        };
        // Every field named, no `..`: a new observation does not compile until the rig
        // says where it comes from.
        let Observation {
            contacts: _,
            sms_sent,
            sms_received: _,
            sms_refused,
            calls,
            siren_on,
            siren_ever,
            recordings_started,
            recording_now,
            stored_recordings: _,
            countdowns_started,
            warnings,
            vibrations,
            rejected_events: _,
            falls_reported: _,
            rejected_commands: _,
            learned: _,
        } = self.dry.seen.clone();
        let seen = Observation {
            contacts: app.config().contacts.clone(),
            // A dry run sends nothing: what the network accepted counts as received.
            sms_received: sms_sent.clone(),
            sms_sent,
            sms_refused,
            calls,
            siren_on,
            siren_ever,
            recordings_started,
            recording_now,
            countdowns_started,
            warnings,
            vibrations,
            // From the app's durable state, below.
            stored_recordings: Vec::new(),
            rejected_events: 0,
            falls_reported: 0,
            // The rig cannot read the button's count (no test read-back of it).
            rejected_commands: 0,
            // The rig has no sniffer.
            learned: None,
        };
        Ok(seen.with_durable(app.durable()))
    }

    fn wait_until(&mut self, within: Duration, holds: &dyn Fn(&Observation) -> bool) -> StepResult {
        self.start()?;
        let deadline = self.t0 + self.last_when_end + within;
        loop {
            self.check_adapter()?;
            if holds(&self.observe()?) || self.clock.now() >= deadline {
                return Ok(());
            }
            self.tick();
        }
    }

    fn elapsed(&self) -> Duration {
        self.scenario_time()
    }
}
