//! The host loop: executes the app's [`Command`]s on its two ports, the BLE central
//! ([`GattClient`]) and the rest of the phone ([`Platform`]). A host (the simulator, a
//! hardware rig, the real app) implements the two traits and calls [`drain`] after
//! each [`PhoneApp::handle`] / [`PhoneApp::handle_timeout`]; it feeds what the ports
//! report back as [`crate::Input`]s.
//!
//! Order: commands are applied in the order the app emitted them, across both ports.
//! [`drain`] stops at the first error and puts the failed command back at the head of
//! the app's queue, so nothing emitted after it runs before it: a failed
//! [`Command::Persist`] is never followed by the acknowledgement write that relies on
//! it. The next [`drain`] retries the failed command first; a host that chooses to give
//! up on it discards it with [`PhoneApp::poll_command`].
//!
//! Two ports, two borrows: [`drain`] takes `&mut G` and `&mut P` separately. A host
//! whose ports share state (one radio object, one event queue) can keep that state
//! behind a `RefCell` (or `Rc<RefCell<_>>`) held by both, or implement both traits on
//! two thin handles to it.
//!
//! Errors: the crate's one error enum, [`crate::PhoneError`], is about the logic
//! (configuration, stored state). [`HostError`] is only the host-side wrapper that
//! tells which port failed; it is generic so that the ports' own error types reach the
//! host unchanged (nothing is flattened into a string).

use std::fmt;

use crate::app::{Command, PhoneApp};
use crate::gatt::GattClient;
use crate::platform::Platform;

/// Which port failed to execute a command, with its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError<GE, PE> {
    /// The GATT client's error.
    Gatt(GE),
    /// The platform's error.
    Platform(PE),
}

impl<GE: fmt::Display, PE: fmt::Display> fmt::Display for HostError<GE, PE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Gatt(e) => write!(f, "GATT client: {e}"),
            HostError::Platform(e) => write!(f, "platform: {e}"),
        }
    }
}

impl<GE, PE> std::error::Error for HostError<GE, PE>
where
    GE: fmt::Display + fmt::Debug,
    PE: fmt::Display + fmt::Debug,
{
}

/// Execute one command on its port.
pub fn apply<G: GattClient + ?Sized, P: Platform + ?Sized>(
    cmd: Command,
    gatt: &mut G,
    platform: &mut P,
) -> Result<(), HostError<G::Error, P::Error>> {
    dispatch(&cmd, gatt, platform)
}

/// Apply the app's pending commands in order; returns how many were applied. Stops at
/// the first error: the failed command goes back to the head of the app's queue, the
/// ones after it stay queued behind it (see the module documentation).
pub fn drain<G: GattClient + ?Sized, P: Platform + ?Sized>(
    app: &mut PhoneApp,
    gatt: &mut G,
    platform: &mut P,
) -> Result<usize, HostError<G::Error, P::Error>> {
    let mut applied = 0;
    while step(app, gatt, platform)? {
        applied += 1;
    }
    Ok(applied)
}

/// Apply the app's next pending command, if any: `Ok(true)` when one ran, `Ok(false)`
/// when none was pending. On error the command goes back to the head of the queue, as
/// in [`drain`] (which is this, repeated). A host that must act between two commands —
/// a test harness killing the app there — steps instead of draining.
pub fn step<G: GattClient + ?Sized, P: Platform + ?Sized>(
    app: &mut PhoneApp,
    gatt: &mut G,
    platform: &mut P,
) -> Result<bool, HostError<G::Error, P::Error>> {
    let Some(cmd) = app.poll_command() else {
        return Ok(false);
    };
    if let Err(e) = dispatch(&cmd, gatt, platform) {
        app.unpoll(cmd);
        return Err(e);
    }
    Ok(true)
}

/// One arm per variant, no wildcard: a new [`Command`] does not compile until it is
/// routed to a port.
fn dispatch<G: GattClient + ?Sized, P: Platform + ?Sized>(
    cmd: &Command,
    gatt: &mut G,
    p: &mut P,
) -> Result<(), HostError<G::Error, P::Error>> {
    let platform = match cmd {
        Command::Gatt(g) => return g.apply(gatt).map_err(HostError::Gatt),
        Command::SendSms { id, to, text } => p.send_sms(*id, to, text),
        Command::QuerySms { id } => p.query_sms(*id),
        Command::Dial { id, to, message } => p.dial(*id, to, message),
        Command::HangUp { id } => p.hang_up(*id),
        Command::JoinConference {
            url,
            mic_on,
            speaker_muted,
        } => p.join_conference(url, *mic_on, *speaker_muted),
        Command::RequestLocation => p.request_location(),
        Command::Siren {
            on,
            volume_pct,
            override_silent,
        } => p.siren(*on, *volume_pct, *override_silent),
        Command::StartRecording { id, button_mic } => p.start_recording(*id, *button_mic),
        Command::StopRecording { id } => p.stop_recording(*id),
        Command::CountdownAlarm { on, seconds } => p.countdown_alarm(*on, *seconds),
        Command::Warn(w) => p.warn(*w),
        Command::ShowPairingCode(c) => p.show_pairing_code(*c),
        Command::Persist(bytes) => p.persist(bytes),
        Command::Note(n) => p.note(n),
    };
    platform.map_err(HostError::Platform)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR};
    use protocol::{ConfirmCode, Uuid};

    use super::*;
    use crate::app::testkit::{connected_app, is_ack, started_app, T0};
    use crate::app::Warning;
    use crate::gatt::{DeviceId, GattCommand, GattEvent};
    use crate::note::AppNote;

    /// What both fakes were asked, in one shared list (the ports share state through
    /// an `Rc<RefCell<_>>`, as the module documentation suggests).
    type Calls = Rc<RefCell<Vec<String>>>;

    struct FakeGatt {
        calls: Calls,
    }

    struct FakePlatform {
        calls: Calls,
        persist_fails: bool,
    }

    impl FakeGatt {
        fn call(&mut self, s: String) -> Result<(), String> {
            self.calls.borrow_mut().push(s);
            Ok(())
        }
    }

    impl GattClient for FakeGatt {
        type Error = String;
        fn start_scan(&mut self) -> Result<(), String> {
            self.call("start_scan".into())
        }
        fn stop_scan(&mut self) -> Result<(), String> {
            self.call("stop_scan".into())
        }
        fn connect(&mut self, d: &DeviceId) -> Result<(), String> {
            self.call(format!("connect {d}"))
        }
        fn subscribe(&mut self, d: &DeviceId, char: Uuid) -> Result<(), String> {
            self.call(format!("subscribe {d} {char:?}"))
        }
        fn write(&mut self, d: &DeviceId, char: Uuid, v: &[u8], id: u64) -> Result<(), String> {
            self.call(format!("write {d} {char:?} {v:?} {id}"))
        }
        fn disconnect(&mut self, d: &DeviceId) -> Result<(), String> {
            self.call(format!("disconnect {d}"))
        }
        fn poll_event(&mut self) -> Option<GattEvent> {
            None
        }
    }

    impl FakePlatform {
        fn call(&mut self, s: String) -> Result<(), String> {
            self.calls.borrow_mut().push(s);
            Ok(())
        }
    }

    impl Platform for FakePlatform {
        type Error = String;
        fn send_sms(&mut self, id: u64, to: &str, text: &str) -> Result<(), String> {
            self.call(format!("send_sms {id} {to} {text}"))
        }
        fn dial(&mut self, id: u64, to: &str, message: &str) -> Result<(), String> {
            self.call(format!("dial {id} {to} {message}"))
        }
        fn query_sms(&mut self, id: u64) -> Result<(), String> {
            self.call(format!("query_sms {id}"))
        }
        fn hang_up(&mut self, id: u64) -> Result<(), String> {
            self.call(format!("hang_up {id}"))
        }
        fn join_conference(&mut self, url: &str, mic: bool, muted: bool) -> Result<(), String> {
            self.call(format!("join_conference {url} {mic} {muted}"))
        }
        fn request_location(&mut self) -> Result<(), String> {
            self.call("request_location".into())
        }
        fn siren(&mut self, on: bool, vol: u8, over: bool) -> Result<(), String> {
            self.call(format!("siren {on} {vol} {over}"))
        }
        fn start_recording(&mut self, id: u64, button_mic: bool) -> Result<(), String> {
            self.call(format!("start_recording {id} {button_mic}"))
        }
        fn stop_recording(&mut self, id: u64) -> Result<(), String> {
            self.call(format!("stop_recording {id}"))
        }
        fn countdown_alarm(&mut self, on: bool, seconds: u32) -> Result<(), String> {
            self.call(format!("countdown_alarm {on} {seconds}"))
        }
        fn show_pairing_code(&mut self, c: ConfirmCode) -> Result<(), String> {
            self.call(format!("show_pairing_code {c}"))
        }
        fn warn(&mut self, w: Warning) -> Result<(), String> {
            self.call(format!("warn {w:?}"))
        }
        fn persist(&mut self, bytes: &[u8]) -> Result<(), String> {
            if self.persist_fails {
                return Err("disk full".into());
            }
            self.call(format!("persist {}", bytes.len()))
        }
        fn note(&mut self, n: &AppNote) -> Result<(), String> {
            self.call(format!("note {n}"))
        }
    }

    fn fakes() -> (FakeGatt, FakePlatform, Calls) {
        let calls = Calls::default();
        let g = FakeGatt {
            calls: calls.clone(),
        };
        let p = FakePlatform {
            calls: calls.clone(),
            persist_fails: false,
        };
        (g, p, calls)
    }

    /// The call a command must produce, and the index of its variant. One arm per
    /// variant, no wildcard: a new variant does not compile until it is listed here.
    fn expected(c: &Command) -> (usize, String) {
        match c {
            Command::Gatt(g) => (
                0,
                match g {
                    GattCommand::StartScan => "start_scan".into(),
                    GattCommand::StopScan => "stop_scan".into(),
                    GattCommand::Connect(d) => format!("connect {d}"),
                    GattCommand::Subscribe { device, char } => {
                        format!("subscribe {device} {char:?}")
                    }
                    GattCommand::Write {
                        device,
                        char,
                        value,
                        id,
                    } => format!("write {device} {char:?} {value:?} {id}"),
                    GattCommand::Disconnect(d) => format!("disconnect {d}"),
                },
            ),
            Command::SendSms { id, to, text } => (1, format!("send_sms {id} {to} {text}")),
            Command::Dial { id, to, message } => (2, format!("dial {id} {to} {message}")),
            Command::HangUp { id } => (3, format!("hang_up {id}")),
            Command::JoinConference {
                url,
                mic_on,
                speaker_muted,
            } => (4, format!("join_conference {url} {mic_on} {speaker_muted}")),
            Command::RequestLocation => (5, "request_location".into()),
            Command::Siren {
                on,
                volume_pct,
                override_silent,
            } => (6, format!("siren {on} {volume_pct} {override_silent}")),
            Command::StartRecording { id, button_mic } => {
                (7, format!("start_recording {id} {button_mic}"))
            }
            Command::StopRecording { id } => (8, format!("stop_recording {id}")),
            Command::CountdownAlarm { on, seconds } => {
                (9, format!("countdown_alarm {on} {seconds}"))
            }
            Command::Warn(w) => (10, format!("warn {w:?}")),
            Command::Persist(b) => (11, format!("persist {}", b.len())),
            Command::Note(n) => (12, format!("note {n}")),
            Command::ShowPairingCode(c) => (13, format!("show_pairing_code {c}")),
            Command::QuerySms { id } => (14, format!("query_sms {id}")),
        }
    }
    const VARIANTS: usize = 15;

    fn one_of_each() -> Vec<Command> {
        let d = DeviceId("AA".into());
        let mut cmds: Vec<Command> = [
            GattCommand::StartScan,
            GattCommand::StopScan,
            GattCommand::Connect(d.clone()),
            GattCommand::Subscribe {
                device: d.clone(),
                char: EVENT_CHAR,
            },
            GattCommand::Write {
                device: d.clone(),
                char: CONTROL_CHAR,
                value: vec![1, 2],
                id: 5,
            },
            GattCommand::Disconnect(d),
        ]
        .into_iter()
        .map(Command::Gatt)
        .collect();
        cmds.extend([
            Command::SendSms {
                id: 1,
                to: "+33611111111".into(),
                text: "help".into(),
            },
            Command::Dial {
                id: 2,
                to: "+33622222222".into(),
                message: "call".into(),
            },
            Command::HangUp { id: 2 },
            Command::JoinConference {
                url: "https://meet/x".into(),
                mic_on: true,
                speaker_muted: false,
            },
            Command::RequestLocation,
            Command::Siren {
                on: true,
                volume_pct: 100,
                override_silent: true,
            },
            Command::StartRecording {
                id: 3,
                button_mic: true,
            },
            Command::StopRecording { id: 3 },
            Command::CountdownAlarm {
                on: true,
                seconds: 30,
            },
            Command::Warn(Warning::BatteryLow(10)),
            Command::Persist(vec![0; 4]),
            Command::Note(AppNote::BatteryLow { pct: 10 }),
            Command::ShowPairingCode(ConfirmCode(42)),
            Command::QuerySms { id: 1 },
        ]);
        cmds
    }

    #[test]
    fn every_command_variant_reaches_its_method() {
        let cmds = one_of_each();
        let covered: BTreeSet<usize> = cmds.iter().map(|c| expected(c).0).collect();
        assert_eq!(covered, (0..VARIANTS).collect(), "a variant is not tested");
        let (mut g, mut p, calls) = fakes();
        for c in &cmds {
            apply(c.clone(), &mut g, &mut p).unwrap_or_else(|e| panic!("{e}"));
        }
        let want: Vec<String> = cmds.iter().map(|c| expected(c).1).collect();
        assert_eq!(*calls.borrow(), want);
    }

    #[test]
    fn drain_keeps_the_order_across_both_ports() {
        // Two identical apps: one drained by hand for the expected order.
        let (mut reference, mut b) = connected_app();
        let (mut app, mut b2) = connected_app();
        reference.handle(T0 + 1, b.press(1));
        app.handle(T0 + 1, b2.press(1));
        let cmds: Vec<Command> = std::iter::from_fn(|| reference.poll_command()).collect();
        assert!(cmds.iter().any(|c| matches!(c, Command::Gatt(_))));
        assert!(cmds.iter().any(|c| matches!(c, Command::Persist(_))));
        let (mut g, mut p, calls) = fakes();
        let n = drain(&mut app, &mut g, &mut p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, cmds.len());
        let want: Vec<String> = cmds.iter().map(|c| expected(c).1).collect();
        assert_eq!(*calls.borrow(), want);
        assert!(app.poll_command().is_none());
    }

    #[test]
    fn a_failed_persist_stops_the_drain_before_the_ack() {
        let (mut app, mut b) = connected_app();
        let (mut g, mut p, calls) = fakes();
        drain(&mut app, &mut g, &mut p).unwrap_or_else(|e| panic!("{e}"));
        calls.borrow_mut().clear();

        app.handle(T0 + 1, b.press(1));
        p.persist_fails = true;
        let err = drain(&mut app, &mut g, &mut p).err();
        assert_eq!(err, Some(HostError::Platform("disk full".to_string())));
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("platform: disk full")
        );
        assert!(
            !calls.borrow().iter().any(|c| c.starts_with("write ")),
            "the ack left before the event was durable: {:?}",
            calls.borrow()
        );

        // The storage is back: the next drain persists first, then acknowledges.
        p.persist_fails = false;
        calls.borrow_mut().clear();
        let rest: Vec<Command> = {
            let (mut twin, mut tb) = connected_app();
            while twin.poll_command().is_some() {}
            twin.handle(T0 + 1, tb.press(1));
            std::iter::from_fn(|| twin.poll_command()).collect()
        };
        let from_persist = rest
            .iter()
            .position(|c| matches!(c, Command::Persist(_)))
            .unwrap_or_else(|| panic!("no persist in {rest:?}"));
        assert!(rest[from_persist..].iter().any(is_ack));
        drain(&mut app, &mut g, &mut p).unwrap_or_else(|e| panic!("{e}"));
        let want: Vec<String> = rest[from_persist..].iter().map(|c| expected(c).1).collect();
        assert_eq!(*calls.borrow(), want);
    }

    #[test]
    fn a_gatt_error_is_reported_as_such_and_the_command_stays_queued() {
        struct Broken;
        impl GattClient for Broken {
            type Error = &'static str;
            fn start_scan(&mut self) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn stop_scan(&mut self) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn connect(&mut self, _: &DeviceId) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn subscribe(&mut self, _: &DeviceId, _: Uuid) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn write(
                &mut self,
                _: &DeviceId,
                _: Uuid,
                _: &[u8],
                _: u64,
            ) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn disconnect(&mut self, _: &DeviceId) -> Result<(), &'static str> {
                Err("adapter off")
            }
            fn poll_event(&mut self) -> Option<GattEvent> {
                None
            }
        }
        let mut app = started_app();
        let (_, mut p, calls) = fakes();
        // Started bonded: "app started", then the scan, which fails.
        let err = drain(&mut app, &mut Broken, &mut p).err();
        assert_eq!(err, Some(HostError::Gatt("adapter off")));
        assert_eq!(*calls.borrow(), ["note app started"]);
        assert_eq!(
            app.poll_command(),
            Some(Command::Gatt(GattCommand::StartScan))
        );
    }
}
