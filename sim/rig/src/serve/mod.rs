//! `sim hil serve`, the other half of a rig: the simulated button published as a BLE
//! peripheral, so that a real central (a phone running the product's app, or
//! `sim hil run` through btleplug) can be tested against it.
//!
//! - [`control`]: the control channel's commands (press, double, hold, reset, battery…);
//! - [`host`]: [`ButtonHost`], the device model's firmware on the world's scheduler in
//!   real-time mode, behind a [`Peripheral`] port; the BlueZ implementation of the port
//!   (`bluer`) is `crate::hil::serve` (feature `hil`).

pub mod channel;
pub mod control;
pub mod host;

pub use control::{Control, CONTROL_HELP};
pub use host::{
    ButtonHost, HostInput, Peripheral, ReadState, ServeError, ServeOptions, ServeStats, Wall,
};

/// The address to give a peripheral adapter so that a phone bonded with `key` connects
/// to it: a resolvable private address of the bond (`random` picks one).
pub fn bond_address(key: &protocol::BondKey, random: [u8; 3]) -> protocol::Address {
    protocol::Address::resolvable(&key.keys().irk, random)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::path::Path;

    use device_model::DeviceProfile;
    use protocol::gatt::EVENT_CHAR;
    use protocol::BondKey;
    use sim_world::sched::{Micros, Pace};
    use sim_world::trace::{TraceFormat, TraceReader};

    use super::*;

    /// A wall clock that jumps to each deadline, plus a delay, and hands over scripted
    /// inputs at their times.
    struct Script {
        now: Micros,
        delay: Micros,
        inputs: VecDeque<(Micros, HostInput)>,
    }

    impl Pace for Script {
        fn elapsed_us(&self) -> Micros {
            self.now
        }
        fn wait_until(&mut self, at: Option<Micros>) {
            let next_input = self.inputs.front().map(|(t, _)| *t);
            let target = match (at.map(|a| a + self.delay), next_input) {
                (Some(a), Some(i)) => a.min(i),
                (a, i) => a.or(i).unwrap_or(self.now),
            };
            self.now = self.now.max(target);
        }
    }

    impl Wall for Script {
        fn take_inputs(&mut self) -> Vec<HostInput> {
            let mut out = Vec::new();
            while self.inputs.front().is_some_and(|(t, _)| *t <= self.now) {
                out.extend(self.inputs.pop_front().map(|(_, i)| i));
            }
            out
        }
    }

    #[derive(Default)]
    struct Recorder {
        advertising: bool,
        sent: Vec<(Micros, bool)>,
        answers: Vec<(u64, bool)>,
        disconnects: u32,
        state: ReadState,
        log: Vec<String>,
        now: Micros,
    }

    impl Peripheral for Recorder {
        fn advertise(&mut self, _: u32) {
            self.advertising = true;
        }
        fn stop_advertising(&mut self) {
            self.advertising = false;
        }
        fn send(&mut self, char: protocol::Uuid, _: Vec<u8>, indicate: bool) {
            assert_eq!(char, EVENT_CHAR);
            self.sent.push((self.now, indicate));
        }
        fn answer_write(&mut self, id: u64, ok: bool) {
            self.answers.push((id, ok));
        }
        fn disconnect(&mut self) {
            self.disconnects += 1;
        }
        fn state(&mut self, s: ReadState) {
            self.state = s;
        }
        fn log(&mut self, at: Micros, line: String) {
            self.now = at;
            self.log.push(format!("{at} {line}"));
        }
    }

    fn host(trace: Option<TraceReader>) -> ButtonHost {
        ButtonHost::new(ServeOptions {
            key: BondKey([7; 16]),
            profile: DeviceProfile::test_firmware(),
            seed: 3,
            battery_pct: 80.0,
            trace,
            refuse_writes: false,
        })
    }

    fn run(h: &mut ButtonHost, inputs: Vec<(Micros, HostInput)>) -> Recorder {
        let mut port = Recorder::default();
        let mut wall = Script {
            now: 0,
            delay: 50,
            inputs: inputs.into(),
        };
        h.serve(&mut port, &mut wall)
            .unwrap_or_else(|e| panic!("{e}"));
        port
    }

    const S: Micros = 1_000_000;

    #[test]
    fn presses_are_queued_in_flash_a_reset_keeps_them_and_writes_are_answered() {
        let mut h = host(None);
        let c = |c| HostInput::Control(c);
        let port = run(
            &mut h,
            vec![
                (S, HostInput::Connected),
                (2 * S, c(Control::Press(2))),
                (4 * S, c(Control::Battery(15.0))),
                (5 * S, c(Control::Reset)),
                (
                    6 * S,
                    HostInput::Write {
                        id: 1,
                        char: protocol::gatt::CONTROL_CHAR,
                        value: vec![0xFF],
                    },
                ),
                (7 * S, c(Control::RefuseWrites(true))),
                (
                    8 * S,
                    HostInput::Write {
                        id: 2,
                        char: protocol::gatt::CONTROL_CHAR,
                        value: vec![0xFF],
                    },
                ),
                (9 * S, c(Control::Quit)),
            ],
        );
        let log = port.log.join("\n");
        assert!(log.contains("Gesture(Double)"), "{log}");
        assert!(log.contains("Queued { seq: 1, kind: Double }"), "{log}");
        assert!(log.contains("Queued { seq: 2, kind: LowBattery }"), "{log}");
        // The reset dropped the link; the reboot kept the queued events.
        assert_eq!(port.disconnects, 1);
        assert!(log.contains("Booted { boots: 2, queued: 2 }"), "{log}");
        assert!(port.advertising, "a rebooted button advertises");
        assert_eq!(port.state.queued, 2);
        assert!(port.state.battery_pct <= 16, "{:?}", port.state);
        // Accepted (and refused by the firmware, which counts it), then refused by the service.
        assert_eq!(port.answers, vec![(1, true), (2, false)]);
        assert_eq!(h.stats.refused_writes, 1);
        // Nothing is indicated without a session: the button waits for the phone.
        assert!(port.sent.is_empty());
        let (p50, p99, max) = h.lateness.summary().expect("events fired");
        assert!(p50 <= max && p99 <= max && max >= 50, "{}", h.lateness);
    }

    #[test]
    fn a_trace_drives_the_button_and_a_broken_one_is_an_error_with_its_place() {
        let good = "{\"trace\":\"alarm-button\",\"version\":1}\n\
            {\"t_ms\":1000,\"button\":\"down\"}\n{\"t_ms\":1150,\"button\":\"up\"}\n";
        let reader = TraceReader::from_reader(
            Path::new("good.jsonl"),
            TraceFormat::Jsonl,
            Box::new(good.as_bytes()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut h = host(Some(reader));
        let port = run(&mut h, vec![(3 * S, HostInput::Control(Control::Quit))]);
        let log = port.log.join("\n");
        assert!(log.contains("Gesture(Single)"), "{log}");
        assert!(log.contains("trace: ended"), "{log}");

        let bad =
            "{\"trace\":\"alarm-button\",\"version\":1}\n{\"t_ms\":10,\"button\":\"sideways\"}\n";
        let reader = TraceReader::from_reader(
            Path::new("bad.jsonl"),
            TraceFormat::Jsonl,
            Box::new(bad.as_bytes()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut h = host(Some(reader));
        let mut port = Recorder::default();
        let mut wall = Script {
            now: 0,
            delay: 0,
            inputs: VecDeque::new(),
        };
        let e = h.serve(&mut port, &mut wall).expect_err("broken trace");
        assert!(e.to_string().starts_with("trace: bad.jsonl:2:"), "{e}");
    }
}
