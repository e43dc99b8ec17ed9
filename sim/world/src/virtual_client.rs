//! A [`GattClient`] over the simulator for the conformance suite: the world's one
//! [`Air`] (a bonded button model, the virtual BLE link, the radio stream) on a queue
//! of its own, packaged as the BLE central a phone would use.
//!
//! It exists to run the GATT-client conformance suite ([`crate::conformance`]) against
//! the same port the btleplug adapter of the `hil` feature implements — over the very
//! air the simulation drives the phone app through, so the suite checks the air every
//! feature uses. Calls enqueue work on the air; nothing happens until
//! [`VirtualGattClient::pump`] moves virtual time, and what the central hears then comes
//! out of [`GattClient::poll_event`]. No wall clock is read and nothing sleeps.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use device_model::{Button, DeviceProfile, Flash};
use phone::gatt::{DeviceId, GattClient, GattEvent};
use protocol::{BondKey, Uuid};

use crate::air::{Air, AirError};
use crate::link::{LinkParams, VirtualLink};
use crate::rng::{Component, Stream};
use crate::sched::Micros;
use crate::shared::{Core, Ev, Shared};

/// Errors of the virtual central (calls it refuses outright): the air's.
pub type VirtualClientError = AirError;

/// The virtual BLE central and the one button it can reach.
#[derive(Debug)]
pub struct VirtualGattClient {
    core: Core,
    air: Air,
}

impl VirtualGattClient {
    /// A world at virtual time zero: the button running the test firmware
    /// ([`DeviceProfile::test_firmware`]: the test service exposed) booted from flash
    /// bonded with `key` and advertising, the central idle.
    pub fn new(key: BondKey, seed: u64) -> Self {
        Self::with_profile(
            DeviceProfile::test_firmware(),
            LinkParams::default(),
            key,
            seed,
        )
    }

    /// Same as [`VirtualGattClient::new`] with a given firmware profile and link.
    pub fn with_profile(profile: DeviceProfile, link: LinkParams, key: BondKey, seed: u64) -> Self {
        let core: Core = Rc::new(RefCell::new(Shared::default()));
        let battery = Button::fresh_battery(&profile, 100.0);
        let mut entropy = Stream::new(seed, Component::ButtonEntropy);
        let button = Button::boot(profile, Flash::bonded(key), battery, 0, entropy.bytes());
        let radio = Stream::new(seed, Component::Radio);
        let mut air = Air::new(core.clone(), radio, VirtualLink::new(link), button, entropy);
        air.drain_button();
        let mut c = VirtualGattClient { core, air };
        c.forget();
        c
    }

    /// The address the button advertises now (a resolvable private address of its
    /// bond: it rotates).
    pub fn device(&self) -> &DeviceId {
        self.air.device()
    }

    /// Virtual time now (µs).
    pub fn now(&self) -> Micros {
        self.core.borrow().now
    }

    /// The button model (to inspect its flash, queue, connection state).
    pub fn button(&self) -> &Button {
        self.air
            .button()
            .expect("the virtual client's button is never reset")
    }

    /// Characteristics the central has subscribed to on the current connection.
    pub fn subscriptions(&self) -> &BTreeSet<Uuid> {
        self.air.subscriptions()
    }

    /// The wearer presses the button now for `press_ms` (raw edges, no bounce): the
    /// direct way, as opposed to the test service's injections.
    pub fn press(&mut self, press_ms: u64) {
        let mut core = self.core.borrow_mut();
        let now = core.now;
        core.at(now, Ev::Edge { down: true });
        core.at(now + press_ms * 1_000, Ev::Edge { down: false });
    }

    /// Let `dur` of virtual time pass: everything due happens, in order.
    pub fn pump(&mut self, dur: Duration) {
        let until = self
            .now()
            .saturating_add(u64::try_from(dur.as_micros()).unwrap_or(u64::MAX));
        while let Some(t) = self.next_due().filter(|&t| t <= until) {
            self.set_now(t);
            while let Some(ev) = self.pop_due() {
                match ev {
                    Ev::Edge { down } => self.air.button_input(device_model::Input::Edge { down }),
                    // The suite polls the central itself.
                    Ev::Air(e) => self.air.process(e, &mut |_| {}),
                    _ => {}
                }
            }
            self.air.button_timeout();
            self.forget();
        }
        self.set_now(until);
    }

    fn next_due(&self) -> Option<Micros> {
        let q = self.core.borrow().sched.peek_time();
        [q, self.air.button_due()].into_iter().flatten().min()
    }

    fn pop_due(&self) -> Option<Ev> {
        let mut core = self.core.borrow_mut();
        let now = core.now;
        core.sched.pop_due(now).map(|(_, ev)| ev)
    }

    fn set_now(&self, t: Micros) {
        let mut core = self.core.borrow_mut();
        core.now = core.now.max(t);
    }

    /// Nobody reads this world's timeline: drop it as it grows.
    fn forget(&mut self) {
        let mut core = self.core.borrow_mut();
        core.timeline.entries.clear();
        core.series = Default::default();
        core.vibrations.clear();
    }
}

impl GattClient for VirtualGattClient {
    type Error = VirtualClientError;

    fn start_scan(&mut self) -> Result<(), Self::Error> {
        self.air.start_scan()
    }

    fn stop_scan(&mut self) -> Result<(), Self::Error> {
        self.air.stop_scan()
    }

    fn connect(&mut self, device: &DeviceId) -> Result<(), Self::Error> {
        self.air.connect(device)
    }

    fn subscribe(&mut self, device: &DeviceId, char: Uuid) -> Result<(), Self::Error> {
        self.air.subscribe(device, char)
    }

    fn write(
        &mut self,
        device: &DeviceId,
        char: Uuid,
        value: &[u8],
        id: u64,
    ) -> Result<(), Self::Error> {
        self.air.write(device, char, value, id)
    }

    fn disconnect(&mut self, device: &DeviceId) -> Result<(), Self::Error> {
        self.air.disconnect(device)
    }

    fn poll_event(&mut self) -> Option<GattEvent> {
        self.air.poll_event()
    }
}
