//! [`Bench`]: the thing a scenario runs against — the simulator
//! ([`super::SimBench`]) or a hardware rig (`sim_rig`). Each Given and When step is one
//! verb of the trait; the Then checks are written once ([`super::checks`]) over the
//! [`Observation`] every bench provides.
//!
//! A verb a bench cannot perform answers [`RunError::NotOnThisBench`] with the reason
//! (the rig cannot move the radio or replay an accelerometer trace): the scenario is
//! then reported as not run there, never as passed.
//!
//! [`run_step`] is the one place a step value meets a bench: its matches list every
//! variant without a wildcard, and the trait's verbs have no default body, so a new
//! step is a compile error here and in every bench until each handles it.

use std::time::Duration;

use phone::Contact;
use protocol::VibrationPattern;

use super::observe::Observation;
use super::typed::{Answer, Given, Step, When};
use crate::RunError;

/// What a step comes to: done, failed, or not performed on this bench.
pub type StepResult = Result<(), RunError>;

/// A bench: the verbs of the domain language.
pub trait Bench {
    /// `the phone has {n} emergency contacts`, `the emergency contacts:`.
    fn contacts(&mut self, contacts: Vec<Contact>) -> StepResult;
    /// `the wearer's alert message is {text}`.
    fn alert_message(&mut self, text: &str) -> StepResult;
    /// `the phone is at {lat}, {lon}` (`Some`) / `the phone has no location fix`.
    fn phone_position(&mut self, at: Option<(f64, f64)>) -> StepResult;
    /// `the phone has no cellular network`.
    fn no_cellular_network(&mut self) -> StepResult;
    /// `contact {text} does not answer` / `is busy` / `answers after {n} s`.
    fn contact_answers(&mut self, contact: &str, answer: Answer) -> StepResult;
    /// `the button battery is at {n}%`.
    fn button_battery(&mut self, pct: f64) -> StepResult;
    /// `the button is {n} m from the phone`.
    fn button_distance(&mut self, metres: f64) -> StepResult;
    /// `the BLE link loses {n}% of packets`.
    fn packet_loss(&mut self, pct: f64) -> StepResult;
    /// `the random seed is {n}`.
    fn seed(&mut self, seed: u64) -> StepResult;

    /// The wearer presses `count` times (a hand's presses), until the click window closes.
    fn presses(&mut self, count: u32) -> StepResult;
    /// One press of exactly this long (a hold ends at release).
    fn hold(&mut self, held: Duration) -> StepResult;
    /// One raw press of exactly this long, until the click window closes.
    fn raw_press(&mut self, held: Duration) -> StepResult;
    /// Replay an accelerometer trace (named as written in the step).
    fn replay_trace(&mut self, name: &str) -> StepResult;
    /// Let time pass.
    fn pass(&mut self, time: Duration) -> StepResult;
    /// The link goes down now and comes back by itself after `outage`.
    fn lose_link(&mut self, outage: Duration) -> StepResult;
    /// Bluetooth on the phone turned on or off.
    fn phone_bluetooth(&mut self, on: bool) -> StepResult;
    /// The phone app restarts.
    fn restart_app(&mut self) -> StepResult;
    /// Time runs until the app has issued `n` more SMS; it is killed right then and
    /// restarts 2 s later.
    fn crash_app_after_sms(&mut self, n: u32) -> StepResult;
    /// Time runs until the app's next durable write, which is torn (half of it reaches
    /// storage); the app is killed then and restarts 2 s later.
    fn crash_app_while_saving(&mut self) -> StepResult;
    /// The button resets.
    fn reset_button(&mut self) -> StepResult;
    /// The phone regains cellular network.
    fn regain_network(&mut self) -> StepResult;
    /// The phone gets a location fix.
    fn location_fix(&mut self, lat: f64, lon: f64) -> StepResult;
    /// The wearer cancels on the phone.
    fn cancel_on_phone(&mut self) -> StepResult;
    /// An unpaired button sends a press.
    fn stranger_press(&mut self) -> StepResult;
    /// An attacker replays the last alert event.
    fn replay_last_event(&mut self) -> StepResult;
    /// An attacker sends a tampered alert event.
    fn tampered_event(&mut self) -> StepResult;
    /// An attacker connects to the button, jamming the phone's connection.
    fn attacker_connects(&mut self) -> StepResult;
    /// The attacker disconnects.
    fn attacker_disconnects(&mut self) -> StepResult;
    /// The attacker acknowledges every queued event (seq 1..=64, every form).
    fn attacker_acks_all(&mut self) -> StepResult;
    /// The attacker sets the button's clock (ms since 1970 UTC).
    fn attacker_sets_clock(&mut self, utc_ms: u64) -> StepResult;
    /// The attacker makes the button vibrate `pattern`, `times` writes.
    fn attacker_vibrates(&mut self, pattern: VibrationPattern, times: u32) -> StepResult;
    /// The attacker clicks the button through the test service.
    fn attacker_test_clicks(&mut self, clicks: u32) -> StepResult;
    /// The button and the phone pair over the air while an attacker listens.
    fn pair_while_listening(&mut self) -> StepResult;
    /// The attacker forges a press with what it heard and sends it to the phone.
    fn attacker_forges_press(&mut self) -> StepResult;
    /// The button is reset to its factory state (its bond erased).
    fn factory_reset(&mut self) -> StepResult;
    /// The attacker tries to bond with the button, without the physical action.
    fn attacker_tries_to_bond(&mut self) -> StepResult;
    /// The wearer does the physical pairing action and the phone pairs with the button.
    fn wearer_pairs(&mut self) -> StepResult;
    /// An impostor takes over the button's address.
    fn impostor_takes_over(&mut self) -> StepResult;
    /// An attacker starts listening on the air.
    fn attacker_listens(&mut self) -> StepResult;
    /// The phone app is reinstalled; the wearer pairs again.
    fn reinstall_app(&mut self) -> StepResult;
    /// A backup of the phone app is taken.
    fn backup_app(&mut self) -> StepResult;
    /// The phone app is restored from the backup.
    fn restore_app(&mut self) -> StepResult;

    /// What the checks see now (a Then step starts the scenario like a When step).
    fn observe(&mut self) -> Result<Observation, RunError>;
    /// Let time run until `holds` is true of the observation, at most until `within`
    /// after the end of the last When step (no time passes when that is already over).
    fn wait_until(&mut self, within: Duration, holds: &dyn Fn(&Observation) -> bool) -> StepResult;
    /// Time since the scenario started (for messages).
    fn elapsed(&self) -> Duration;
}

/// Perform one step on a bench.
pub fn run_step<B: Bench + ?Sized>(bench: &mut B, step: &Step) -> StepResult {
    match step {
        Step::Given(g) => configure(bench, g),
        Step::When(w) => perform(bench, w),
        Step::Then(t) => super::checks::check(bench, t),
    }
}

/// A Given step as a bench verb.
fn configure<B: Bench + ?Sized>(b: &mut B, g: &Given) -> StepResult {
    match g {
        Given::Paired => Ok(()),
        Given::ContactCount(n) => b.contacts(
            (1..=*n)
                .map(sim_world::simulation::generated_contact)
                .collect(),
        ),
        Given::Contacts(c) => b.contacts(c.clone()),
        Given::AlertMessage(m) => b.alert_message(m),
        Given::PhoneAt { lat, lon } => b.phone_position(Some((*lat, *lon))),
        Given::NoLocationFix => b.phone_position(None),
        Given::NoCellularNetwork => b.no_cellular_network(),
        Given::ContactAnswers { contact, answer } => b.contact_answers(contact, *answer),
        Given::ButtonBattery(p) => b.button_battery(*p),
        Given::ButtonDistance(m) => b.button_distance(*m),
        Given::PacketLoss(p) => b.packet_loss(*p),
        Given::Seed(s) => b.seed(*s),
    }
}

/// A When step as a bench verb.
fn perform<B: Bench + ?Sized>(b: &mut B, w: &When) -> StepResult {
    match w {
        When::Presses(n) => b.presses(*n),
        When::SeparatePresses(n) => (0..*n).try_for_each(|_| b.presses(1)),
        When::Hold(d) => b.hold(*d),
        When::RawPress(d) => b.raw_press(*d),
        When::ReplayTrace(name) => b.replay_trace(name),
        When::Pass(d) => b.pass(*d),
        When::LinkLost(d) => b.lose_link(*d),
        When::Bluetooth { on } => b.phone_bluetooth(*on),
        When::AppRestarts => b.restart_app(),
        When::AppCrashesAfterSms(n) => b.crash_app_after_sms(*n),
        When::AppCrashesWhileSaving => b.crash_app_while_saving(),
        When::ButtonResets => b.reset_button(),
        When::NetworkBack => b.regain_network(),
        When::LocationFix { lat, lon } => b.location_fix(*lat, *lon),
        When::CancelOnPhone => b.cancel_on_phone(),
        When::StrangerPress => b.stranger_press(),
        When::ReplayLastEvent => b.replay_last_event(),
        When::TamperedEvent => b.tampered_event(),
        When::AttackerConnects => b.attacker_connects(),
        When::AttackerDisconnects => b.attacker_disconnects(),
        When::AttackerAcksAll => b.attacker_acks_all(),
        When::AttackerSetsClock(ms) => b.attacker_sets_clock(*ms),
        When::AttackerVibrates { pattern, times } => b.attacker_vibrates(*pattern, *times),
        When::AttackerTestClicks(n) => b.attacker_test_clicks(*n),
        When::PairWhileListening => b.pair_while_listening(),
        When::AttackerForgesPress => b.attacker_forges_press(),
        When::FactoryReset => b.factory_reset(),
        When::AttackerTriesToBond => b.attacker_tries_to_bond(),
        When::WearerPairs => b.wearer_pairs(),
        When::ImpostorTakesOver => b.impostor_takes_over(),
        When::AttackerListens => b.attacker_listens(),
        When::AppReinstalled => b.reinstall_app(),
        When::BackupTaken => b.backup_app(),
        When::BackupRestored => b.restore_app(),
    }
}
