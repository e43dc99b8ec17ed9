//! [`ButtonHost`]: the simulated button (the device model's firmware) hosted as a BLE
//! peripheral, its timers, presses and trace records in the world's scheduler
//! ([`sim_world::sched::Scheduler`]) run in real-time mode ([`Scheduler::next_paced`]):
//! each event fires when the wall clock reaches it, and how late it fired is kept
//! ([`Lateness`]).
//!
//! The radio side is a [`Peripheral`] port (BlueZ through `bluer` with the `hil` feature,
//! a recorder in the tests): advertising, values sent to the subscribed central, write
//! responses, dropping the link. Inputs come from the port (connections and writes) and
//! from the control channel ([`Control`]), through the wall clock's inbox ([`Wall`]).

use device_model::button::Flash;
use device_model::power::Battery;
use device_model::{Action, Button, DeviceProfile, Input};
use protocol::{BondKey, Uuid};
use sim_world::hand::{Hand, HandModel};
use sim_world::rng::{Component, Stream};
use sim_world::sched::{Lateness, Micros, Pace, Paced, Scheduler, MILLI};
use sim_world::trace::{Record, RecordKind, TraceError, TraceReader};

use super::control::Control;

/// How long the button takes to reboot (the simulator's figure).
const REBOOT_US: Micros = 200 * MILLI;

/// What the central can read from the button now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadState {
    /// Battery Level (percent).
    pub battery_pct: u8,
    /// Events waiting in flash for the phone's acknowledgement.
    pub queued: u16,
    /// Next sequence number.
    pub seq_next: u32,
    /// Whether the firmware is running (not rebooting, not browned out).
    pub running: bool,
}

impl ReadState {
    /// The test service's state characteristic: queue length (u16) and next sequence
    /// number (u32), little-endian.
    pub fn test_state_bytes(&self) -> Vec<u8> {
        let mut v = self.queued.to_le_bytes().to_vec();
        v.extend_from_slice(&self.seq_next.to_le_bytes());
        v
    }
}

/// The radio side of the hosted button.
pub trait Peripheral {
    /// Advertise the Alert service (connectable) at about this interval.
    fn advertise(&mut self, interval_ms: u32);
    /// Stop advertising (a central connected, or the button is off).
    fn stop_advertising(&mut self);
    /// Send `value` of `char` to the subscribed central, as an indication or a
    /// notification (the firmware's choice).
    fn send(&mut self, char: Uuid, value: Vec<u8>, indicate: bool);
    /// Answer the central's write `id`: accepted, or refused by the service.
    fn answer_write(&mut self, id: u64, ok: bool);
    /// Drop the connection (the button reset).
    fn disconnect(&mut self);
    /// What reads answer from now on.
    fn state(&mut self, state: ReadState);
    /// A line for the operator.
    fn log(&mut self, at_us: Micros, line: String);
}

/// An input from the port or the control channel.
#[derive(Clone, Debug, PartialEq)]
pub enum HostInput {
    /// A control command.
    Control(Control),
    /// A central connected.
    Connected,
    /// The central disconnected.
    Disconnected,
    /// The central wrote `value` to `char`; answer with [`Peripheral::answer_write`].
    Write {
        /// Id of the answer.
        id: u64,
        /// Characteristic.
        char: Uuid,
        /// Bytes.
        value: Vec<u8>,
    },
    /// The service was told to stop (a signal).
    Stop,
}

/// The wall clock of `sim hil serve`: a [`Pace`] whose waits end early when inputs
/// arrive, and the inbox they arrive in.
pub trait Wall: Pace {
    /// The inputs that arrived since the last call.
    fn take_inputs(&mut self) -> Vec<HostInput>;
}

/// How the button is set up.
#[derive(Debug)]
pub struct ServeOptions {
    /// The bond the button holds.
    pub key: BondKey,
    /// Its firmware profile (the test firmware exposes the Test service).
    pub profile: DeviceProfile,
    /// Seed of the hand model and of the button's entropy.
    pub seed: u64,
    /// Initial state of charge of the cell (percent).
    pub battery_pct: f64,
    /// A trace to replay from the start (accelerometer, button edges, battery).
    pub trace: Option<TraceReader>,
    /// Refuse every write from the start (a fault of the rig; `refuse-writes` toggles).
    pub refuse_writes: bool,
}

/// Counts of a serve run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Indications sent.
    pub indications: u64,
    /// Notifications sent.
    pub notifications: u64,
    /// Writes accepted.
    pub writes: u64,
    /// Writes refused by the service.
    pub refused_writes: u64,
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The trace could not be read (file, line, column).
    #[error("trace: {0}")]
    Trace(TraceError),
}

#[derive(Debug)]
enum Ev {
    /// The firmware's next deadline.
    Timeout,
    /// A contact edge of a press.
    Edge(bool),
    /// The reboot after a reset is over.
    Boot,
    /// The next record of the trace is due.
    Trace,
}

/// A burst being delivered: its size, its last sequence number, when it was queued.
#[derive(Clone, Copy, Debug)]
struct Burst {
    n: u32,
    until: u32,
    start: Micros,
}

/// A trace being replayed, one record at a time.
struct Feed {
    reader: TraceReader,
    resampler: device_model::accel::Resampler,
    start: Micros,
    next: Option<Record>,
}

/// The hosted button.
pub struct ButtonHost {
    profile: DeviceProfile,
    button: Option<Button>,
    off: Option<(Flash, Battery)>,
    sched: Scheduler<Ev>,
    armed: Option<Micros>,
    hand: Hand,
    entropy: Stream,
    feed: Option<Feed>,
    connected: bool,
    refuse_writes: bool,
    stopped: bool,
    burst: Option<Burst>,
    /// Indications per second of the last burst delivered (each acknowledged).
    pub burst_rate: Option<f64>,
    /// How late each fired event was.
    pub lateness: Lateness,
    /// Counts.
    pub stats: ServeStats,
}

impl std::fmt::Debug for ButtonHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ButtonHost")
            .field("connected", &self.connected)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl ButtonHost {
    /// A button bonded with `opts.key`, booted at time zero.
    pub fn new(opts: ServeOptions) -> Self {
        let battery = Button::fresh_battery(&opts.profile, opts.battery_pct);
        let feed = opts.trace.map(|reader| Feed {
            reader,
            resampler: device_model::accel::Resampler::new(&opts.profile.accel),
            start: 0,
            next: None,
        });
        ButtonHost {
            button: None,
            off: Some((Flash::bonded(opts.key), battery)),
            sched: Scheduler::default(),
            armed: None,
            hand: Hand::new(opts.seed, HandModel::default()),
            entropy: Stream::new(opts.seed, Component::ButtonEntropy),
            feed,
            connected: false,
            refuse_writes: opts.refuse_writes,
            stopped: false,
            burst: None,
            burst_rate: None,
            lateness: Lateness::default(),
            stats: ServeStats::default(),
            profile: opts.profile,
        }
    }

    /// Serve until `quit`, a stop signal, or an unreadable trace: the paced loop.
    pub fn serve(
        &mut self,
        port: &mut dyn Peripheral,
        wall: &mut dyn Wall,
    ) -> Result<(), ServeError> {
        self.boot(0, port);
        if let Some(f) = self.feed.as_mut() {
            f.start = 0;
            self.read_next(0, port)?;
        }
        while !self.stopped {
            match self.sched.next_paced(wall) {
                Paced::Due { at, now, ev } => {
                    if self.fire(now, ev, port)? {
                        self.lateness.record(now.saturating_sub(at));
                    }
                }
                Paced::Idle { .. } => {}
            }
            let now = wall.elapsed_us();
            for input in wall.take_inputs() {
                self.input(now, input, port);
            }
            self.settle();
        }
        Ok(())
    }

    /// Handle one input at `now`.
    pub fn input(&mut self, now: Micros, input: HostInput, port: &mut dyn Peripheral) {
        match input {
            HostInput::Control(c) => self.control(now, c, port),
            HostInput::Connected => {
                self.connected = true;
                port.stop_advertising();
                port.log(now, "central connected".into());
                self.give_button(now, Input::Connected, port);
            }
            HostInput::Disconnected => {
                self.connected = false;
                port.log(now, "central disconnected".into());
                self.give_button(now, Input::Disconnected, port);
            }
            HostInput::Write { id, char, value } => {
                let ok = !self.refuse_writes && self.button.is_some();
                if ok {
                    self.stats.writes += 1;
                    self.give_button(now, Input::Write { char, value }, port);
                } else {
                    self.stats.refused_writes += 1;
                    let why = if self.refuse_writes {
                        "the service refuses writes (refuse-writes on)"
                    } else {
                        "the button is off"
                    };
                    port.log(now, format!("write to {char} refused: {why}"));
                }
                port.answer_write(id, ok);
            }
            HostInput::Stop => self.stopped = true,
        }
    }

    fn control(&mut self, now: Micros, c: Control, port: &mut dyn Peripheral) {
        port.log(now, format!("control: {c:?}"));
        match c {
            Control::Press(n) => {
                let (edges, _) = self.hand.presses(now, n);
                for (t, down) in edges {
                    self.sched.at(t, Ev::Edge(down));
                }
            }
            Control::Hold(d) => {
                let held = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                self.sched.at(now, Ev::Edge(true));
                self.sched.at(now.saturating_add(held), Ev::Edge(false));
            }
            Control::Reset => self.reset(now, port),
            Control::Battery(pct) => {
                if let Some(b) = self.button.as_mut() {
                    b.set_cell_soc(now, pct);
                }
                self.drain(now, port);
            }
            Control::RefuseWrites(on) => self.refuse_writes = on,
            Control::Burst(n) => {
                if let Some(b) = self.button.as_mut() {
                    for _ in 0..n {
                        b.enqueue(now, now, protocol::EventKind::Triple, &[]);
                    }
                    let until = b.flash().queue.seq_next().saturating_sub(1);
                    self.burst = Some(Burst {
                        n,
                        until,
                        start: now,
                    });
                    // Delivery starts at once when a phone is connected.
                    b.handle_timeout(now);
                }
                self.drain(now, port);
            }
            Control::Status => {
                let s = self.read_state(now);
                port.log(
                    now,
                    format!(
                        "status: {}, battery {}%, {} queued, next seq {}, {:?}",
                        if self.connected {
                            "connected"
                        } else {
                            "advertising"
                        },
                        s.battery_pct,
                        s.queued,
                        s.seq_next,
                        self.stats
                    ),
                );
            }
            Control::Quit => self.stopped = true,
        }
    }

    /// Fire a due event at `now`; whether it was live (a stale timer is not).
    fn fire(&mut self, now: Micros, ev: Ev, port: &mut dyn Peripheral) -> Result<bool, ServeError> {
        match ev {
            Ev::Timeout => {
                if self.armed.is_none_or(|t| t > now) {
                    return Ok(false);
                }
                self.armed = None;
                if let Some(b) = self.button.as_mut() {
                    b.handle_timeout(now);
                }
                self.drain(now, port);
            }
            Ev::Edge(down) => self.give_button(now, Input::Edge { down }, port),
            Ev::Boot => self.boot(now, port),
            Ev::Trace => self.read_next(now, port)?,
        }
        Ok(true)
    }

    fn give_button(&mut self, now: Micros, input: Input, port: &mut dyn Peripheral) {
        if let Some(b) = self.button.as_mut() {
            b.handle(now, input);
        }
        self.drain(now, port);
    }

    fn boot(&mut self, now: Micros, port: &mut dyn Peripheral) {
        if let Some((flash, battery)) = self.off.take() {
            let entropy = self.entropy.bytes();
            self.button = Some(Button::boot(
                self.profile.clone(),
                flash,
                battery,
                now,
                entropy,
            ));
            self.drain(now, port);
        }
    }

    fn reset(&mut self, now: Micros, port: &mut dyn Peripheral) {
        let Some(b) = self.button.take() else { return };
        self.off = Some(b.into_parts());
        self.armed = None;
        port.stop_advertising();
        if self.connected {
            self.connected = false;
            port.disconnect();
        }
        self.sched.at(now.saturating_add(REBOOT_US), Ev::Boot);
        port.state(self.read_state(now));
    }

    /// Feed the pending trace record (if any) and schedule the next one.
    fn read_next(&mut self, now: Micros, port: &mut dyn Peripheral) -> Result<(), ServeError> {
        let Some(feed) = self.feed.as_mut() else {
            return Ok(());
        };
        let mut inputs = Vec::new();
        if let Some(rec) = feed.next.take() {
            match rec.kind {
                RecordKind::Accel(g) => feed
                    .resampler
                    .push_with(rec.t_us, g, |_, mg| inputs.push(Input::Accel(mg))),
                RecordKind::Button { down } => inputs.push(Input::Edge { down }),
                RecordKind::BatteryMv(mv) => {
                    if let Some(b) = self.button.as_mut() {
                        let soc = b.profile().cell.soc_percent_for_ocv(f64::from(mv));
                        b.set_cell_soc(now, soc);
                    }
                }
            }
        }
        match feed.reader.next() {
            Some(Ok(rec)) => {
                self.sched
                    .at(feed.start.saturating_add(rec.t_us), Ev::Trace);
                feed.next = Some(rec);
            }
            Some(Err(e)) => return Err(ServeError::Trace(e)),
            None => {
                self.feed = None;
                port.log(now, "trace: ended".into());
            }
        }
        for i in inputs {
            if let Some(b) = self.button.as_mut() {
                b.handle(now, i);
            }
        }
        self.drain(now, port);
        Ok(())
    }

    /// Carry out the firmware's actions.
    fn drain(&mut self, now: Micros, port: &mut dyn Peripheral) {
        while let Some(a) = self.button.as_mut().and_then(Button::poll_action) {
            match a {
                Action::Advertise {
                    interval_ms,
                    address,
                } => {
                    port.log(
                        now,
                        format!("advertising every {interval_ms} ms (firmware address {address}, BlueZ uses the adapter's)"),
                    );
                    if !self.connected {
                        port.advertise(interval_ms);
                    }
                }
                Action::Indicate { char, value } => {
                    self.stats.indications += 1;
                    port.send(char, value, true);
                }
                Action::Notify { char, value } => {
                    self.stats.notifications += 1;
                    port.send(char, value, false);
                }
                Action::Vibrate { pattern, on_ms } => {
                    port.log(now, format!("vibrates {pattern:?} ({on_ms} ms)"));
                }
                Action::BrownOut => {
                    port.log(now, "browned out".into());
                    port.stop_advertising();
                }
                Action::Log(ev) => {
                    self.burst_progress(now, &ev, port);
                    port.log(now, format!("{ev:?}"));
                }
            }
        }
        port.state(self.read_state(now));
    }

    /// Schedule the firmware's next deadline if it moved.
    fn settle(&mut self) {
        let due = self.button.as_ref().and_then(Button::poll_timeout);
        if due != self.armed {
            if let Some(t) = due {
                self.sched.at(t, Ev::Timeout);
            }
            self.armed = due;
        }
    }

    /// The last event of a burst acknowledged: how fast it went.
    fn burst_progress(
        &mut self,
        now: Micros,
        ev: &device_model::DeviceEvent,
        port: &mut dyn Peripheral,
    ) {
        let Some(b) = self.burst else { return };
        if *ev == (device_model::DeviceEvent::Acked { seq: b.until }) {
            let secs = now.saturating_sub(b.start) as f64 / 1e6;
            let rate = f64::from(b.n) / secs.max(1e-6);
            port.log(
                now,
                format!(
                    "burst: {} events indicated and acknowledged in {secs:.3} s: {rate:.1} indications/s",
                    b.n
                ),
            );
            self.burst_rate = Some(rate);
            self.burst = None;
        }
    }

    fn read_state(&self, now: Micros) -> ReadState {
        match &self.button {
            Some(b) => ReadState {
                battery_pct: b.battery().level_percent(now),
                queued: u16::try_from(b.flash().queue.len()).unwrap_or(u16::MAX),
                seq_next: b.flash().queue.seq_next(),
                running: !b.is_dead(),
            },
            None => ReadState::default(),
        }
    }

    /// Whether a central is connected.
    pub fn is_connected(&self) -> bool {
        self.connected
    }
}
