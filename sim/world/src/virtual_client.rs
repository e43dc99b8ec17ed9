//! A [`GattClient`] over the simulator: a bonded button model, the virtual BLE link and
//! a scheduler in virtual time, packaged as the BLE central a phone would use.
//!
//! It exists to run the GATT-client conformance suite ([`crate::conformance`]) against
//! the same port the btleplug adapter of the `hil` feature implements, so the suite is
//! itself checked in CI. Calls enqueue work on the link exactly as
//! [`crate::simulation::Simulation`] does (set-up delay, connection-event grid, write
//! responses, indication confirmations); nothing happens until [`VirtualGattClient::pump`]
//! moves virtual time, and what the central hears then comes out of
//! [`GattClient::poll_event`]. No wall clock is read and nothing sleeps.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use device_model::{Action, Button, DeviceProfile, Flash, Input};
use phone::gatt::{DeviceId, GattClient, GattEvent};
use protocol::{BondKey, Uuid};

use crate::link::{rssi_from_distance, Dir, LinkEv, LinkParams, VirtualLink};
use crate::rng::{Component, Stream};
use crate::sched::{Micros, Scheduler};
use crate::simulation::BUTTON_ADDR;

/// Errors of the virtual central (calls it refuses outright).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VirtualClientError {
    /// The call names a device this world does not have.
    #[error("unknown device {0}")]
    UnknownDevice(DeviceId),
    /// The call needs a connection and there is none.
    #[error("not connected to {0}")]
    NotConnected(DeviceId),
}

#[derive(Clone, Debug)]
enum Ev {
    Edge {
        down: bool,
    },
    Link(LinkEv),
    ToCentral {
        conn: u64,
        ev: GattEvent,
        confirm: bool,
    },
    ToButton {
        conn: u64,
        input: Input,
        write_id: Option<u64>,
    },
}

/// The virtual BLE central and the one button it can reach.
#[derive(Debug)]
pub struct VirtualGattClient {
    now: Micros,
    sched: Scheduler<Ev>,
    radio: Stream,
    link: VirtualLink,
    button: Button,
    addr: DeviceId,
    events: VecDeque<GattEvent>,
    /// Writes sent on the current connection and not yet answered.
    pending_writes: BTreeSet<u64>,
    subscribed: BTreeSet<Uuid>,
}

impl VirtualGattClient {
    /// A world at virtual time zero: the button (default profile, test service exposed)
    /// booted from flash bonded with `key` and advertising, the central idle.
    pub fn new(key: BondKey, seed: u64) -> Self {
        Self::with_profile(DeviceProfile::default(), LinkParams::default(), key, seed)
    }

    /// Same as [`VirtualGattClient::new`] with a given firmware profile and link.
    pub fn with_profile(profile: DeviceProfile, link: LinkParams, key: BondKey, seed: u64) -> Self {
        let mut c = VirtualGattClient {
            now: 0,
            sched: Scheduler::default(),
            radio: Stream::new(seed, Component::Radio),
            link: VirtualLink::new(link),
            button: {
                let battery = Button::fresh_battery(&profile, 100.0);
                Button::boot(profile, Flash::bonded(key), battery, 0)
            },
            addr: DeviceId(BUTTON_ADDR.into()),
            events: VecDeque::new(),
            pending_writes: BTreeSet::new(),
            subscribed: BTreeSet::new(),
        };
        c.drain_button();
        c
    }

    /// The button's address.
    pub fn device(&self) -> &DeviceId {
        &self.addr
    }

    /// Virtual time now (µs).
    pub fn now(&self) -> Micros {
        self.now
    }

    /// The button model (to inspect its flash, queue, connection state).
    pub fn button(&self) -> &Button {
        &self.button
    }

    /// Characteristics the central has subscribed to on the current connection.
    pub fn subscriptions(&self) -> &BTreeSet<Uuid> {
        &self.subscribed
    }

    /// The wearer presses the button now for `press_ms` (raw edges, no bounce): the
    /// direct way, as opposed to the test service's injections.
    pub fn press(&mut self, press_ms: u64) {
        self.sched.at(self.now, Ev::Edge { down: true });
        self.sched
            .at(self.now + press_ms * 1_000, Ev::Edge { down: false });
    }

    /// Let `dur` of virtual time pass: everything due happens, in order.
    pub fn pump(&mut self, dur: Duration) {
        let until = self
            .now
            .saturating_add(u64::try_from(dur.as_micros()).unwrap_or(u64::MAX));
        loop {
            let b = self.button.poll_timeout();
            let Some(t) = [self.sched.peek_time(), b]
                .into_iter()
                .flatten()
                .min()
                .filter(|&t| t <= until)
            else {
                break;
            };
            self.now = self.now.max(t);
            while let Some((_, ev)) = self.sched.pop_due(self.now) {
                self.process(ev);
            }
            if self.button.poll_timeout().is_some_and(|d| d <= self.now) {
                self.button.handle_timeout(self.now);
                self.drain_button();
            }
        }
        self.now = self.now.max(until);
    }

    fn schedule_link(&mut self, evs: Vec<(Micros, LinkEv)>) {
        for (t, e) in evs {
            self.sched.at(t, Ev::Link(e));
        }
    }

    fn give_button(&mut self, input: Input) {
        self.button.handle(self.now, input);
        self.drain_button();
    }

    fn lost(&mut self) {
        // Every write still waiting on this connection fails.
        for id in std::mem::take(&mut self.pending_writes) {
            self.events
                .push_back(GattEvent::WriteDone { id, ok: false });
        }
        self.subscribed.clear();
        self.events
            .push_back(GattEvent::Disconnected(self.addr.clone()));
    }

    fn process(&mut self, ev: Ev) {
        match ev {
            Ev::Edge { down } => self.give_button(Input::Edge { down }),
            Ev::Link(le) => self.on_link_event(le),
            Ev::ToCentral { conn, ev, confirm } => {
                if self.link.conn_id() != Some(conn) {
                    return;
                }
                if let GattEvent::WriteDone { id, .. } = &ev {
                    self.pending_writes.remove(id);
                }
                let deliver = match &ev {
                    // Only subscribed characteristics reach the application.
                    GattEvent::Value { char, .. } => self.subscribed.contains(char),
                    _ => true,
                };
                if deliver {
                    self.events.push_back(ev);
                }
                if confirm {
                    // The central's stack confirms every indication (ATT 0x1e).
                    self.send_to_button(Input::IndicationConfirmed, None);
                }
            }
            Ev::ToButton {
                conn,
                input,
                write_id,
            } => {
                if self.link.conn_id() != Some(conn) {
                    return;
                }
                self.give_button(input);
                if let Some(id) = write_id {
                    self.send_to_central(GattEvent::WriteDone { id, ok: true }, false);
                }
            }
        }
    }

    fn on_link_event(&mut self, le: LinkEv) {
        match le {
            LinkEv::AdvSeen { gen } => {
                if self.link.current_gen(gen) {
                    let rssi = rssi_from_distance(self.link.distance());
                    self.events.push_back(GattEvent::Discovered {
                        device: self.addr.clone(),
                        rssi,
                    });
                }
            }
            LinkEv::Established { gen } => {
                if !self.link.current_request(gen) {
                    return;
                }
                match self.link.establish(self.now) {
                    Some(_) => {
                        let evs = self.link.idle_doom(self.now);
                        self.schedule_link(evs);
                        self.give_button(Input::Connected);
                        self.events
                            .push_back(GattEvent::Connected(self.addr.clone()));
                    }
                    None => {
                        self.events
                            .push_back(GattEvent::Disconnected(self.addr.clone()));
                        let evs = self.link.discover(self.now, &mut self.radio);
                        self.schedule_link(evs);
                    }
                }
            }
            LinkEv::Supervision { conn } => {
                if self.link.supervision_lost(self.now, conn) {
                    self.link.drop_conn();
                    self.give_button(Input::Disconnected);
                    self.lost();
                    let evs = self.link.discover(self.now, &mut self.radio);
                    self.schedule_link(evs);
                }
            }
            LinkEv::OutageEnd => {
                let evs = self.link.outage_end(self.now, &mut self.radio);
                self.schedule_link(evs);
            }
        }
    }

    fn send_to_central(&mut self, ev: GattEvent, confirm: bool) {
        let (at, evs) = self.link.transmit(self.now, Dir::ToPhone, &mut self.radio);
        self.schedule_link(evs);
        if let (Some(at), Some(conn)) = (at, self.link.conn_id()) {
            self.sched.at(at, Ev::ToCentral { conn, ev, confirm });
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
        while let Some(a) = self.button.poll_action() {
            match a {
                Action::Advertise { interval_ms } => {
                    let evs = self
                        .link
                        .set_advertising(self.now, interval_ms, &mut self.radio);
                    self.schedule_link(evs);
                }
                Action::Indicate { char, value } | Action::Notify { char, value } => {
                    let confirm =
                        protocol::gatt::characteristic(char).is_some_and(|c| c.props.indicate);
                    let device = self.addr.clone();
                    self.send_to_central(
                        GattEvent::Value {
                            device,
                            char,
                            value,
                        },
                        confirm,
                    );
                }
                Action::Vibrate { .. } | Action::Log(_) | Action::BrownOut => {}
            }
        }
    }

    fn check_device(&self, device: &DeviceId) -> Result<(), VirtualClientError> {
        if device == &self.addr {
            Ok(())
        } else {
            Err(VirtualClientError::UnknownDevice(device.clone()))
        }
    }
}

impl GattClient for VirtualGattClient {
    type Error = VirtualClientError;

    fn start_scan(&mut self) -> Result<(), Self::Error> {
        let evs = self.link.set_scanning(self.now, true, &mut self.radio);
        self.schedule_link(evs);
        Ok(())
    }

    fn stop_scan(&mut self) -> Result<(), Self::Error> {
        let evs = self.link.set_scanning(self.now, false, &mut self.radio);
        self.schedule_link(evs);
        Ok(())
    }

    fn connect(&mut self, device: &DeviceId) -> Result<(), Self::Error> {
        self.check_device(device)?;
        if self.link.conn_id().is_none() {
            let evs = self.link.request_connection(self.now);
            self.schedule_link(evs);
        }
        Ok(())
    }

    fn subscribe(&mut self, device: &DeviceId, char: Uuid) -> Result<(), Self::Error> {
        self.check_device(device)?;
        if self.link.conn_id().is_none() {
            return Err(VirtualClientError::NotConnected(device.clone()));
        }
        // The CCCD write itself is not modelled (the firmware sends once the clock is
        // set, which also tells it the phone listens); the central filters by it.
        self.subscribed.insert(char);
        Ok(())
    }

    fn write(
        &mut self,
        device: &DeviceId,
        char: Uuid,
        value: &[u8],
        id: u64,
    ) -> Result<(), Self::Error> {
        self.check_device(device)?;
        if self.link.conn_id().is_none() {
            self.events
                .push_back(GattEvent::WriteDone { id, ok: false });
            return Ok(());
        }
        self.pending_writes.insert(id);
        let input = Input::Write {
            char,
            value: value.to_vec(),
        };
        self.send_to_button(input, Some(id));
        Ok(())
    }

    fn disconnect(&mut self, device: &DeviceId) -> Result<(), Self::Error> {
        self.check_device(device)?;
        if self.link.drop_conn().is_some() {
            // Both ends learn it at once (the LL_TERMINATE_IND delay is not modelled).
            self.give_button(Input::Disconnected);
            self.lost();
        }
        Ok(())
    }

    fn poll_event(&mut self) -> Option<GattEvent> {
        self.events.pop_front()
    }
}
