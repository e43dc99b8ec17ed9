//! Conformance suite of the GATT-client port ([`phone::GattClient`]): the behaviour the
//! phone logic relies on, checked against any implementation — the simulator's
//! [`crate::virtual_client::VirtualGattClient`] in CI, the btleplug adapter of the `hil`
//! feature on a rig with a real button running test firmware.
//!
//! The suite only talks to the port. Time passes through the `pump` callback (virtual
//! time for the simulator, a real sleep for hardware); every wait is bounded and its
//! budget is counted in pumped time, so a run against the simulator is deterministic.
//! Button presses are injected through the test service ([`TEST_INJECT_CHAR`] edges),
//! which only the test firmware exposes ([`device_model::DeviceProfile::test_firmware`]).
//!
//! The suite speaks protocol version 2 with the bond key it is given: the device is the
//! advertiser whose (rotating, private) address resolves with the bond's key; every
//! connection opens a session (`Hello`, the button's offer checked), commands are signed
//! and event frames opened with the session (heartbeats skipped).
//!
//! Checks, in order (a check whose prerequisite failed is reported as skipped, never as
//! passed): the scan discovers the device; connecting reports `Connected`; subscribing
//! to the event characteristic is accepted; a session opens and a signed `SetTime` write
//! is answered by `WriteDone { ok: true }` with the same id; two injected presses arrive
//! as two sealed indications of single clicks in sequence order, each acknowledged by a
//! signed `Ack` write the button confirms; disconnecting reports `Disconnected`; the
//! device can be found (at its new address, if it rotated) and connected again.

use std::collections::VecDeque;
use std::time::Duration;

use phone::gatt::{DeviceId, GattClient, GattEvent};
use protocol::command::TestInjection;
use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR, TEST_INJECT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::{Address, BondKey, Command, EventFrame, EventKind, Keys, Session};

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The implementation behaved as the port requires.
    Pass,
    /// It did not.
    Fail,
    /// Not run because an earlier check it depends on failed.
    Skipped,
}

/// One check of the suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// What is checked (stable name).
    pub name: &'static str,
    /// Outcome.
    pub outcome: Outcome,
    /// What was observed.
    pub detail: String,
}

impl CheckResult {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }
}

impl std::fmt::Display for CheckResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.outcome {
            Outcome::Pass => "ok  ",
            Outcome::Fail => "FAIL",
            Outcome::Skipped => "skip",
        };
        write!(f, "{tag} {}: {}", self.name, self.detail)
    }
}

/// Renders results one per line, with a final count.
pub fn report(results: &[CheckResult]) -> String {
    let mut out = String::new();
    for r in results {
        out.push_str(&format!("{r}\n"));
    }
    let passed = results.iter().filter(|r| r.passed()).count();
    out.push_str(&format!("{passed}/{} checks passed\n", results.len()));
    out
}

/// Pumping granularity: how much time passes between two polls of the client.
const STEP: Duration = Duration::from_millis(20);
/// Bound of discovery and connection waits.
const CONNECT_WAIT: Duration = Duration::from_secs(15);
/// Bound of a write's answer.
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// Bound of an indication's arrival after the presses.
const INDICATION_WAIT: Duration = Duration::from_secs(8);
/// How long a press is held (a single click: well above the noise floor, far below long).
const PRESS: Duration = Duration::from_millis(120);
/// Pause after a release: longer than the 400 ms click window, so presses stay singles.
const AFTER_PRESS: Duration = Duration::from_millis(800);
/// At most this many stale queued events are drained (acknowledged) before the presses.
const MAX_STALE: usize = 200;

struct Run<'a, C: GattClient> {
    client: &'a mut C,
    device: DeviceId,
    pump: &'a mut dyn FnMut(&mut C, Duration),
    backlog: VecDeque<GattEvent>,
    next_id: u64,
    keys: Keys,
    session: Option<Session>,
    counter: u32,
}

impl<C: GattClient> Run<'_, C> {
    fn collect(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.backlog.push_back(e);
        }
    }

    /// Pump until an event matching `pred` is reported (it is taken out of the backlog),
    /// at most `timeout` of pumped time.
    fn wait(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&GattEvent) -> bool,
    ) -> Option<GattEvent> {
        let mut waited = Duration::ZERO;
        loop {
            self.collect();
            if let Some(i) = self.backlog.iter().position(&mut pred) {
                return self.backlog.remove(i);
            }
            if waited >= timeout {
                return None;
            }
            (self.pump)(self.client, STEP);
            waited += STEP;
        }
    }

    fn sleep(&mut self, d: Duration) {
        (self.pump)(self.client, d);
        self.collect();
    }

    /// Write with response and wait for its answer: `Ok(())` when confirmed.
    fn write(&mut self, char: protocol::Uuid, value: &[u8]) -> Result<u64, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.client
            .write(&self.device, char, value, id)
            .map_err(|e| format!("write {id} refused: {e}"))?;
        match self.wait(
            WRITE_WAIT,
            |e| matches!(e, GattEvent::WriteDone { id: i, .. } if *i == id),
        ) {
            Some(GattEvent::WriteDone { ok: true, .. }) => Ok(id),
            Some(_) => Err(format!("write {id} answered ok: false")),
            None => Err(format!("no answer to write {id} within {WRITE_WAIT:?}")),
        }
    }

    fn discover_and_connect(&mut self) -> (Result<String, String>, Result<String, String>) {
        // Only an advertisement seen by this scan counts.
        self.collect();
        self.backlog
            .retain(|e| !matches!(e, GattEvent::Discovered { .. }));
        if let Err(e) = self.client.start_scan() {
            let e = format!("start_scan failed: {e}");
            return (Err(e), Err("no device to connect to".into()));
        }
        let irk = self.keys.irk;
        let ours = move |d: &DeviceId| Address::parse(&d.0).is_ok_and(|a| a.resolves_with(&irk));
        let found = self.wait(
            CONNECT_WAIT,
            |e| matches!(e, GattEvent::Discovered { device, .. } if ours(device)),
        );
        let scan = match found {
            Some(GattEvent::Discovered { device, rssi }) => {
                self.device = device;
                Ok(format!("{} seen at {rssi} dBm", self.device))
            }
            _ => Err(format!(
                "no address resolving with the bond's key within {CONNECT_WAIT:?}"
            )),
        };
        let dev = self.device.clone();
        if scan.is_err() {
            let _ = self.client.stop_scan();
            return (scan, Err("device not discovered".into()));
        }
        let conn = match self.client.connect(&dev) {
            Err(e) => Err(format!("connect refused: {e}")),
            Ok(()) => match self.wait(
                CONNECT_WAIT,
                |e| matches!(e, GattEvent::Connected(d) | GattEvent::Disconnected(d) if *d == dev),
            ) {
                Some(GattEvent::Connected(_)) => Ok("Connected reported".to_string()),
                Some(_) => Err("Disconnected reported instead of Connected".to_string()),
                None => Err(format!("no Connected within {CONNECT_WAIT:?}")),
            },
        };
        // The phone keeps scanning while connected; the suite stops once connected so
        // the air stays quiet during the exchanges.
        let _ = self.client.stop_scan();
        (scan, conn)
    }

    fn press(&mut self) -> Result<(), String> {
        self.write(
            TEST_INJECT_CHAR,
            &TestInjection::Edge { down: true }.encode(),
        )
        .map_err(|e| format!("test service injection (down): {e}"))?;
        self.sleep(PRESS);
        self.write(
            TEST_INJECT_CHAR,
            &TestInjection::Edge { down: false }.encode(),
        )
        .map_err(|e| format!("test service injection (up): {e}"))?;
        self.sleep(AFTER_PRESS);
        Ok(())
    }

    /// The next message on the event characteristic.
    fn next_message(&mut self, timeout: Duration) -> Option<Result<ToPhone, String>> {
        let dev = self.device.clone();
        let ev = self.wait(timeout, |e| {
            matches!(e, GattEvent::Value { device, char, .. } if *device == dev && *char == EVENT_CHAR)
        })?;
        let GattEvent::Value { value, .. } = ev else {
            return None;
        };
        Some(ToPhone::decode(&value).map_err(|e| format!("undecodable message: {e}")))
    }

    /// The next sealed event frame of the session (heartbeats skipped).
    fn next_indication(&mut self, timeout: Duration) -> Option<Result<EventFrame, String>> {
        loop {
            let msg = match self.next_message(timeout)? {
                Ok(m) => m,
                Err(e) => return Some(Err(e)),
            };
            let ToPhone::Sealed { index, body } = msg else {
                return Some(Err(format!("unexpected message {msg:?}")));
            };
            let s = self.session?;
            match s.open(&self.keys, index, &body) {
                Ok(Some(f)) if f.kind == EventKind::Heartbeat => continue,
                Ok(Some(f)) => return Some(Ok(f)),
                Ok(None) => return Some(Err(format!("frame {index} does not open"))),
                Err(e) => return Some(Err(format!("frame {index}: {e}"))),
            }
        }
    }

    /// Open a session (Hello, the offer checked) and set the clock with a signed
    /// command; the id of the `SetTime` write.
    fn open_session(&mut self, utc_ms: u64) -> Result<u64, String> {
        self.session = None;
        // Unique per connection of this run (a test client, not the app: no RNG).
        let nonce = (self.next_id + 1).to_le_bytes();
        self.write(
            CONTROL_CHAR,
            &ToButton::Hello { phone_nonce: nonce }.encode(),
        )
        .map_err(|e| format!("Hello: {e}"))?;
        let offer = match self.next_message(WRITE_WAIT) {
            Some(Ok(ToPhone::Offer {
                session_id,
                button_nonce,
                tag,
            })) => Session::accept_offer(&self.keys, nonce, session_id, button_nonce, &tag),
            other => return Err(format!("no session offer: {other:?}")),
        };
        self.session = Some(offer.ok_or("the offer does not prove the bond")?);
        self.counter = 0;
        self.command(Command::SetTime { utc_ms })
    }

    /// Write a command signed in the session.
    fn command(&mut self, cmd: Command) -> Result<u64, String> {
        let s = self.session.ok_or("no session")?;
        self.counter += 1;
        let m = s.sign(&self.keys, self.counter, cmd);
        self.write(CONTROL_CHAR, &m.encode())
    }

    fn ack(&mut self, seq: u32) -> Result<(), String> {
        self.command(Command::Ack { seq })
            .map(|_| ())
            .map_err(|e| format!("Ack of #{seq}: {e}"))
    }

    /// Acknowledge whatever the button still had queued from before the suite.
    fn drain_stale(&mut self) -> Result<usize, String> {
        let mut n = 0;
        while n < MAX_STALE {
            match self.next_indication(Duration::from_millis(1_500)) {
                None => return Ok(n),
                Some(Err(e)) => return Err(e),
                Some(Ok(f)) => {
                    self.ack(f.seq)?;
                    n += 1;
                }
            }
        }
        Err(format!("more than {MAX_STALE} stale events queued"))
    }

    fn indications(&mut self) -> Result<String, String> {
        let stale = self.drain_stale()?;
        self.press()?;
        self.press()?;
        let mut seqs = Vec::new();
        while seqs.len() < 2 {
            let f = match self.next_indication(INDICATION_WAIT) {
                None => {
                    return Err(format!(
                        "{} of 2 indications within {INDICATION_WAIT:?} of the presses",
                        seqs.len()
                    ))
                }
                Some(r) => r?,
            };
            if f.kind != EventKind::Single {
                return Err(format!(
                    "event #{} is a {} (expected a single click)",
                    f.seq,
                    f.kind.name()
                ));
            }
            if seqs.last().is_some_and(|&s| s == f.seq) {
                // A retransmission of an event whose Ack crossed it: acknowledge again.
                self.ack(f.seq)?;
                continue;
            }
            self.ack(f.seq)?;
            seqs.push(f.seq);
        }
        let in_order = seqs[1] == seqs[0].wrapping_add(1).max(1);
        if !in_order {
            return Err(format!("sequence numbers {seqs:?} are not consecutive"));
        }
        Ok(format!(
            "events #{} and #{} arrived in order, both acknowledged ({stale} stale drained)",
            seqs[0], seqs[1]
        ))
    }
}

fn record(out: &mut Vec<CheckResult>, name: &'static str, r: Result<String, String>) -> bool {
    let (outcome, detail) = match r {
        Ok(d) => (Outcome::Pass, d),
        Err(d) => (Outcome::Fail, d),
    };
    out.push(CheckResult {
        name,
        outcome,
        detail,
    });
    outcome == Outcome::Pass
}

fn skip(out: &mut Vec<CheckResult>, names: &[&'static str], why: &str) {
    for &name in names {
        out.push(CheckResult {
            name,
            outcome: Outcome::Skipped,
            detail: format!("not run: {why}"),
        });
    }
}

/// Names of the checks, in order.
pub const CHECKS: &[&str] = &[
    "scan discovers the device",
    "connect reports Connected",
    "subscribe to the event characteristic",
    "SetTime write answered with its id",
    "indications in order, acknowledged",
    "disconnect reports Disconnected",
    "rediscover after disconnect",
    "reconnect",
];

/// Run the suite against `client`, which must be able to reach a button bonded with
/// `key` (running the test firmware, which exposes the test service; idle, not connected
/// to anything else). `pump(client, d)` lets `d` pass: virtual time for a simulator, a
/// sleep for hardware. Leaves the client disconnected and not scanning.
pub fn run_suite<C: GattClient>(
    client: &mut C,
    key: BondKey,
    pump: &mut dyn FnMut(&mut C, Duration),
) -> Vec<CheckResult> {
    let mut run = Run {
        client,
        device: DeviceId(String::new()),
        pump,
        backlog: VecDeque::new(),
        next_id: 0,
        keys: key.keys(),
        session: None,
        counter: 0,
    };
    let mut out = Vec::new();
    let (scan, conn) = run.discover_and_connect();
    if !record(&mut out, CHECKS[0], scan) {
        skip(&mut out, &CHECKS[1..], "the device was not discovered");
        return out;
    }
    if !record(&mut out, CHECKS[1], conn) {
        skip(&mut out, &CHECKS[2..], "no connection");
        return out;
    }
    let device = run.device.clone();
    let sub = run
        .client
        .subscribe(&device, EVENT_CHAR)
        .map(|()| "accepted".to_string())
        .map_err(|e| format!("subscribe failed: {e}"));
    let subscribed = record(&mut out, CHECKS[2], sub);
    // Like the phone app: the clock on every connection (the button sends only after).
    let utc_ms = 1_767_603_600_000;
    let set_time = run
        .open_session(utc_ms)
        .map(|id| format!("session open; WriteDone {{ id: {id}, ok: true }}"));
    let time_ok = record(&mut out, CHECKS[3], set_time);
    if subscribed && time_ok {
        let r = run.indications();
        record(&mut out, CHECKS[4], r);
    } else {
        skip(&mut out, &CHECKS[4..5], "not subscribed or clock not set");
    }
    let dev = device.clone();
    let disc = match run.client.disconnect(&device) {
        Err(e) => Err(format!("disconnect refused: {e}")),
        Ok(()) => match run.wait(
            WRITE_WAIT,
            |e| matches!(e, GattEvent::Disconnected(d) if *d == dev),
        ) {
            Some(_) => Ok("Disconnected reported".to_string()),
            None => Err(format!("no Disconnected within {WRITE_WAIT:?}")),
        },
    };
    if !record(&mut out, CHECKS[5], disc) {
        skip(&mut out, &CHECKS[6..], "still connected");
        return out;
    }
    // Give the button time to notice and advertise again.
    run.sleep(Duration::from_millis(500));
    let (scan, conn) = run.discover_and_connect();
    if !record(&mut out, CHECKS[6], scan) {
        skip(&mut out, &CHECKS[7..], "the device was not rediscovered");
        return out;
    }
    let conn = conn.and_then(|c| {
        let device = run.device.clone();
        run.client
            .subscribe(&device, EVENT_CHAR)
            .map_err(|e| format!("subscribe failed: {e}"))?;
        run.open_session(utc_ms)
            .map(|_| format!("{c}; new session, SetTime confirmed on the new connection"))
    });
    record(&mut out, CHECKS[7], conn);
    let device = run.device.clone();
    let _ = run.client.disconnect(&device);
    run.sleep(Duration::from_millis(200));
    out
}
