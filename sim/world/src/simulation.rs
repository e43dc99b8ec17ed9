//! The simulation: one button, one phone app, the virtual link between them and the
//! simulated platform, driven by the deterministic scheduler.
//!
//! The run loop jumps from one due instant to the next: the earliest of the event queue,
//! the button's and the phone's own timers. At equal times queued events go first, in
//! insertion order, then the button's timer, then the phone's. Every observable happening
//! is appended to the [`Timeline`].

use std::collections::BTreeMap;

use device_model::{Action, Button, DeviceEvent, DeviceProfile, Flash, Input};
use phone::gatt::{DeviceId, GattCommand, GattEvent};
use phone::{AppConfig, CallUpdate, Command, Contact, Durable, PhoneApp};
use protocol::gatt::{characteristic, CCCD, EVENT_CHAR};
use protocol::{BondKey, EventFrame, Uuid, VibrationPattern};

use std::collections::VecDeque;
use std::path::Path;

use device_model::accel::Resampler;

use crate::hand::{Hand, HandModel};
use crate::link::{rssi_from_distance, Dir, LinkEv, LinkParams, VirtualLink};
use crate::platform::{
    Answering, CallRecord, Platform, PlatformEv, PlatformParams, RecorderRun, Sms,
};
use crate::rng::{Component, Stream};
use crate::sched::{Micros, Scheduler, MILLI, SECOND};
use crate::timeline::{Layer, Timeline};
use crate::trace::{open_trace, Record, RecordKind, TraceError, TraceReader};
use crate::WorldError;

/// UTC at virtual time zero: 2026-01-05 09:00:00 UTC (a Monday morning).
pub const EPOCH_UTC_MS: u64 = 1_767_603_600_000;

/// The bonded button's address.
pub const BUTTON_ADDR: &str = "C0:FF:EE:00:00:01";
/// An unpaired button's address.
pub const STRANGER_ADDR: &str = "C0:FF:EE:00:00:99";

/// Time a button takes to boot after a reset.
pub const BOOT_US: Micros = 200 * MILLI;
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

/// Structured series of a run, for reports and plots.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Link state changes: (time, connected).
    pub link: Vec<(Micros, bool)>,
    /// Battery level reports: (time, percent).
    pub battery: Vec<(Micros, u8)>,
    /// Marked moments: (time, kind, detail). Kinds: `gesture`, `fall`, `sms`, `call`,
    /// `siren`, `recording`, `countdown`, `warning`, `rejected`, `fault`.
    pub markers: Vec<(Micros, &'static str, String)>,
    /// Events the button queued: (time, sequence number, kind).
    pub queued: Vec<(Micros, u32, &'static str)>,
    /// Events the phone recorded for the first time: (time, sequence number).
    pub received: Vec<(Micros, u32)>,
}

/// A trace being replayed: streamed, one record scheduled at a time.
struct Replay {
    name: String,
    reader: Box<dyn Iterator<Item = Result<Record, TraceError>>>,
    start: Micros,
    pending: Option<Record>,
    resampler: Resampler,
    /// Accelerometer input of the last 0.5 s (trace time, g).
    recent: VecDeque<(Micros, [f64; 3])>,
    records: u64,
    last_t: Micros,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replay({}, {} records)", self.name, self.records)
    }
}

#[derive(Clone, Debug)]
enum Ev {
    Edge {
        down: bool,
    },
    Link(LinkEv),
    ToPhone {
        conn: u64,
        ev: GattEvent,
        confirm: bool,
    },
    ToButton {
        conn: u64,
        input: Input,
        write_id: Option<u64>,
    },
    Platform(PlatformEv),
    ButtonBoot,
    PhoneStart,
    Inject(GattEvent),
    TraceNext,
    /// The sensor keeps reading `mg` after a trace ended, `left` more samples.
    AccelHold {
        mg: [i16; 3],
        left: u32,
    },
}

/// The whole simulated world.
#[derive(Debug)]
pub struct Simulation {
    now: Micros,
    sched: Scheduler<Ev>,
    radio: Stream,
    platform_rng: Stream,
    /// The wearer's hand.
    pub hand: Hand,
    button: Option<Button>,
    /// What a powered-off button keeps: flash and its cell.
    off: Option<(Flash, device_model::power::Battery)>,
    profile: DeviceProfile,
    phone: Option<PhoneApp>,
    app_config: AppConfig,
    /// The virtual link.
    pub link: VirtualLink,
    /// The platform.
    pub platform: Platform,
    /// What happened.
    pub timeline: Timeline,
    /// Vibration patterns the button played, with time.
    pub vibrations: Vec<(Micros, VibrationPattern)>,
    /// The last event frame the button put on the air (what an attacker could capture).
    pub last_air_event: Option<Vec<u8>>,
    button_addr: DeviceId,
    seed: u64,
    held: Vec<phone::Input>,
    replay: Option<Replay>,
    /// The error that ended the last replay early, if any.
    pub replay_error: Option<TraceError>,
    /// Accelerometer samples the button read (time, mg), when recording them.
    pub accel_log: Option<Vec<(Micros, [i16; 3])>>,
    /// Structured series for reports.
    pub series: Series,
    /// The time the current run may not go past.
    horizon: Micros,
    /// Cached next deadlines of the button and the phone.
    due_cache: (Option<Micros>, Option<Micros>),
}

impl Simulation {
    /// Build the world at t = 0: the button bonded and connected, the app running.
    pub fn new(setup: Setup) -> Result<Self, WorldError> {
        setup.profile.validate().map_err(WorldError::Device)?;
        let mut platform_rng = Stream::new(setup.seed, Component::Platform);
        let key = BondKey(platform_rng.bytes());
        let contacts = if setup.contacts.is_empty() {
            vec![generated_contact(1)]
        } else {
            setup.contacts.clone()
        };
        let mut app_config = AppConfig::new(contacts).map_err(WorldError::Phone)?;
        if let Some(m) = &setup.message {
            app_config.texts.alert_message = m.clone();
        }
        let mut platform = Platform::new(setup.platform.clone());
        platform.network = setup.network;
        platform.fix = setup.fix;
        for (who, a) in &setup.answering {
            let number = app_config
                .contacts
                .iter()
                .find(|c| &c.name == who || &c.phone == who)
                .map(|c| c.phone.clone())
                .ok_or_else(|| WorldError::Setup(format!("no contact named {who:?}")))?;
            platform.answering.insert(number, *a);
        }
        // The connection timing is the button's (its power profile was derived for it).
        let mut link_params = setup.link.clone();
        link_params.conn_interval_ms = setup.profile.power.conn_interval_ms.round().max(8.0) as u32;
        link_params.slave_latency = setup.profile.power.slave_latency;
        let mut link = VirtualLink::new(link_params);
        if let Some(p) = setup.loss_pct {
            link.set_loss(0, p / 100.0);
        }
        if let Some(d) = setup.distance_m {
            link.set_distance(0, d);
        }
        link.capture_on = setup.capture;
        let button_addr = DeviceId(BUTTON_ADDR.into());
        let mut sim = Simulation {
            now: 0,
            sched: Scheduler::default(),
            radio: Stream::new(setup.seed, Component::Radio),
            platform_rng,
            hand: Hand::new(setup.seed, setup.hand.clone()),
            button: None,
            off: None,
            profile: setup.profile.clone(),
            phone: None,
            app_config,
            link,
            platform,
            timeline: Timeline::default(),
            vibrations: Vec::new(),
            last_air_event: None,
            button_addr: button_addr.clone(),
            seed: setup.seed,
            held: Vec::new(),
            replay: None,
            replay_error: None,
            accel_log: None,
            series: Series::default(),
            horizon: 0,
            due_cache: (None, None),
        };
        sim.note(Layer::Harness, format!("scenario seed {}", setup.seed));
        let durable = Durable::bonded(button_addr.clone(), key.0);
        sim.platform.storage = Some(durable.to_bytes());
        let battery = Button::fresh_battery(&setup.profile, setup.battery_pct.unwrap_or(100.0));
        sim.series.battery.push((0, battery.level_percent(0)));
        sim.button = Some(Button::boot(
            setup.profile.clone(),
            Flash::bonded(key),
            battery,
            0,
        ));
        sim.phone = Some(PhoneApp::start(
            sim.app_config.clone(),
            durable,
            sim.utc_us(),
        ));
        // Bonded and connected at t = 0.
        sim.link.connect_now(0);
        let evs = sim.link.idle_doom(0);
        sim.schedule_link(evs);
        sim.drain_button();
        sim.drain_phone();
        sim.note(Layer::Link, "connected".into());
        sim.give_button(Input::Connected);
        sim.give_phone_gatt(GattEvent::Connected(button_addr));
        if !sim.platform.network {
            // The platform reports the network state to a starting app.
            sim.give_phone(phone::Input::Network { available: false });
        }
        Ok(sim)
    }

    /// Virtual time now.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// The scenario seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Phone UTC time now (µs).
    pub fn utc_us(&self) -> u64 {
        EPOCH_UTC_MS * 1000 + self.now
    }

    /// The app's configuration.
    pub fn app_config(&self) -> &AppConfig {
        &self.app_config
    }

    /// The button firmware, when powered.
    pub fn button(&self) -> Option<&Button> {
        self.button.as_ref()
    }

    /// The app, when running.
    pub fn phone(&self) -> Option<&PhoneApp> {
        self.phone.as_ref()
    }

    /// The app's durable state (from the running app, or from storage while it restarts).
    pub fn durable(&self) -> Durable {
        match &self.phone {
            Some(p) => p.durable().clone(),
            None => self
                .platform
                .storage
                .as_deref()
                .and_then(|b| Durable::from_bytes(b).ok())
                .unwrap_or_default(),
        }
    }

    fn note(&mut self, layer: Layer, text: String) {
        let t = self.now;
        match layer {
            Layer::Link if text == "connected" => self.series.link.push((t, true)),
            Layer::Link if text.contains("lost") || text.contains("closed") => {
                self.series.link.push((t, false))
            }
            Layer::Harness if !text.starts_with("scenario seed") => {
                self.series.markers.push((t, "fault", text.clone()))
            }
            Layer::Phone if text.starts_with("rejected") => {
                self.series.markers.push((t, "rejected", text.clone()))
            }
            _ => {}
        }
        self.timeline.push(t, layer, text);
    }

    fn mark(&mut self, kind: &'static str, detail: String) {
        self.series.markers.push((self.now, kind, detail));
    }

    // ---- the run loop -----------------------------------------------------------------

    fn next_due(&self) -> Option<Micros> {
        let (b, p) = self.due_cache;
        [self.sched.peek_time(), b, p].into_iter().flatten().min()
    }

    /// Recompute the button's and the phone's next deadlines. Called after every
    /// interaction with either (`drain_*`) and at the end of every step, so the cache
    /// is never older than the last change.
    fn refresh_due(&mut self) {
        let b = self.button.as_ref().and_then(|b| b.poll_timeout());
        let p = self
            .phone
            .as_ref()
            .and_then(|p| p.poll_timeout())
            .map(|u| self.virt(u));
        self.due_cache = (b, p);
    }

    fn virt(&self, utc_us: u64) -> Micros {
        utc_us.saturating_sub(EPOCH_UTC_MS * 1000)
    }

    /// Process one due instant at or before `until`; false when there is none.
    fn step(&mut self, until: Micros) -> bool {
        self.horizon = until;
        let Some(t) = self.next_due().filter(|&t| t <= until) else {
            return false;
        };
        self.now = self.now.max(t);
        while let Some((_, ev)) = self.sched.pop_due(self.now) {
            self.process(ev);
        }
        if self
            .button
            .as_ref()
            .and_then(|b| b.poll_timeout())
            .is_some_and(|d| d <= self.now)
        {
            if let Some(b) = self.button.as_mut() {
                b.handle_timeout(self.now);
            }
            self.drain_button();
        }
        let utc = self.utc_us();
        if self
            .phone
            .as_ref()
            .and_then(|p| p.poll_timeout())
            .is_some_and(|d| d <= utc)
        {
            if let Some(p) = self.phone.as_mut() {
                p.handle_timeout(utc);
            }
            self.drain_phone();
        }
        self.refresh_due();
        true
    }

    /// Let time pass until `t` (everything due up to and including `t` happens).
    pub fn run_until(&mut self, t: Micros) {
        while self.step(t) {}
        self.now = self.now.max(t);
    }

    /// Let time pass for `d`.
    pub fn advance(&mut self, d: Micros) {
        self.run_until(self.now + d);
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
        self.now = self.now.max(deadline);
        cond(self)
    }

    // ---- wearer and harness actions --------------------------------------------------

    /// Schedule a raw contact edge.
    pub fn edge_at(&mut self, at: Micros, down: bool) {
        self.sched.at(at, Ev::Edge { down });
    }

    /// The link goes down now for `dur`.
    pub fn outage(&mut self, dur: Micros) {
        self.note(
            Layer::Harness,
            format!("BLE link lost for {} s", fmt_s(dur)),
        );
        let evs = self.link.start_outage(self.now, dur);
        self.schedule_link(evs);
    }

    /// Packet loss rate (%).
    pub fn set_loss_pct(&mut self, pct: f64) {
        let evs = self.link.set_loss(self.now, pct / 100.0);
        self.schedule_link(evs);
        let evs = self.link.discover(self.now, &mut self.radio);
        self.schedule_link(evs);
    }

    /// Distance between button and phone (m).
    pub fn set_distance(&mut self, m: f64) {
        self.note(Layer::Harness, format!("button {m} m from the phone"));
        let evs = self.link.set_distance(self.now, m);
        self.schedule_link(evs);
        let evs = self.link.discover(self.now, &mut self.radio);
        self.schedule_link(evs);
    }

    /// Bluetooth on the phone on or off.
    pub fn phone_bluetooth(&mut self, on: bool) {
        self.note(
            Layer::Harness,
            format!(
                "Bluetooth turned {} on the phone",
                if on { "on" } else { "off" }
            ),
        );
        let evs = self.link.set_phone_radio(self.now, on, &mut self.radio);
        self.schedule_link(evs);
        if !on {
            self.connection_closed_by_phone();
        }
        self.give_phone_gatt(GattEvent::Power(on));
    }

    /// Phone-side end of the connection: the button hears it at the next connection event.
    fn connection_closed_by_phone(&mut self) {
        if let Some(conn) = self.link.drop_conn() {
            self.note(Layer::Link, "connection closed by the phone".into());
            let at = self.now + u64::from(self.link.params.conn_interval_ms) * MILLI;
            self.sched.at(
                at,
                Ev::ToButton {
                    conn: 0,
                    input: Input::Disconnected,
                    write_id: None,
                },
            );
            let _ = conn;
        }
    }

    /// The phone app is killed now and starts again shortly after.
    pub fn restart_app(&mut self) {
        self.note(Layer::Harness, "phone app restarts".into());
        if self.phone.take().is_some() {
            self.connection_closed_by_phone();
            let evs = self.link.set_scanning(self.now, false, &mut self.radio);
            self.schedule_link(evs);
            self.sched.at(self.now + APP_RESTART_US, Ev::PhoneStart);
        }
    }

    /// The button resets now (flash survives) and boots shortly after.
    pub fn reset_button(&mut self) {
        self.note(Layer::Harness, "button resets".into());
        if self.button.as_ref().is_some_and(Button::is_dead) {
            // A browned-out button stays off until its cell is replaced.
            return;
        }
        if let Some(b) = self.button.take() {
            self.off = Some(b.into_parts());
            self.link.stop_advertising();
            // The phone notices through the supervision timeout.
            if let Some(conn) = self.link.conn_id() {
                let at = self.now + u64::from(self.link.params.supervision_timeout_ms) * MILLI;
                self.silence_button_side(conn, at);
            }
            self.sched.at(self.now + BOOT_US, Ev::ButtonBoot);
        }
    }

    fn silence_button_side(&mut self, conn: u64, at: Micros) {
        // A connection whose peripheral went silent is lost at `at` for the phone.
        self.sched.at(
            at,
            Ev::ToPhone {
                conn,
                ev: GattEvent::Disconnected(self.button_addr.clone()),
                confirm: false,
            },
        );
    }

    /// Cellular network comes back (or goes).
    pub fn set_network(&mut self, on: bool) {
        self.platform.network = on;
        self.note(
            Layer::Platform,
            format!("cellular network {}", if on { "available" } else { "lost" }),
        );
        self.give_phone(phone::Input::Network { available: on });
    }

    /// The GPS gets a fix.
    pub fn gps_fix(&mut self, lat: f64, lon: f64) {
        self.platform.fix = Some((lat, lon));
        self.note(Layer::Platform, format!("GPS fix {lat:.6}, {lon:.6}"));
        if self.platform.location_pending {
            self.platform.location_pending = false;
            if let Some(f) = self.platform.current_fix(self.utc_us() / 1000) {
                self.give_phone(phone::Input::Location(f));
            }
        }
    }

    /// The GPS loses its fix.
    pub fn gps_lost(&mut self) {
        self.platform.fix = None;
    }

    /// The wearer presses "cancel" on the phone.
    pub fn user_cancel(&mut self) {
        self.note(Layer::Wearer, "cancels on the phone".into());
        self.give_phone(phone::Input::UserCancel);
    }

    /// Deliver a GATT event to the phone as if from the air, now (attacks, strangers).
    pub fn inject_to_phone(&mut self, ev: GattEvent) {
        self.sched.at(self.now, Ev::Inject(ev));
    }

    // ---- trace replay ----------------------------------------------------------------

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
        self.note(Layer::Wearer, format!("trace {name} starts"));
        self.replay_error = None;
        self.replay = Some(Replay {
            name,
            reader,
            start: self.now,
            pending: None,
            resampler: Resampler::new(&self.profile.accel),
            recent: VecDeque::new(),
            records: 0,
            last_t: self.now,
        });
        self.sched.at(self.now, Ev::TraceNext);
    }

    /// Whether a trace is still being replayed.
    pub fn replay_active(&self) -> bool {
        self.replay.is_some()
    }

    fn trace_next(&mut self) {
        let Some(mut r) = self.replay.take() else {
            return;
        };
        loop {
            if let Some(rec) = r.pending.take() {
                r.records += 1;
                r.last_t = self.now;
                match rec.kind {
                    RecordKind::Accel(g) => {
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
                        for &mg in out.iter().take(n) {
                            self.accel_sample(mg);
                        }
                        for mg in extra {
                            self.accel_sample(mg);
                        }
                    }
                    RecordKind::Button { down } => self.give_button(Input::Edge { down }),
                    RecordKind::BatteryMv(mv) => {
                        if let Some(b) = self.button.as_mut() {
                            let soc = b.profile().cell.soc_percent_for_ocv(f64::from(mv));
                            b.set_cell_soc(self.now, soc);
                        }
                        self.drain_button();
                    }
                }
            }
            match r.reader.next() {
                Some(Ok(rec)) => {
                    let at = (r.start + rec.t_us).max(self.now);
                    r.pending = Some(rec);
                    // Nothing else due before the next record, and within this run:
                    // take it now rather than through the queue (same order, same times).
                    if at <= self.horizon && self.next_due().is_none_or(|d| d > at) {
                        self.now = at;
                        continue;
                    }
                    self.sched.at(at, Ev::TraceNext);
                    self.replay = Some(r);
                }
                Some(Err(e)) => {
                    self.note(
                        Layer::Harness,
                        format!(
                            "trace {} unreadable after {} records: {e}",
                            r.name, r.records
                        ),
                    );
                    self.replay_error = Some(e);
                    self.hold_posture(&r);
                }
                None => {
                    self.note(
                        Layer::Wearer,
                        format!("trace {} ends ({} records)", r.name, r.records),
                    );
                    self.hold_posture(&r);
                }
            }
            return;
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
        let mut one = Resampler::new(&self.profile.accel);
        let mut mg = [0i16; 3];
        one.push_with(0, mean, |_, s| mg = s);
        let f = &self.profile.fall;
        let hold_ms = u64::from(f.settle_ms) + u64::from(f.still_window_ms) + 1_000;
        let left = (hold_ms * u64::from(self.profile.accel.odr_hz) / 1_000).max(1) as u32;
        let period = self.profile.accel.period_us();
        self.sched.at(self.now + period, Ev::AccelHold { mg, left });
    }

    fn accel_sample(&mut self, mg: [i16; 3]) {
        if let Some(log) = self.accel_log.as_mut() {
            log.push((self.now, mg));
        }
        if let Some(b) = self.button.as_mut() {
            b.handle(self.now, Input::Accel(mg));
            // A sample that changed nothing observable (the usual case) needs no drain:
            // the button's deadlines only move when it queues an event, which is an action.
            if b.has_actions() {
                self.drain_button();
            }
        }
    }

    // ---- plumbing --------------------------------------------------------------------

    fn schedule_link(&mut self, evs: Vec<(Micros, LinkEv)>) {
        for (t, e) in evs {
            self.sched.at(t, Ev::Link(e));
        }
    }

    fn give_button(&mut self, input: Input) {
        if let Some(b) = self.button.as_mut() {
            b.handle(self.now, input);
        }
        self.drain_button();
    }

    fn give_phone_gatt(&mut self, ev: GattEvent) {
        self.give_phone(phone::Input::Gatt(ev));
    }

    fn give_phone(&mut self, input: phone::Input) {
        let utc = self.utc_us();
        match self.phone.as_mut() {
            Some(p) => p.handle(utc, input),
            // The OS keeps platform callbacks for an app that is restarting and hands
            // them over when it starts (GATT events are gone with the connection).
            None if !matches!(input, phone::Input::Gatt(_)) => self.held.push(input),
            None => {}
        }
        self.drain_phone();
    }

    fn process(&mut self, ev: Ev) {
        match ev {
            Ev::Edge { down } => {
                if self.button.is_some() {
                    self.give_button(Input::Edge { down });
                }
            }
            Ev::Link(le) => self.on_link_event(le),
            Ev::ToPhone { conn, ev, confirm } => {
                let alive = conn == 0 || self.link.conn_id() == Some(conn);
                if !alive {
                    return;
                }
                if let GattEvent::Disconnected(_) = &ev {
                    // The peripheral went silent: the link is lost for the phone.
                    if self.link.conn_id() == Some(conn) {
                        self.link.drop_conn();
                        self.note(Layer::Link, "supervision timeout: link lost".into());
                        self.give_phone_gatt(ev);
                        let evs = self.link.discover(self.now, &mut self.radio);
                        self.schedule_link(evs);
                    }
                    return;
                }
                if self.link.in_outage(self.now) {
                    // Retransmitted by the link layer after the outage, if it survives.
                    self.send_to_phone(ev, confirm);
                    return;
                }
                if let GattEvent::WriteDone { .. } = &ev {
                    self.link.record(self.now, Dir::ToPhone, vec![0x13]);
                }
                if let GattEvent::Value { char, value, .. } = &ev {
                    let handle = characteristic(*char).map_or(0, |c| c.value_handle);
                    let op = if confirm { 0x1d } else { 0x1b };
                    self.link
                        .record(self.now, Dir::ToPhone, att(op, handle, value));
                }
                self.give_phone_gatt(ev);
                if confirm {
                    // ATT Handle Value Confirmation back to the button.
                    self.send_to_button(Input::IndicationConfirmed, None);
                }
            }
            Ev::ToButton {
                conn,
                input,
                write_id,
            } => {
                let alive = conn == 0 || self.link.conn_id() == Some(conn);
                if !alive || self.button.is_none() {
                    return;
                }
                if conn != 0 && self.link.in_outage(self.now) {
                    // Retransmitted by the link layer after the outage, if it survives.
                    self.send_to_button(input, write_id);
                    return;
                }
                if input == Input::IndicationConfirmed {
                    self.link.record(self.now, Dir::ToButton, vec![0x1e]);
                }
                if let Input::Write { char, value } = &input {
                    let handle = characteristic(*char).map_or(0, |c| c.value_handle);
                    self.link
                        .record(self.now, Dir::ToButton, att(0x12, handle, value));
                }
                self.give_button(input);
                if let Some(id) = write_id {
                    // ATT Write Response back to the phone.
                    self.send_to_phone(GattEvent::WriteDone { id, ok: true }, false);
                }
            }
            Ev::Platform(pe) => self.on_platform_event(pe),
            Ev::ButtonBoot => {
                if let Some((flash, battery)) = self.off.take() {
                    self.button =
                        Some(Button::boot(self.profile.clone(), flash, battery, self.now));
                    self.drain_button();
                }
            }
            Ev::PhoneStart => {
                let durable = self
                    .platform
                    .storage
                    .as_deref()
                    .map(Durable::from_bytes)
                    .transpose()
                    .unwrap_or_default()
                    .unwrap_or_default();
                self.phone = Some(PhoneApp::start(
                    self.app_config.clone(),
                    durable,
                    self.utc_us(),
                ));
                self.drain_phone();
                for input in std::mem::take(&mut self.held) {
                    self.give_phone(input);
                }
                if !self.link.phone_radio() {
                    self.give_phone_gatt(GattEvent::Power(false));
                }
                if !self.platform.network {
                    self.give_phone(phone::Input::Network { available: false });
                }
            }
            Ev::Inject(ev) => self.give_phone_gatt(ev),
            Ev::TraceNext => self.trace_next(),
            Ev::AccelHold { mg, left } => {
                self.accel_sample(mg);
                if left > 1 {
                    let period = self.profile.accel.period_us();
                    self.sched
                        .at(self.now + period, Ev::AccelHold { mg, left: left - 1 });
                }
            }
        }
    }

    fn on_link_event(&mut self, le: LinkEv) {
        match le {
            LinkEv::AdvSeen { gen } => {
                if self.link.current_gen(gen) && self.phone.is_some() {
                    let rssi = rssi_from_distance(self.link.distance());
                    self.give_phone_gatt(GattEvent::Discovered {
                        device: self.button_addr.clone(),
                        rssi,
                    });
                }
            }
            LinkEv::Established { gen } => {
                if !self.link.current_request(gen) || self.phone.is_none() {
                    return;
                }
                match self.link.establish(self.now) {
                    Some(_) => {
                        self.note(Layer::Link, "connected".into());
                        self.give_button(Input::Connected);
                        self.give_phone_gatt(GattEvent::Connected(self.button_addr.clone()));
                    }
                    None => {
                        self.note(Layer::Link, "connection attempt failed".into());
                        self.give_phone_gatt(GattEvent::Disconnected(self.button_addr.clone()));
                        let evs = self.link.discover(self.now, &mut self.radio);
                        self.schedule_link(evs);
                    }
                }
            }
            LinkEv::Supervision { conn } => {
                if self.link.supervision_lost(self.now, conn) {
                    self.link.drop_conn();
                    self.note(Layer::Link, "supervision timeout: link lost".into());
                    self.give_button(Input::Disconnected);
                    self.give_phone_gatt(GattEvent::Disconnected(self.button_addr.clone()));
                    let evs = self.link.discover(self.now, &mut self.radio);
                    self.schedule_link(evs);
                }
            }
            LinkEv::OutageEnd => {
                self.note(Layer::Link, "radio path clear".into());
                let evs = self.link.outage_end(self.now, &mut self.radio);
                self.schedule_link(evs);
            }
        }
    }

    fn send_to_phone(&mut self, ev: GattEvent, confirm: bool) {
        let (at, evs) = self.link.transmit(self.now, Dir::ToPhone, &mut self.radio);
        self.schedule_link(evs);
        if let (Some(at), Some(conn)) = (at, self.link.conn_id()) {
            self.sched.at(at, Ev::ToPhone { conn, ev, confirm });
        }
    }

    fn send_to_button(&mut self, input: Input, write_id: Option<u64>) {
        let (at, evs) = self.link.transmit(self.now, Dir::ToButton, &mut self.radio);
        self.schedule_link(evs);
        if let (Some(at), Some(conn)) = (at, self.link.conn_id()) {
            self.sched.at(
                at,
                Ev::ToButton {
                    conn,
                    input,
                    write_id,
                },
            );
        }
    }

    fn drain_button(&mut self) {
        while let Some(a) = self.button.as_mut().and_then(|b| b.poll_action()) {
            match a {
                Action::Advertise { interval_ms } => {
                    self.note(Layer::Button, format!("advertising every {interval_ms} ms"));
                    let evs = self
                        .link
                        .set_advertising(self.now, interval_ms, &mut self.radio);
                    self.schedule_link(evs);
                }
                Action::Indicate { char, value } => {
                    if char == EVENT_CHAR {
                        self.last_air_event = Some(value.clone());
                    }
                    let device = self.button_addr.clone();
                    self.send_to_phone(
                        GattEvent::Value {
                            device,
                            char,
                            value,
                        },
                        true,
                    );
                }
                Action::Notify { char, value } => {
                    let device = self.button_addr.clone();
                    self.send_to_phone(
                        GattEvent::Value {
                            device,
                            char,
                            value,
                        },
                        false,
                    );
                }
                Action::Vibrate { pattern, on_ms } => {
                    self.vibrations.push((self.now, pattern));
                    self.note(
                        Layer::Button,
                        format!("vibrates {} ({on_ms} ms)", pattern.name()),
                    );
                }
                Action::BrownOut => {
                    // The button is gone: it stops advertising; the phone notices through
                    // the supervision timeout.
                    self.link.stop_advertising();
                    if let Some(conn) = self.link.conn_id() {
                        let at =
                            self.now + u64::from(self.link.params.supervision_timeout_ms) * MILLI;
                        self.silence_button_side(conn, at);
                    }
                }
                Action::Log(e) => {
                    match &e {
                        DeviceEvent::BatteryLevel(l) => self.series.battery.push((self.now, *l)),
                        DeviceEvent::Gesture(g) => {
                            self.mark("gesture", g.event_kind().name().into())
                        }
                        DeviceEvent::Queued { seq, kind } => {
                            self.series.queued.push((self.now, *seq, kind.name()))
                        }
                        DeviceEvent::Fall { peak_mg, .. } => {
                            self.mark("fall", format!("{peak_mg} mg"))
                        }
                        _ => {}
                    }
                    let text = describe(&e);
                    self.note(Layer::Button, text);
                }
            }
        }
        self.refresh_due();
    }

    fn drain_phone(&mut self) {
        while let Some(c) = self.phone.as_mut().and_then(|p| p.poll_command()) {
            self.exec(c);
        }
        self.refresh_due();
    }

    fn exec(&mut self, c: Command) {
        if let Command::Note(phone::AppNote::EventReceived { seq, .. }) = &c {
            self.series.received.push((self.now, *seq));
        }
        match &c {
            Command::SendSms { to, .. } => self.mark("sms", to.clone()),
            Command::Dial { to, .. } => self.mark("call", to.clone()),
            Command::Siren { on, .. } => self.mark("siren", if *on { "on" } else { "off" }.into()),
            Command::StartRecording { .. } => self.mark("recording", "start".into()),
            Command::StopRecording { .. } => self.mark("recording", "stop".into()),
            Command::CountdownAlarm { on: true, .. } => self.mark("countdown", "start".into()),
            Command::Warn(w) => self.mark("warning", format!("{w:?}")),
            _ => {}
        }
        let now = self.now;
        let p = self.platform.params.clone();
        match c {
            Command::Gatt(g) => self.exec_gatt(g),
            Command::SendSms { id, to, text } => {
                let ok = self.platform.network;
                if ok {
                    let sms = Sms {
                        t_us: now,
                        to: to.clone(),
                        text: text.clone(),
                    };
                    self.platform.sms_sent.push(sms.clone());
                    self.note(Layer::Platform, format!("SMS to {to}: {text}"));
                    self.sched.at(
                        now + p.sms_delivery_us,
                        Ev::Platform(PlatformEv::SmsDelivered(sms)),
                    );
                } else {
                    self.platform.sms_refused += 1;
                    self.note(Layer::Platform, format!("SMS to {to} refused: no network"));
                }
                self.sched.at(
                    now + p.sms_ack_us,
                    Ev::Platform(PlatformEv::SmsResult { id, ok }),
                );
            }
            Command::Dial { id, to, .. } => {
                self.note(Layer::Platform, format!("dialling {to}"));
                self.platform.calls.push(CallRecord {
                    t_us: now,
                    to: to.clone(),
                    id,
                    state: "dialling".into(),
                });
                if !self.platform.network {
                    self.sched.at(
                        now + SECOND,
                        Ev::Platform(PlatformEv::Call {
                            id,
                            update: CallUpdate::Failed,
                        }),
                    );
                    return;
                }
                match self.platform.answering(&to) {
                    Answering::Busy => {
                        self.sched.at(
                            now + SECOND,
                            Ev::Platform(PlatformEv::Call {
                                id,
                                update: CallUpdate::Busy,
                            }),
                        );
                    }
                    Answering::Never => {
                        self.sched.at(
                            now + SECOND,
                            Ev::Platform(PlatformEv::Call {
                                id,
                                update: CallUpdate::Ringing,
                            }),
                        );
                    }
                    Answering::After(s) => {
                        let ans = now + SECOND + (s * 1e6) as Micros;
                        self.sched.at(
                            now + SECOND,
                            Ev::Platform(PlatformEv::Call {
                                id,
                                update: CallUpdate::Ringing,
                            }),
                        );
                        self.sched.at(
                            ans,
                            Ev::Platform(PlatformEv::Call {
                                id,
                                update: CallUpdate::Answered,
                            }),
                        );
                        self.sched.at(
                            ans + 2 * SECOND,
                            Ev::Platform(PlatformEv::ContactJoins { who: to.clone() }),
                        );
                        self.sched.at(
                            ans + p.call_length_us,
                            Ev::Platform(PlatformEv::Call {
                                id,
                                update: CallUpdate::Ended,
                            }),
                        );
                    }
                }
            }
            Command::HangUp { id } => {
                self.platform.set_call_state(id, "hung up");
                self.note(Layer::Platform, format!("call {id} hung up"));
            }
            Command::JoinConference {
                url,
                mic_on,
                speaker_muted,
            } => {
                self.platform.conference.push((now, "wearer".into()));
                self.note(
                    Layer::Platform,
                    format!(
                        "wearer joins {url} (mic {}, speaker {})",
                        on_off(mic_on),
                        if speaker_muted { "muted" } else { "on" }
                    ),
                );
            }
            Command::RequestLocation => match self.platform.current_fix(self.utc_us() / 1000) {
                Some(f) => self.sched.at(now, Ev::Platform(PlatformEv::Location(f))),
                None => self.platform.location_pending = true,
            },
            Command::Siren {
                on,
                volume_pct,
                override_silent,
            } => {
                self.platform.siren_on = on;
                self.platform.siren_ever |= on;
                self.note(
                    Layer::Platform,
                    if on {
                        format!(
                            "siren on at {volume_pct} %{}",
                            if override_silent {
                                ", overriding silent mode"
                            } else {
                                ""
                            }
                        )
                    } else {
                        "siren off".into()
                    },
                );
            }
            Command::StartRecording { id, button_mic } => {
                self.platform.recordings.push(RecorderRun {
                    id,
                    start_us: now,
                    end_us: None,
                });
                self.note(
                    Layer::Platform,
                    format!(
                        "recording {id} started (phone mic{})",
                        if button_mic { " + button mic" } else { "" }
                    ),
                );
            }
            Command::StopRecording { id } => {
                if let Some(r) = self
                    .platform
                    .recordings
                    .iter_mut()
                    .find(|r| r.id == id && r.end_us.is_none())
                {
                    r.end_us = Some(now);
                    let dur_us = now - r.start_us;
                    self.note(
                        Layer::Platform,
                        format!("recording {id} stopped after {} s", fmt_s(dur_us)),
                    );
                    self.sched.at(
                        now,
                        Ev::Platform(PlatformEv::RecordingStopped { id, dur_us }),
                    );
                }
            }
            Command::CountdownAlarm { on, seconds } => {
                if on && !self.platform.countdown_on {
                    self.platform.countdowns_started += 1;
                }
                self.platform.countdown_on = on;
                self.note(
                    Layer::Platform,
                    if on {
                        format!("fall countdown alarm ({seconds} s)")
                    } else {
                        "fall countdown alarm off".into()
                    },
                );
            }
            Command::Warn(w) => {
                self.platform.warnings.push((now, w));
                self.note(Layer::Platform, format!("warning shown: {w:?}"));
            }
            Command::Persist(bytes) => self.platform.storage = Some(bytes),
            Command::Note(n) => self.note(Layer::Phone, n.to_string()),
        }
    }

    fn exec_gatt(&mut self, g: GattCommand) {
        match g {
            GattCommand::StartScan => {
                let evs = self.link.set_scanning(self.now, true, &mut self.radio);
                self.schedule_link(evs);
            }
            GattCommand::StopScan => {
                let evs = self.link.set_scanning(self.now, false, &mut self.radio);
                self.schedule_link(evs);
            }
            GattCommand::Connect(d) => {
                if d == self.button_addr {
                    self.note(Layer::Link, "phone connects".into());
                    let evs = self.link.request_connection(self.now);
                    self.schedule_link(evs);
                }
            }
            GattCommand::Subscribe { char, .. } => {
                // CCCD write: indications (0x0002) or notifications (0x0001).
                if let Some(c) = characteristic(char) {
                    let v: [u8; 2] = if c.props.indicate { [2, 0] } else { [1, 0] };
                    let _ = CCCD;
                    self.link
                        .record(self.now, Dir::ToButton, att(0x12, c.value_handle + 1, &v));
                }
            }
            GattCommand::Write {
                char, value, id, ..
            } => {
                self.send_to_button(Input::Write { char, value }, Some(id));
            }
            GattCommand::Disconnect(d) => {
                if d == self.button_addr {
                    self.connection_closed_by_phone();
                }
            }
        }
    }

    fn on_platform_event(&mut self, pe: PlatformEv) {
        match pe {
            PlatformEv::SmsResult { id, ok } => self.give_phone(phone::Input::SmsResult { id, ok }),
            PlatformEv::SmsDelivered(sms) => {
                self.note(Layer::Platform, format!("SMS delivered to {}", sms.to));
                self.platform.sms_delivered.push(Sms {
                    t_us: self.now,
                    ..sms
                });
            }
            PlatformEv::Call { id, update } => {
                if matches!(
                    self.platform.call_state(id),
                    Some("hung up") | Some("ended")
                ) {
                    return;
                }
                let state = match update {
                    CallUpdate::Ringing => "ringing",
                    CallUpdate::Answered => "answered",
                    CallUpdate::Busy => "busy",
                    CallUpdate::Ended => "ended",
                    CallUpdate::Failed => "failed",
                };
                self.platform.set_call_state(id, state);
                self.note(Layer::Platform, format!("call {id} {state}"));
                self.give_phone(phone::Input::Call { id, update });
            }
            PlatformEv::ContactJoins { who } => {
                if self.platform.call_state_by_number(&who) {
                    self.platform.conference.push((self.now, who.clone()));
                    self.note(Layer::Platform, format!("{who} joins the conference"));
                }
            }
            PlatformEv::Location(f) => self.give_phone(phone::Input::Location(f)),
            PlatformEv::RecordingStopped { id, dur_us } => {
                let n = (self.platform.params.audio_bytes_per_s * dur_us / SECOND) as usize;
                let mut content = vec![0u8; n];
                self.platform_rng.fill(&mut content);
                self.give_phone(phone::Input::RecordingStopped { id, content });
            }
        }
    }

    /// Sixteen random bytes from the platform stream (keys of strangers).
    pub fn random_key(&mut self) -> [u8; 16] {
        self.platform_rng.bytes()
    }

    /// Raw event frame of the last alert the button sent, as an attacker recorded it.
    pub fn captured_event(&self) -> Option<&[u8]> {
        self.last_air_event.as_deref()
    }

    /// The bonded button's address.
    pub fn button_addr(&self) -> &DeviceId {
        &self.button_addr
    }

    /// Characteristic the attacker writes to.
    pub fn event_char(&self) -> Uuid {
        EVENT_CHAR
    }

    /// Decode a frame without verifying (for attack steps).
    pub fn decode_frame(bytes: &[u8]) -> Option<EventFrame> {
        EventFrame::decode(bytes).ok().map(|(f, _, _)| f)
    }
}

impl Platform {
    /// Whether the latest call to `number` is answered (so its callee can join).
    pub fn call_state_by_number(&self, number: &str) -> bool {
        self.calls
            .iter()
            .rev()
            .find(|c| c.to == number)
            .is_some_and(|c| c.state == "answered")
    }
}

fn att(op: u8, handle: u16, value: &[u8]) -> Vec<u8> {
    let mut v = vec![op];
    v.extend_from_slice(&handle.to_le_bytes());
    v.extend_from_slice(value);
    v
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Seconds with up to 3 decimals, trailing zeros trimmed.
pub fn fmt_s(us: Micros) -> String {
    let s = format!("{}.{:03}", us / SECOND, us % SECOND / MILLI);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn describe(e: &DeviceEvent) -> String {
    match e {
        DeviceEvent::Booted { boots, queued } => {
            format!("booted (boot #{boots}, {queued} events queued)")
        }
        DeviceEvent::Gesture(g) => format!("gesture {}", g.event_kind().name()),
        DeviceEvent::Queued { seq, kind } => format!("event #{seq} {} queued", kind.name()),
        DeviceEvent::Dropped { seq } => format!("queue full: event #{seq} dropped"),
        DeviceEvent::Sent { seq, attempt } => format!("event #{seq} indicated (attempt {attempt})"),
        DeviceEvent::Acked { seq } => format!("event #{seq} acknowledged"),
        DeviceEvent::ClockSet { utc_ms } => format!("clock set to {}", phone::text::utc(*utc_ms)),
        DeviceEvent::Bonded => "bonded".into(),
        DeviceEvent::Fall { peak_mg, tilt_deg } => {
            format!("FALL detected (peak {peak_mg} mg, tilt {tilt_deg}°)")
        }
        DeviceEvent::BatteryLevel(l) => format!("battery level {l} %"),
        DeviceEvent::BrownOut { during } => format!("BROWN-OUT during {during}: the button is off"),
        DeviceEvent::Refused { reason } => format!("refused: {reason}"),
    }
}
