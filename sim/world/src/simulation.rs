//! The simulation: one button, one phone app, the air between them and the simulated
//! platform, driven by the deterministic scheduler. This module holds the run loop and
//! the wearer's and the harness's verbs; the air is [`crate::air`], the platform
//! [`crate::platform`], trace replay [`crate::replay`].
//!
//! The run loop jumps from one due instant to the next: the earliest of the event queue,
//! the button's and the phone's own timers. At equal times queued events go first, in
//! insertion order, then the button's timer, then the phone's. The app's commands run
//! through its host loop ([`phone::host::drain`]) on its two ports, the air's central
//! and the platform. Every observable happening is appended to the [`Timeline`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use device_model::{Button, DeviceProfile, Flash, Input};
use phone::gatt::{DeviceId, GattEvent};
use phone::{AppConfig, Contact, Durable, PhoneApp};
use protocol::gatt::EVENT_CHAR;
use protocol::{BondKey, Uuid, VibrationPattern};

use crate::air::Air;
use crate::hand::{Hand, HandModel};
use crate::link::{LinkParams, VirtualLink};
use crate::observed::{HarnessNote, Observed};
use crate::platform::{Answering, Platform, PlatformParams};
pub use crate::platform::{CrashPlan, Keep};
use crate::replay::Replay;
use crate::rng::{Component, Stream};
use crate::sched::{Micros, MILLI, SECOND};
use crate::shared::{Core, Ev, Shared};
use crate::timeline::{Layer, Timeline};
use crate::trace::TraceError;
use crate::WorldError;

pub use crate::air::BOOT_US;
pub use crate::series::{MarkerKind, Series};

/// UTC at virtual time zero: 2026-01-05 09:00:00 UTC (a Monday morning).
pub const EPOCH_UTC_MS: u64 = 1_767_603_600_000;

/// A fixed public address. The version 2 firmware never advertises one (it uses
/// rotating private addresses: [`Simulation::button_addr`]); kept for harness devices.
pub const BUTTON_ADDR: &str = "C0:FF:EE:00:00:01";
/// An unpaired button's address.
pub const STRANGER_ADDR: &str = "C0:FF:EE:00:00:99";

/// Time the app takes to start again after a restart.
pub const APP_RESTART_US: Micros = 2 * SECOND;

/// Everything a scenario configures before the simulation starts.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Scenario seed.
    pub seed: u64,
    /// Emergency contacts (default: one generated contact).
    pub contacts: Vec<Contact>,
    /// The wearer's alert message.
    pub message: Option<String>,
    /// GPS position, `None` for no fix.
    pub fix: Option<(f64, f64)>,
    /// Cellular network at start.
    pub network: bool,
    /// How contacts (by number) answer.
    pub answering: BTreeMap<String, Answering>,
    /// Button battery state of charge (%).
    pub battery_pct: Option<f64>,
    /// Distance button–phone (m).
    pub distance_m: Option<f64>,
    /// Packet loss (%).
    pub loss_pct: Option<f64>,
    /// Device profile.
    pub profile: DeviceProfile,
    /// Link parameters.
    pub link: LinkParams,
    /// Platform parameters.
    pub platform: PlatformParams,
    /// Hand model.
    pub hand: HandModel,
    /// Record air PDUs for captures.
    pub capture: bool,
    /// Take heartbeats over an idle connection in bulk ([`Simulation::fast_forward`]).
    pub fast_forward: bool,
    /// Keep a timeline (a fleet keeps none, from the first entry on:
    /// [`Simulation::mute_timeline`]).
    pub timeline: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: 0,
            contacts: Vec::new(),
            message: None,
            fix: Some((45.764043, 4.835659)),
            network: true,
            answering: BTreeMap::new(),
            battery_pct: None,
            distance_m: None,
            loss_pct: None,
            profile: DeviceProfile::default(),
            link: LinkParams::default(),
            platform: PlatformParams::default(),
            hand: HandModel::default(),
            capture: false,
            fast_forward: true,
            timeline: true,
        }
    }
}

/// Generated contact `i` (1-based): "Contact i", +3360000000i.
pub fn generated_contact(i: usize) -> Contact {
    Contact {
        name: format!("Contact {i}"),
        phone: format!("+336{:08}", i),
    }
}

/// The app and what the platform keeps for it while it restarts.
#[derive(Debug, Default)]
struct PhoneSide {
    app: Option<PhoneApp>,
    /// Platform callbacks held for an app that is restarting.
    held: Vec<phone::Input>,
    /// Commands a port refused (the app's command, and why), discarded.
    refused: Vec<(Micros, String)>,
    /// The app was killed by an armed crash; the simulation restarts it.
    crashed: bool,
    /// Commands the host executed since the scenario started.
    commands: u64,
}

impl PhoneSide {
    /// Give the app an input (or hold it while the app restarts; GATT events are gone
    /// with the connection).
    fn give(&mut self, input: phone::Input, air: &mut Air, platform: &mut Platform, utc: u64) {
        match self.app.as_mut() {
            Some(app) => app.handle(utc, input),
            None if !matches!(input, phone::Input::Gatt(_)) => self.held.push(input),
            None => {}
        }
        self.serve(air, platform, utc);
    }

    /// Run the app's commands on its ports, and hand it what the central reports, until
    /// both are quiet.
    fn serve(&mut self, air: &mut Air, platform: &mut Platform, utc: u64) {
        use phone::GattClient as _;
        let Some(app) = self.app.as_mut() else {
            while air.poll_event().is_some() {}
            return;
        };
        loop {
            // The host loop, one command at a time, so that an armed crash can kill
            // the app between any two commands.
            match phone::host::step(app, air, platform) {
                Ok(true) => {}
                Ok(false) => {
                    let Some(ev) = air.poll_event() else { break };
                    app.handle(utc, phone::Input::Gatt(ev));
                    continue;
                }
                Err(e) => {
                    // A refused command is dropped; the ones behind it still run.
                    let cmd = app.poll_command();
                    self.refused.push((utc, format!("{cmd:?}: {e}")));
                }
            }
            self.commands += 1;
            if platform.after_command() {
                self.app = None;
                self.crashed = true;
                while air.poll_event().is_some() {}
                return;
            }
        }
    }
}

/// The whole simulated world.
#[derive(Debug)]
pub struct Simulation {
    core: Core,
    /// The wearer's hand.
    pub hand: Hand,
    pub(crate) air: Air,
    phone: PhoneSide,
    app_config: Arc<AppConfig>,
    /// The platform.
    pub platform: Platform,
    /// What happened.
    pub timeline: Timeline,
    /// Vibration patterns the button played, with time.
    pub vibrations: Vec<(Micros, VibrationPattern)>,
    seed: u64,
    pub(crate) replay: Option<Box<Replay>>,
    /// The error that ended the last replay early, if any.
    pub replay_error: Option<TraceError>,
    /// Accelerometer samples the button read (time, mg), when recording them.
    pub accel_log: Option<Vec<(Micros, [i16; 3])>>,
    /// Structured series for reports.
    pub series: Series,
    /// The time the current run may not go past.
    pub(crate) horizon: Micros,
    /// Cached next deadlines of the button and the phone.
    due_cache: (Option<Micros>, Option<Micros>),
    /// The phone's RNG (entropy at each app start and pairing).
    phone_entropy: Stream,
    /// The app's durable state (both slots) as the last backup took it.
    backup: Option<[Option<Vec<u8>>; 2]>,
    /// Whether heartbeats over an idle connection are taken in bulk: the button does
    /// each one's bookkeeping and the phone hears the run at the last one's arrival,
    /// without sealing, carrying and opening every frame (see
    /// `device_model::button::HeartbeatRun`). Timelines are the same either way
    /// (`tests/fast_forward.rs` compares them); off, every frame goes the full path.
    pub fast_forward: bool,
    /// Heartbeats taken in bulk so far.
    bulk_heartbeats: u64,
}

impl Simulation {
    /// Build the world at t = 0: the button bonded and connected, the app running.
    pub fn new(setup: Setup) -> Result<Self, WorldError> {
        setup.profile.validate().map_err(WorldError::Device)?;
        let core: Core = Rc::new(RefCell::new(Shared::default()));
        let mut platform_rng = Stream::new(setup.seed, Component::Platform);
        let key = BondKey(platform_rng.bytes());
        let app_config = Arc::new(app_config(&setup)?);
        let platform = platform(&setup, &app_config, core.clone(), platform_rng)?;
        let battery = Button::fresh_battery(&setup.profile, setup.battery_pct.unwrap_or(100.0));
        let level = battery.level_percent(0);
        let mut button_rng = Stream::new(setup.seed, Component::ButtonEntropy);
        let flash = Flash::bonded(key);
        let radio = Stream::new(setup.seed, Component::Radio);
        let link = link(&setup);
        let hand = Hand::new(setup.seed, setup.hand);
        let button = Button::boot(setup.profile, flash, battery, 0, button_rng.bytes());
        let air = Air::new(core.clone(), radio, link, button, button_rng);
        let mut sim = Simulation {
            core,
            hand,
            air,
            phone: PhoneSide::default(),
            app_config,
            platform,
            timeline: Timeline::default(),
            vibrations: Vec::new(),
            seed: setup.seed,
            replay: None,
            replay_error: None,
            accel_log: None,
            series: Series::default(),
            horizon: 0,
            due_cache: (None, None),
            phone_entropy: Stream::new(setup.seed, Component::PhoneEntropy),
            backup: None,
            fast_forward: setup.fast_forward,
            bulk_heartbeats: 0,
        };
        if !setup.timeline {
            sim.mute_timeline();
        }
        sim.harness(HarnessNote::Seed(setup.seed));
        let durable = Durable::bonded(key.0);
        sim.platform.storage[0] = Some(durable.to_record(0));
        sim.core.borrow_mut().series.battery.push((0, level));
        let entropy = sim.phone_entropy.bytes();
        let app = PhoneApp::start(sim.app_config.clone(), durable, sim.utc_us(), entropy);
        sim.phone.app = Some(app);
        // Bonded and connected at t = 0.
        let utc = sim.utc_us();
        let (phone, platform) = (&mut sim.phone, &mut sim.platform);
        sim.air
            .connect_at_start(&mut |air| phone.serve(air, platform, utc));
        if !sim.platform.network {
            // The platform reports the network state to a starting app.
            sim.give_phone(phone::Input::Network { available: false });
        }
        sim.settle();
        Ok(sim)
    }

    /// Virtual time now.
    pub fn now(&self) -> Micros {
        self.core.borrow().now
    }

    pub(crate) fn set_now(&mut self, t: Micros) {
        let mut core = self.core.borrow_mut();
        core.now = core.now.max(t);
    }

    /// The scenario seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Phone UTC time now (µs).
    pub fn utc_us(&self) -> u64 {
        EPOCH_UTC_MS * 1000 + self.now()
    }

    /// The app's configuration.
    pub fn app_config(&self) -> &AppConfig {
        &self.app_config
    }

    /// The button firmware, when powered.
    pub fn button(&self) -> Option<&Button> {
        self.air.button()
    }

    /// The app, when running.
    pub fn phone(&self) -> Option<&PhoneApp> {
        self.phone.app.as_ref()
    }

    /// Commands of the app a port refused (time, command and reason); they were dropped.
    pub fn refused_commands(&self) -> &[(Micros, String)] {
        &self.phone.refused
    }

    /// The app's durable state (from the running app, or from storage while it restarts).
    pub fn durable(&self) -> Cow<'_, Durable> {
        match &self.phone.app {
            Some(p) => Cow::Borrowed(p.durable()),
            None => Cow::Owned(phone::store::load(self.platform.slots()).durable),
        }
    }

    /// Commands the app's host executed since the scenario started (or since
    /// [`Simulation::count_commands_from_now`]).
    pub fn commands_executed(&self) -> u64 {
        self.phone.commands
    }

    /// Count commands from now on (a crash plan counts from when it is armed).
    pub fn count_commands_from_now(&mut self) {
        self.phone.commands = 0;
    }

    /// Arm a crash of the app (see [`CrashPlan`]); it replaces one already armed.
    pub fn arm_crash(&mut self, plan: CrashPlan) {
        self.platform.crash = Some((plan, 0));
    }

    /// Disarm a crash that has not happened.
    pub fn disarm_crash(&mut self) {
        self.platform.crash = None;
    }

    /// Whether a crash is armed and has not happened yet.
    pub fn crash_armed(&self) -> bool {
        self.platform.crash.is_some()
    }

    /// An armed crash happened: the app is gone; close its central and start it again
    /// in [`APP_RESTART_US`].
    fn reap(&mut self) {
        if !std::mem::take(&mut self.phone.crashed) {
            return;
        }
        self.harness(HarnessNote::AppCrashes);
        self.air.app_closed();
        self.schedule(self.now() + APP_RESTART_US, Ev::PhoneStart);
    }

    pub(crate) fn note(&mut self, layer: Layer, text: String) {
        self.core.borrow_mut().note(layer, text);
    }

    pub(crate) fn observe(&mut self, layer: Layer, what: Observed) {
        self.core.borrow_mut().observe(layer, what);
    }

    pub(crate) fn harness(&mut self, h: HarnessNote) {
        let mut core = self.core.borrow_mut();
        if h.is_fault() {
            core.mark(MarkerKind::Fault, h.to_string());
        }
        core.observe(Layer::Harness, Observed::Harness(h));
    }

    pub(crate) fn schedule(&mut self, at: Micros, ev: Ev) {
        self.core.borrow_mut().at(at, ev);
    }

    /// Keep no timeline from now on and render no text (a fleet reads the typed
    /// series): entries are only counted in `timeline.dropped`.
    pub fn mute_timeline(&mut self) {
        self.timeline.muted = true;
        self.core.borrow_mut().timeline.muted = true;
    }

    /// Bring the cached deadlines up to date and hand the journal to the timeline and
    /// the series: the end of every step and every verb.
    pub(crate) fn settle(&mut self) {
        self.refresh_due();
        let mut core = self.core.borrow_mut();
        // Drained, keeping a little room for the next step (memory per pair).
        if !core.timeline.entries.is_empty() {
            for e in core.timeline.entries.drain(..) {
                self.timeline.push_entry(e);
            }
            crate::shared::keep_little(&mut core.timeline.entries);
        }
        self.timeline.dropped += std::mem::take(&mut core.timeline.dropped);
        self.series.append(&mut core.series);
        if !core.vibrations.is_empty() {
            self.vibrations.append(&mut core.vibrations);
        }
    }

    // ---- the run loop -----------------------------------------------------------------

    pub(crate) fn next_due(&self) -> Option<Micros> {
        let (b, p) = self.due_cache;
        let q = self.core.borrow().sched.peek_time();
        [q, b, p].into_iter().flatten().min()
    }

    /// Recompute the button's and the phone's next deadlines (they only move when the
    /// button or the app act, and every such moment ends in a refresh).
    pub(crate) fn refresh_due(&mut self) {
        let b = self.air.button_due();
        let p = self
            .phone
            .app
            .as_ref()
            .and_then(|p| p.poll_timeout())
            .map(|u| u.saturating_sub(EPOCH_UTC_MS * 1000));
        self.due_cache = (b, p);
    }

    /// Process one due instant at or before `until`; false when there is none.
    fn step(&mut self, until: Micros) -> bool {
        self.horizon = until;
        let Some(t) = self.next_due().filter(|&t| t <= until) else {
            return false;
        };
        self.set_now(t);
        if self.fast_forward && self.due_cache.0 == Some(t) && self.heartbeats_in_bulk(t, until) {
            return true;
        }
        loop {
            let now = self.now();
            let Some((_, ev)) = self.core.borrow_mut().sched.pop_due(now) else {
                break;
            };
            self.process(ev);
        }
        self.air.button_timeout();
        let utc = self.utc_us();
        if let Some(app) = self.phone.app.as_mut() {
            if app.poll_timeout().is_some_and(|d| d <= utc) {
                app.handle_timeout(utc);
                self.serve();
            }
        }
        self.settle();
        true
    }

    /// At `t`, the button's heartbeat is due: when the connection is idle, take every
    /// heartbeat due before anything else happens in bulk and return true (false, with
    /// nothing changed, when the full path must run). Nothing else may happen before
    /// the last one arrives: no scheduled event, no deadline of the app's but its link
    /// watch (which the heartbeats keep quiet; the first must still arrive before it),
    /// nothing after `until`.
    fn heartbeats_in_bulk(&mut self, t: Micros, until: Micros) -> bool {
        let epoch = EPOCH_UTC_MS * 1000;
        // The button's level drop (its only other deadline while idle and connected)
        // goes the full path: decline at once.
        if self.air.button_heartbeat_at() != Some(t) {
            return false;
        }
        let (Some(app), Some(level)) = (self.phone.app.as_ref(), self.air.button_level()) else {
            return false;
        };
        if !app.quiet_for_heartbeats(level) {
            return false;
        }
        let interval = self.air.conn_interval();
        // The app's next deadline, as `refresh_due` left it at the end of the last step
        // (the app has not acted since).
        let watch = self.due_cache.1;
        if watch.is_some_and(|w| t.saturating_add(interval) >= w) {
            return false;
        }
        let besides = app
            .deadline_besides_link_watch()
            .map(|u| u.saturating_sub(epoch));
        let sched = self.core.borrow().sched.peek_time();
        let other = [sched, besides, Some(until.saturating_add(1))]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Micros::MAX);
        // A heartbeat sent at `h` arrives by `h + interval`.
        let Some((run, arrival)) = self.air.idle_heartbeats(other.saturating_sub(interval)) else {
            return false;
        };
        self.bulk_heartbeats += u64::from(run.count);
        self.set_now(arrival);
        let utc = self.utc_us();
        if let Some(app) = self.phone.app.as_mut() {
            app.heartbeat_run(utc, run.first_index, run.count, run.level);
        }
        self.serve();
        self.settle();
        true
    }

    /// Heartbeats taken in bulk so far ([`Simulation::fast_forward`]).
    pub fn bulk_heartbeats(&self) -> u64 {
        self.bulk_heartbeats
    }

    /// Let time pass until `t` (everything due up to and including `t` happens).
    pub fn run_until(&mut self, t: Micros) {
        while self.step(t) {}
        self.set_now(t);
    }

    /// Let time pass for `d`.
    pub fn advance(&mut self, d: Micros) {
        self.run_until(self.now() + d);
    }

    /// Let time pass until `cond` holds, at most until `deadline`. Returns whether it held.
    pub fn run_until_cond(&mut self, deadline: Micros, cond: &dyn Fn(&Simulation) -> bool) -> bool {
        if cond(self) {
            return true;
        }
        while self.step(deadline) {
            if cond(self) {
                return true;
            }
        }
        self.set_now(deadline);
        cond(self)
    }

    fn process(&mut self, ev: Ev) {
        self.process_one(ev);
        self.reap();
    }

    fn process_one(&mut self, ev: Ev) {
        match ev {
            Ev::Edge { down } => {
                self.series.edges.push((self.now(), down));
                self.air.button_input(Input::Edge { down });
            }
            Ev::Air(e) => {
                let utc = self.utc_us();
                let (phone, platform) = (&mut self.phone, &mut self.platform);
                self.air
                    .process(e, &mut |air| phone.serve(air, platform, utc));
            }
            Ev::Platform(pe) => {
                if let Some(input) = self.platform.on_event(pe) {
                    self.give_phone(input);
                }
            }
            Ev::PhoneStart => self.phone_start(),
            Ev::Inject(ev) => self.give_phone(phone::Input::Gatt(ev)),
            Ev::TraceNext => self.trace_next(),
            Ev::AccelHold { mg, left } => self.accel_hold(mg, left),
        }
    }

    fn phone_start(&mut self) {
        let loaded = phone::store::load(self.platform.slots());
        let entropy = self.phone_entropy.bytes();
        let app = PhoneApp::start_loaded(self.app_config.clone(), loaded, self.utc_us(), entropy);
        self.phone.app = Some(app);
        self.air.app_opened();
        self.serve();
        for input in std::mem::take(&mut self.phone.held) {
            self.give_phone(input);
        }
        if !self.air.phone_radio() {
            self.give_phone(phone::Input::Gatt(GattEvent::Power(false)));
        }
        if !self.platform.network {
            self.give_phone(phone::Input::Network { available: false });
        }
    }

    fn give_phone(&mut self, input: phone::Input) {
        let utc = self.utc_us();
        self.phone
            .give(input, &mut self.air, &mut self.platform, utc);
        self.reap();
    }

    fn serve(&mut self) {
        let utc = self.utc_us();
        self.phone.serve(&mut self.air, &mut self.platform, utc);
        self.reap();
    }

    // ---- wearer and harness actions --------------------------------------------------

    /// Schedule a raw contact edge.
    pub fn edge_at(&mut self, at: Micros, down: bool) {
        self.schedule(at, Ev::Edge { down });
    }

    /// The link goes down now for `dur`.
    pub fn outage(&mut self, dur: Micros) {
        self.harness(HarnessNote::Outage(dur));
        self.air.outage(dur);
        self.settle();
    }

    /// Packet loss rate (%).
    pub fn set_loss_pct(&mut self, pct: f64) {
        self.air.set_loss(pct / 100.0);
        self.settle();
    }

    /// Distance between button and phone (m).
    pub fn set_distance(&mut self, m: f64) {
        self.harness(HarnessNote::Distance(m));
        self.air.set_distance(m);
        self.settle();
    }

    /// Bluetooth on the phone on or off.
    pub fn phone_bluetooth(&mut self, on: bool) {
        self.harness(HarnessNote::Bluetooth(on));
        let utc = self.utc_us();
        let (phone, platform) = (&mut self.phone, &mut self.platform);
        self.air
            .set_phone_radio(on, &mut |air| phone.serve(air, platform, utc));
        self.settle();
    }

    /// The phone app is killed now and starts again shortly after.
    pub fn restart_app(&mut self) {
        self.harness(HarnessNote::AppRestarts);
        if self.phone.app.take().is_some() {
            self.air.app_closed();
            self.schedule(self.now() + APP_RESTART_US, Ev::PhoneStart);
        }
        self.settle();
    }

    /// The phone app is reinstalled now: its durable state is lost (bond included) and it
    /// starts again shortly after, unbonded; the wearer then pairs again
    /// ([`Simulation::wearer_pairs`]).
    pub fn reinstall_app(&mut self) -> Result<(), WorldError> {
        self.note(Layer::Harness, "the phone app is reinstalled".into());
        self.platform.storage = [None, None];
        self.restart_app();
        let started = self.now() + APP_RESTART_US;
        self.run_until(started);
        self.wearer_pairs()
    }

    /// A backup of the app's durable state is taken now.
    pub fn backup_app(&mut self) {
        self.note(Layer::Harness, "a backup of the phone app is taken".into());
        self.backup = Some(self.platform.storage.clone());
    }

    /// The app's durable state is replaced by the last backup and the app restarts
    /// (time passes until it has started). Returns `false` (and does nothing) when no
    /// backup was taken.
    pub fn restore_app(&mut self) -> bool {
        let Some(stored) = self.backup.clone() else {
            return false;
        };
        self.note(
            Layer::Harness,
            "the phone app is restored from the backup".into(),
        );
        self.platform.storage = stored;
        self.restart_app();
        let started = self.now() + APP_RESTART_US;
        self.run_until(started);
        true
    }

    /// The button resets now (flash survives) and boots shortly after.
    pub fn reset_button(&mut self) {
        self.harness(HarnessNote::ButtonResets);
        self.air.reset_button();
        self.settle();
    }

    /// Cellular network comes back (or goes).
    pub fn set_network(&mut self, on: bool) {
        self.platform.set_network(on);
        self.give_phone(phone::Input::Network { available: on });
        self.settle();
    }

    /// The GPS gets a fix.
    pub fn gps_fix(&mut self, lat: f64, lon: f64) {
        if let Some(f) = self.platform.gps_fix(lat, lon) {
            self.give_phone(phone::Input::Location(f));
        }
        self.settle();
    }

    /// The GPS loses its fix.
    pub fn gps_lost(&mut self) {
        self.platform.fix = None;
    }

    /// The wearer presses "cancel" on the phone.
    pub fn user_cancel(&mut self) {
        self.note(Layer::Wearer, "cancels on the phone".into());
        self.give_phone(phone::Input::UserCancel);
        self.settle();
    }

    /// Deliver a GATT event to the phone as if from the air, now (attacks, strangers).
    pub fn inject_to_phone(&mut self, ev: GattEvent) {
        self.schedule(self.now(), Ev::Inject(ev));
    }

    /// Sixteen random bytes from the platform stream (keys of strangers).
    pub fn random_key(&mut self) -> [u8; 16] {
        self.platform.random_key()
    }

    /// Raw event frame of the last alert the button sent, as an attacker recorded it.
    pub fn captured_event(&self) -> Option<&[u8]> {
        self.air.last_event_frame()
    }

    /// The address the button advertises now (or is connected with): a resolvable
    /// private address of its bond, rotating.
    pub fn button_addr(&self) -> &DeviceId {
        self.air.device()
    }

    /// Writes the button refused (unauthenticated, stale, out of bounds), from its
    /// flash: `the button has rejected {n} commands`.
    pub fn button_rejected_commands(&self) -> u32 {
        self.air.flash().map_or(0, |f| f.rejected_commands)
    }

    /// The wearer pairs the button with the phone over the air: the button's bond is
    /// factory-reset (it reboots), the wearer does the physical pairing action, the
    /// phone pairs with it (X25519), the wearer compares the codes the phone shows and
    /// the button signals and confirms them, and the phone reconnects under the new
    /// bond. Time passes as it happens (a few seconds).
    pub fn pair_over_air(&mut self) -> Result<(), WorldError> {
        self.harness(HarnessNote::PairOverAir);
        self.factory_reset_button();
        self.wearer_pairs()
    }

    /// The button is reset to its factory state: its bond is erased and it reboots
    /// (time passes until it has booted).
    pub fn factory_reset_button(&mut self) {
        self.air.reset_button_with(|f| f.bond = None);
        let booted = self.now() + BOOT_US;
        self.run_until(booted);
    }

    /// The wearer pairs the button with the phone: the physical pairing action on the
    /// button, then the phone pairs with it over the air (X25519), the wearer compares
    /// the codes and the phone reconnects under the new bond. Time passes as it happens.
    pub fn wearer_pairs(&mut self) -> Result<(), WorldError> {
        self.note(
            Layer::Wearer,
            "does the pairing action on the button".into(),
        );
        self.air.button_input(Input::PairingAction);
        let device = self.air.device().clone();
        let entropy = self.phone_entropy.bytes();
        self.give_phone(phone::Input::PairWith { device, entropy });
        self.settle();
        let deadline = self.now() + 30 * SECOND;
        let shown = |s: &Simulation| s.phone().and_then(PhoneApp::pairing_code).is_some();
        if !self.run_until_cond(deadline, &shown) {
            return Err(WorldError::Pairing("no code shown within 30 s".into()));
        }
        let on_phone = self.phone().and_then(PhoneApp::pairing_code);
        let on_button = self.button().and_then(Button::pairing_code);
        let matches = on_phone.is_some() && on_phone == on_button;
        self.note(
            Layer::Wearer,
            format!("compares the pairing codes: match {matches}"),
        );
        self.give_phone(phone::Input::ConfirmPairing { matches });
        self.settle();
        if !matches {
            return Err(WorldError::Pairing("the codes differ".into()));
        }
        let deadline = self.now() + 60 * SECOND;
        let bonded = |s: &Simulation| s.phone().is_some_and(PhoneApp::has_session);
        if !self.run_until_cond(deadline, &bonded) {
            return Err(WorldError::Pairing(
                "no session under the new bond within 60 s".into(),
            ));
        }
        Ok(())
    }

    /// Characteristic the attacker writes to.
    pub fn event_char(&self) -> Uuid {
        EVENT_CHAR
    }
}

fn app_config(setup: &Setup) -> Result<AppConfig, WorldError> {
    let contacts = if setup.contacts.is_empty() {
        vec![generated_contact(1)]
    } else {
        setup.contacts.clone()
    };
    let mut app_config = AppConfig::new(contacts).map_err(WorldError::Phone)?;
    if let Some(m) = &setup.message {
        app_config.texts.alert_message = m.clone();
    }
    Ok(app_config)
}

fn platform(
    setup: &Setup,
    config: &AppConfig,
    core: Core,
    rng: Stream,
) -> Result<Platform, WorldError> {
    let mut platform = Platform::new(setup.platform.clone(), core, rng);
    platform.network = setup.network;
    platform.fix = setup.fix;
    for (who, a) in &setup.answering {
        let number = config
            .contacts
            .iter()
            .find(|c| &c.name == who || &c.phone == who)
            .map(|c| c.phone.clone())
            .ok_or_else(|| WorldError::Setup(format!("no contact named {who:?}")))?;
        platform.answering.insert(number, *a);
    }
    Ok(platform)
}

/// The link: the connection timing is the button's (its power profile was derived for it).
fn link(setup: &Setup) -> VirtualLink {
    let mut params = setup.link.clone();
    params.conn_interval_ms = setup.profile.power.conn_interval_ms.round().max(8.0) as u32;
    params.slave_latency = setup.profile.power.slave_latency;
    let mut link = VirtualLink::new(params);
    if let Some(p) = setup.loss_pct {
        link.set_loss(0, p / 100.0);
    }
    if let Some(d) = setup.distance_m {
        link.set_distance(0, d);
    }
    link.capture_on = setup.capture;
    link
}

/// Seconds with up to 3 decimals, trailing zeros trimmed.
pub fn fmt_s(us: Micros) -> String {
    let s = format!("{}.{:03}", us / SECOND, us % SECOND / MILLI);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
