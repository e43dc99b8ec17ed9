//! [`SimBench`]: the simulator as a [`Bench`]. Given steps configure the scenario's
//! [`crate::simulation::Setup`] (or the running world), When steps act on the
//! [`crate::simulation::Simulation`] and let virtual time pass, and the checks observe
//! the simulated platform, the button and the app.

use std::time::Duration;

use phone::Contact;
use protocol::VibrationPattern;

use super::bench::{Bench, StepResult};
use super::observe::{Call, Observation, Sms};
use super::typed::Answer;
use super::{attacks, faults, privacy, setup, time, wearer, AlarmWorld};
use crate::sched::Micros;
use crate::simulation::{Simulation, APP_RESTART_US, BOOT_US};
use crate::RunError;

/// The simulator behind a scenario's [`AlarmWorld`].
#[derive(Debug)]
pub(crate) struct SimBench<'w> {
    world: &'w mut AlarmWorld,
}

impl<'w> SimBench<'w> {
    /// The bench of a world.
    pub(crate) fn new(world: &'w mut AlarmWorld) -> Self {
        SimBench { world }
    }
}

/// A duration as virtual microseconds.
pub(crate) fn micros(d: Duration) -> Micros {
    Micros::try_from(d.as_micros()).unwrap_or(Micros::MAX)
}

fn done(r: Result<(), String>) -> StepResult {
    r.map_err(RunError::StepFailed)
}

/// What the checks see of a simulation.
fn observe(s: &Simulation) -> Observation {
    let sms = |v: &[crate::platform::Sms]| -> Vec<Sms> {
        v.iter()
            .map(|m| Sms {
                at_us: m.t_us,
                to: m.to.clone(),
                text: m.text.clone(),
            })
            .collect()
    };
    let p = &s.platform;
    Observation {
        contacts: s.app_config().contacts.clone(),
        sms_sent: sms(&p.sms_sent),
        sms_received: sms(&p.sms_delivered),
        sms_refused: p.sms_refused,
        calls: p
            .calls
            .iter()
            .map(|c| Call {
                to: c.to.clone(),
                state: c.state,
            })
            .collect(),
        siren_on: p.siren_on,
        siren_ever: p.siren_ever,
        recordings_started: p.recordings.len(),
        recording_now: p.recordings.iter().any(|r| r.end_us.is_none()),
        stored_recordings: Vec::new(),
        countdowns_started: p.countdowns_started,
        warnings: p.warnings.iter().map(|(_, w)| *w).collect(),
        vibrations: s.vibrations.iter().map(|(_, v)| *v).collect(),
        rejected_events: 0,
        falls_reported: 0,
        rejected_commands: s.button_rejected_commands(),
        learned: s.listener_learned(),
    }
    .with_durable(&s.durable())
}

impl Bench for SimBench<'_> {
    fn contacts(&mut self, contacts: Vec<Contact>) -> StepResult {
        done(setup::contacts(self.world, contacts))
    }
    fn alert_message(&mut self, text: &str) -> StepResult {
        done(setup::message(self.world, text))
    }
    fn phone_position(&mut self, at: Option<(f64, f64)>) -> StepResult {
        done(setup::position(self.world, at))
    }
    fn no_cellular_network(&mut self) -> StepResult {
        done(setup::no_network(self.world))
    }
    fn contact_answers(&mut self, contact: &str, answer: Answer) -> StepResult {
        done(setup::answering(self.world, contact, answer))
    }
    fn button_battery(&mut self, pct: f64) -> StepResult {
        done(setup::battery(self.world, pct))
    }
    fn button_distance(&mut self, metres: f64) -> StepResult {
        done(setup::distance(self.world, metres))
    }
    fn packet_loss(&mut self, pct: f64) -> StepResult {
        done(setup::loss(self.world, pct))
    }
    fn seed(&mut self, seed: u64) -> StepResult {
        done(setup::seed(self.world, seed))
    }

    fn presses(&mut self, count: u32) -> StepResult {
        done(wearer::presses(self.world, count))
    }
    fn hold(&mut self, held: Duration) -> StepResult {
        done(wearer::hold(self.world, held))
    }
    fn raw_press(&mut self, held: Duration) -> StepResult {
        done(wearer::raw_press(self.world, held))
    }
    fn replay_trace(&mut self, name: &str) -> StepResult {
        done(wearer::replay(self.world, name))
    }
    fn pass(&mut self, d: Duration) -> StepResult {
        done(time::run(self.world, d))
    }
    fn lose_link(&mut self, outage: Duration) -> StepResult {
        done(faults::outage(self.world, outage))
    }
    fn phone_bluetooth(&mut self, on: bool) -> StepResult {
        done(faults::bt(self.world, on))
    }
    fn restart_app(&mut self) -> StepResult {
        done(faults::act_for(
            self.world,
            |s| s.restart_app(),
            APP_RESTART_US,
        ))
    }
    fn crash_app_after_sms(&mut self, n: u32) -> StepResult {
        let plan = crate::simulation::CrashPlan::AfterSms(n);
        done(faults::crash(
            self.world,
            plan,
            &format!("its SMS number {n}"),
        ))
    }
    fn crash_app_while_saving(&mut self) -> StepResult {
        let plan = crate::simulation::CrashPlan::TornWrite {
            nth: 1,
            keep: crate::simulation::Keep::Half,
        };
        done(faults::crash(self.world, plan, "a durable write"))
    }
    fn reset_button(&mut self) -> StepResult {
        done(faults::act_for(self.world, |s| s.reset_button(), BOOT_US))
    }
    fn regain_network(&mut self) -> StepResult {
        done(faults::act(self.world, |s| s.set_network(true)))
    }
    fn location_fix(&mut self, lat: f64, lon: f64) -> StepResult {
        done(faults::fix(self.world, lat, lon))
    }
    fn cancel_on_phone(&mut self) -> StepResult {
        done(faults::act(self.world, |s| s.user_cancel()))
    }
    fn stranger_press(&mut self) -> StepResult {
        done(faults::stranger(self.world))
    }
    fn replay_last_event(&mut self) -> StepResult {
        done(faults::replay(self.world))
    }
    fn tampered_event(&mut self) -> StepResult {
        done(faults::tamper(self.world))
    }
    fn attacker_connects(&mut self) -> StepResult {
        done(attacks::connect(self.world))
    }
    fn attacker_disconnects(&mut self) -> StepResult {
        done(attacks::disconnect(self.world))
    }
    fn attacker_acks_all(&mut self) -> StepResult {
        done(attacks::ack_all(self.world))
    }
    fn attacker_sets_clock(&mut self, utc_ms: u64) -> StepResult {
        done(attacks::set_clock(self.world, utc_ms))
    }
    fn attacker_vibrates(&mut self, pattern: VibrationPattern, times: u32) -> StepResult {
        done(attacks::vibrate(self.world, pattern, times))
    }
    fn attacker_test_clicks(&mut self, clicks: u32) -> StepResult {
        done(attacks::test_clicks(self.world, clicks))
    }
    fn pair_while_listening(&mut self) -> StepResult {
        done(attacks::pair_while_listening(self.world))
    }
    fn attacker_forges_press(&mut self) -> StepResult {
        done(attacks::forge(self.world))
    }
    fn factory_reset(&mut self) -> StepResult {
        done(privacy::factory_reset(self.world))
    }
    fn attacker_tries_to_bond(&mut self) -> StepResult {
        done(privacy::try_to_bond(self.world))
    }
    fn wearer_pairs(&mut self) -> StepResult {
        done(privacy::wearer_pairs(self.world))
    }
    fn impostor_takes_over(&mut self) -> StepResult {
        done(privacy::impostor(self.world))
    }
    fn attacker_listens(&mut self) -> StepResult {
        done(privacy::listen(self.world))
    }
    fn reinstall_app(&mut self) -> StepResult {
        done(privacy::reinstall(self.world))
    }
    fn backup_app(&mut self) -> StepResult {
        done(privacy::backup(self.world))
    }
    fn restore_app(&mut self) -> StepResult {
        done(privacy::restore(self.world))
    }

    fn observe(&mut self) -> Result<Observation, RunError> {
        self.world
            .sim()
            .map(|s| observe(s))
            .map_err(RunError::StepFailed)
    }

    fn wait_until(&mut self, within: Duration, holds: &dyn Fn(&Observation) -> bool) -> StepResult {
        let deadline = self.world.last_when_end + micros(within);
        let sim = self.world.sim().map_err(RunError::StepFailed)?;
        if deadline > sim.now() {
            sim.run_until_cond(deadline, &|s| holds(&observe(s)));
        }
        Ok(())
    }

    fn elapsed(&self) -> Duration {
        Duration::from_micros(self.world.sim.as_ref().map_or(0, |s| s.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip() {
        assert_eq!(micros(Duration::from_secs(2)), 2 * crate::sched::SECOND);
    }
}
