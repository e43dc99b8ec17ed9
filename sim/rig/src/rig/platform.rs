//! The rig's dry-run [`Platform`]: it records what the phone asked for — SMS (accepted
//! when the scenario's network is up, refused otherwise), calls (dialled, never
//! answered), the siren, recordings, fall countdowns, warnings — and answers the way a
//! phone's services would (SMS results, delivery reports for the accepted ones, the
//! scenario's position, an empty recording),
//! without sending or calling anything. Durable writes stay in the app's memory.
//!
//! Alongside, [`Tap`] forwards the app's GATT commands to the link and notes which
//! writes ask the button to vibrate, so that a confirmed write counts as a vibration.

use std::collections::BTreeMap;
use std::convert::Infallible;

use phone::{AppNote, DeviceId, Fix, GattClient, GattEvent, Input, Platform, Warning};
use protocol::gatt::CONTROL_CHAR;
use protocol::{Uuid, VibrationPattern};
use sim_steps::steps::{Call, Observation, Sms};

/// The dry-run platform: the scenario's network and position (what the location
/// service answers), what the phone asked for since the counts started (`seen`), the
/// answers for the app (handed over at the next iteration), the log, and the scenario
/// time and phone UTC time (µs), set before each drain.
#[derive(Debug, Default)]
pub(crate) struct DryRun {
    pub(crate) network: bool,
    pub(crate) position: Option<(f64, f64)>,
    pub(crate) seen: Observation,
    pub(crate) inputs: Vec<Input>,
    pub(crate) log: Vec<String>,
    pub(crate) at_us: u64,
    pub(crate) utc_us: u64,
}

impl DryRun {
    pub(crate) fn note(&mut self, line: String) {
        let t = self.at_us as f64 / 1e6;
        self.log.push(format!("{t:8.3} s  {line}"));
    }

    /// The scenario's position as a fresh fix.
    pub(crate) fn fix(&self, lat: f64, lon: f64) -> Input {
        Input::Location(Fix {
            lat,
            lon,
            accuracy_m: 5.0,
            utc_ms: self.utc_us / 1_000,
        })
    }
}

impl Platform for DryRun {
    type Error = Infallible;

    fn send_sms(&mut self, id: u64, to: &str, text: &str) -> Result<(), Infallible> {
        self.note(format!("SMS to {to}: {text}"));
        let ok = self.network;
        if ok {
            self.seen.sms_sent.push(Sms {
                at_us: self.at_us,
                to: to.to_string(),
                text: text.to_string(),
            });
        } else {
            self.seen.sms_refused += 1;
        }
        self.inputs.push(Input::SmsResult { id, ok });
        // No network to report delivery in a dry run: delivered = accepted.
        if ok {
            self.inputs.push(Input::SmsDelivered { id });
        }
        Ok(())
    }

    fn dial(&mut self, _: u64, to: &str, _: &str) -> Result<(), Infallible> {
        self.note(format!("call to {to} (not placed: dry run)"));
        self.seen.calls.push(Call {
            to: to.to_string(),
            state: sim_world::platform::CallState::Dialling,
        });
        Ok(())
    }

    fn hang_up(&mut self, _: u64) -> Result<(), Infallible> {
        Ok(())
    }

    fn join_conference(&mut self, url: &str, _: bool, _: bool) -> Result<(), Infallible> {
        self.note(format!("conference {url} (not joined: dry run)"));
        Ok(())
    }

    fn request_location(&mut self) -> Result<(), Infallible> {
        if let Some((lat, lon)) = self.position {
            let fix = self.fix(lat, lon);
            self.inputs.push(fix);
        }
        Ok(())
    }

    fn siren(&mut self, on: bool, _: u8, _: bool) -> Result<(), Infallible> {
        self.seen.siren_on = on;
        self.seen.siren_ever |= on;
        self.note(format!("siren {}", if on { "on" } else { "off" }));
        Ok(())
    }

    fn start_recording(&mut self, _: u64, _: bool) -> Result<(), Infallible> {
        self.seen.recordings_started += 1;
        self.seen.recording_now = true;
        Ok(())
    }

    fn stop_recording(&mut self, id: u64) -> Result<(), Infallible> {
        self.seen.recording_now = false;
        self.inputs.push(Input::RecordingStopped {
            id,
            content: Vec::new(),
        });
        Ok(())
    }

    fn countdown_alarm(&mut self, on: bool, _: u32) -> Result<(), Infallible> {
        if on {
            self.seen.countdowns_started += 1;
        }
        Ok(())
    }

    fn warn(&mut self, warning: Warning) -> Result<(), Infallible> {
        self.note(format!("warning {warning:?}"));
        self.seen.warnings.push(warning);
        Ok(())
    }

    fn persist(&mut self, _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }

    fn note(&mut self, note: &AppNote) -> Result<(), Infallible> {
        DryRun::note(self, format!("phone: {note}"));
        Ok(())
    }
}

/// The link as the phone's GATT port, noting the writes that ask for a vibration.
pub(crate) struct Tap<'a, L> {
    pub link: &'a mut L,
    pub vibrate_writes: &'a mut BTreeMap<u64, VibrationPattern>,
}

impl<L: GattClient> GattClient for Tap<'_, L> {
    type Error = L::Error;

    fn start_scan(&mut self) -> Result<(), L::Error> {
        self.link.start_scan()
    }
    fn stop_scan(&mut self) -> Result<(), L::Error> {
        self.link.stop_scan()
    }
    fn connect(&mut self, d: &DeviceId) -> Result<(), L::Error> {
        self.link.connect(d)
    }
    fn subscribe(&mut self, d: &DeviceId, char: Uuid) -> Result<(), L::Error> {
        self.link.subscribe(d, char)
    }
    fn write(&mut self, d: &DeviceId, char: Uuid, value: &[u8], id: u64) -> Result<(), L::Error> {
        if char == CONTROL_CHAR {
            // The app signs its commands (protocol version 2): the tap reads the command
            // inside, the button checks the signature.
            if let Ok(protocol::ToButton::Signed {
                command: protocol::Command::Vibrate(p),
                ..
            }) = protocol::ToButton::decode(value)
            {
                self.vibrate_writes.insert(id, p);
            }
        }
        self.link.write(d, char, value, id)
    }
    fn disconnect(&mut self, d: &DeviceId) -> Result<(), L::Error> {
        self.link.disconnect(d)
    }
    fn poll_event(&mut self) -> Option<GattEvent> {
        self.link.poll_event()
    }
}
