//! The attacker: a second BLE central in the world's one air, without the key, and a
//! passive sniffer (SPEC §3 "Security", §4 attacker steps).
//!
//! The button accepts one connection. When the attacker connects, its connection takes
//! the button's one link: the button is connected to the attacker from then on, stops
//! advertising, and no PDU of the phone's connection reaches it any more (that
//! connection is *jammed*). The phone learns of it by its supervision timeout, and its
//! reconnection attempts find no advertising button until the attacker disconnects; then
//! the button advertises again and the phone reconnects as after any link loss.
//!
//! On its own connection the attacker is a lossless central on the button's
//! connection-event grid (it is within a metre, with its own radio): one write is one ATT
//! write request, answered by the button's write response one connection event later;
//! ATT allows one request outstanding, so writes go one after another. It hears every
//! value the button indicates or notifies on that connection (it subscribes to
//! everything) and its stack confirms indications.
//!
//! The sniffer records every PDU that crosses the air between the button and the phone
//! in either direction: it is the air's capture (the btsnoop data path), switched on
//! when the sniffer starts and read from that point on.
//!
//! Attack contents are built here too ([`ack_every_queued`], [`set_clock`],
//! [`vibrate`], [`test_clicks`], [`forge_press`]), as an attacker without the key would
//! build them (the plain commands of protocol version 1 too, which the button refuses).
//! Everything is deterministic: timing on the virtual clock, the attacker's entropy
//! from its own seeded stream.

use std::collections::{BTreeSet, VecDeque};

use device_model::Input;
use phone::gatt::GattEvent;
use protocol::command::TestInjection;
use protocol::gatt::{characteristic, CONTROL_CHAR, EVENT_CHAR, TEST_INJECT_CHAR};
use protocol::wire::WIRE_VERSION;
use protocol::{
    BondKey, Command, EventFrame, EventKind, PairingKeyPair, Session, ToButton, ToPhone, Uuid,
    VibrationPattern,
};

use super::{Air, AirError, AirEv};
use crate::link::{AirPdu, Dir};
use crate::rng::{Component, Stream};
use crate::sched::{Micros, MILLI};
use crate::series::MarkerKind;
use crate::simulation::Simulation;
use crate::timeline::Layer;

/// The highest sequence number the attacker acknowledges: the firmware's queue holds at
/// least 64 events, numbered from 1.
pub const ACK_SEQS: u32 = 64;

/// One write of the attacker: the characteristic and the bytes.
pub type AttackWrite = (Uuid, Vec<u8>);

/// A value the button sent the attacker on its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heard {
    /// When it arrived.
    pub t_us: Micros,
    /// The characteristic.
    pub char: Uuid,
    /// Its bytes.
    pub value: Vec<u8>,
}

/// What the attacker's writes came to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteTally {
    /// Write requests that reached the button.
    pub delivered: u64,
    /// Write responses the button sent back.
    pub answered: u64,
    /// Writes dropped because the attacker's link ended first.
    pub lost: u64,
}

/// The attacker's connection to the button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Conn {
    id: u64,
    anchor: Micros,
    /// The last connection event used in each direction ([`Dir`] as index).
    next_free: [Micros; 2],
}

/// The attacker's state in the air.
#[derive(Debug, Default)]
pub(crate) struct Attacker {
    conn: Option<Conn>,
    conns: u64,
    /// The phone's connections the attacker took the button's link from.
    jammed: BTreeSet<u64>,
    queue: VecDeque<AttackWrite>,
    in_flight: bool,
    heard: Vec<Heard>,
    tally: WriteTally,
    /// Index in the air's capture where the sniffer started.
    pub(super) sniff_from: Option<usize>,
    /// Created at the first draw (boxed: most worlds have no attacker).
    pub(super) rng: Option<Box<Stream>>,
    /// Whether an impostor answers the phone's connections ([`super::impostor`]).
    pub(super) impostor: bool,
    /// Addresses the button advertised while the sniffer listened.
    pub(super) advertised: Vec<String>,
}

/// What the attacker schedules on the world's queue (its own connection's PDUs).
#[derive(Clone, Debug)]
pub(crate) enum AttackerEv {
    /// A write request reaches the button.
    Write {
        conn: u64,
        char: Uuid,
        value: Vec<u8>,
    },
    /// The button's write response reaches the attacker.
    WriteDone { conn: u64 },
    /// A value the button sent reaches the attacker.
    Value {
        conn: u64,
        char: Uuid,
        value: Vec<u8>,
        confirm: bool,
    },
    /// The attacker's stack confirms an indication.
    Confirm { conn: u64 },
}

impl Attacker {
    /// Whether the attacker holds the button's one link.
    pub(crate) fn holds_link(&self) -> bool {
        self.conn.is_some()
    }

    /// Whether `conn`, a connection of the phone, was jammed by the attacker.
    pub(crate) fn jams(&self, conn: u64) -> bool {
        self.jammed.contains(&conn)
    }

    /// The attacker's link ended (the button reset or browned out): its writes are lost.
    fn drop_link(&mut self) -> bool {
        self.tally.lost += self.queue.len() as u64 + u64::from(self.in_flight);
        self.queue.clear();
        self.in_flight = false;
        self.conn.take().is_some()
    }

    /// The connection event at which a PDU queued now in `dir` goes out (strictly after
    /// `now` and after the last one in that direction).
    fn slot(&mut self, now: Micros, dir: Dir, interval: Micros) -> Option<(u64, Micros)> {
        let c = self.conn.as_mut()?;
        let start = now.max(c.next_free[dir as usize]);
        let k = start.saturating_sub(c.anchor) / interval + 1;
        let at = c.anchor + k * interval;
        c.next_free[dir as usize] = at;
        Some((c.id, at))
    }

    fn current(&self, conn: u64) -> bool {
        self.conn.is_some_and(|c| c.id == conn)
    }
}

// ---- the attacker in the air ----------------------------------------------------------

impl Air {
    pub(super) fn attack_note(&self, text: String) {
        let mut core = self.core.borrow_mut();
        core.mark(MarkerKind::Fault, text.clone());
        core.observe(Layer::Harness, crate::observed::Observed::Attack(text));
    }

    fn interval(&self) -> Micros {
        u64::from(self.link.params.conn_interval_ms) * MILLI
    }

    fn button_alive(&self) -> bool {
        self.button.as_ref().is_some_and(|b| !b.is_dead())
    }

    /// The attacker connects now: its connection takes the button's one link, the phone's
    /// connection (if any) is jammed and lost for the phone a supervision timeout later.
    pub(crate) fn attacker_connect(&mut self) -> Result<(), AirError> {
        if self.attacker.holds_link() {
            return Ok(());
        }
        if !self.button_alive() {
            return Err(AirError::NotConnected(self.addr.clone()));
        }
        let now = self.now();
        let jammed = self.link.conn_id();
        if let Some(conn) = jammed {
            self.attacker.jammed.insert(conn);
            let at = now + u64::from(self.link.params.supervision_timeout_ms) * MILLI;
            self.at(at, AirEv::Silent { conn });
        }
        self.link.stop_advertising();
        let a = &mut self.attacker;
        a.conns += 1;
        a.conn = Some(Conn {
            id: a.conns,
            anchor: now,
            next_free: [now; 2],
        });
        self.attack_note(match jammed {
            Some(_) => "an attacker connects to the button: the phone's link is jammed".into(),
            None => "an attacker connects to the button".into(),
        });
        // Straight to the firmware: the air keeps the phone's link inputs from it now.
        if let Some(b) = self.button.as_mut() {
            b.handle(now, Input::Connected);
        }
        self.drain_button();
        Ok(())
    }

    /// The attacker disconnects: the button hears it at once and advertises again.
    pub(crate) fn attacker_disconnect(&mut self) {
        if std::mem::take(&mut self.attacker.impostor) {
            // The phone's connection to the impostor is lost a supervision timeout later.
            if let Some(conn) = self.link.conn_id() {
                let t = self.now() + u64::from(self.link.params.supervision_timeout_ms) * MILLI;
                self.at(t, AirEv::Silent { conn });
            }
        }
        if self.attacker.drop_link() {
            self.attack_note("the attacker disconnects".into());
            if self.button_alive() {
                self.button_input(Input::Disconnected);
            }
        }
    }

    /// The attacker's link ends with the button (reset, brown-out).
    pub(crate) fn attacker_lost(&mut self) {
        if self.attacker.drop_link() {
            self.attack_note("the attacker's link to the button is lost".into());
        }
    }

    /// Queue a write of the attacker (one ATT write request each, one at a time).
    pub(crate) fn attacker_write(&mut self, char: Uuid, value: Vec<u8>) -> Result<(), AirError> {
        if !self.attacker.holds_link() {
            return Err(AirError::NotConnected(self.addr.clone()));
        }
        self.attacker.queue.push_back((char, value));
        if !self.attacker.in_flight {
            self.attacker_send_next();
        }
        Ok(())
    }

    fn attacker_send_next(&mut self) {
        let Some((char, value)) = self.attacker.queue.pop_front() else {
            return;
        };
        let (now, interval) = (self.now(), self.interval());
        if let Some((conn, at)) = self.attacker.slot(now, Dir::ToButton, interval) {
            self.attacker.in_flight = true;
            let ev = AttackerEv::Write { conn, char, value };
            self.at(at, AirEv::Attacker(ev));
        }
    }

    /// A value of the button goes to the attacker, whose connection holds its link.
    pub(crate) fn send_to_attacker(&mut self, ev: GattEvent, confirm: bool) {
        let GattEvent::Value { char, value, .. } = ev else {
            return;
        };
        let (now, interval) = (self.now(), self.interval());
        if let Some((conn, at)) = self.attacker.slot(now, Dir::ToPhone, interval) {
            let ev = AttackerEv::Value {
                conn,
                char,
                value,
                confirm,
            };
            self.at(at, AirEv::Attacker(ev));
        }
    }

    /// One of the attacker's PDUs is due.
    pub(crate) fn on_attacker(&mut self, ev: AttackerEv) {
        let conn = match &ev {
            AttackerEv::Write { conn, .. }
            | AttackerEv::WriteDone { conn }
            | AttackerEv::Value { conn, .. }
            | AttackerEv::Confirm { conn } => *conn,
        };
        if !self.attacker.current(conn) {
            return;
        }
        if !self.button_alive() {
            return self.attacker_lost();
        }
        let (now, interval) = (self.now(), self.interval());
        match ev {
            AttackerEv::Write { char, value, .. } => {
                self.attacker.tally.delivered += 1;
                self.button_input(Input::Write { char, value });
                if let Some((conn, at)) = self.attacker.slot(now, Dir::ToPhone, interval) {
                    self.at(at, AirEv::Attacker(AttackerEv::WriteDone { conn }));
                }
            }
            AttackerEv::WriteDone { .. } => {
                self.attacker.tally.answered += 1;
                self.attacker.in_flight = false;
                self.attacker_send_next();
            }
            AttackerEv::Value {
                char,
                value,
                confirm,
                ..
            } => {
                self.attacker.heard.push(Heard {
                    t_us: now,
                    char,
                    value,
                });
                if confirm {
                    if let Some((conn, at)) = self.attacker.slot(now, Dir::ToButton, interval) {
                        self.at(at, AirEv::Attacker(AttackerEv::Confirm { conn }));
                    }
                }
            }
            AttackerEv::Confirm { .. } => self.button_input(Input::IndicationConfirmed),
        }
    }

    /// The sniffer starts recording (the air's capture from now on).
    pub(crate) fn sniffer_start(&mut self) {
        self.link.capture_on = true;
        if self.attacker.sniff_from.is_none() {
            self.attacker.sniff_from = Some(self.link.capture.len());
        }
    }

    /// What the sniffer recorded.
    pub(crate) fn sniffed(&self) -> &[AirPdu] {
        match self.attacker.sniff_from {
            Some(i) => self.link.capture.get(i..).unwrap_or_default(),
            None => &[],
        }
    }
}

// ---- the harness's verbs ----------------------------------------------------------------

impl Simulation {
    /// An attacker connects to the button now (a second central in range, without the
    /// key): its connection takes the button's one link and jams the phone's. Fails when
    /// the button is off.
    pub fn attacker_connect(&mut self) -> Result<(), AirError> {
        let r = self.air.attacker_connect();
        self.settle();
        r
    }

    /// The attacker disconnects now; the phone can reconnect.
    pub fn attacker_disconnect(&mut self) {
        self.air.attacker_disconnect();
        self.settle();
    }

    /// Whether the attacker holds the button's link.
    pub fn attacker_connected(&self) -> bool {
        self.air.attacker.holds_link()
    }

    /// Queue the attacker's writes (each one ATT write request, in order); time must run
    /// for them to cross ([`Simulation::run_attacker`]). Fails when the attacker is not
    /// connected.
    pub fn attacker_writes(&mut self, writes: Vec<AttackWrite>) -> Result<(), AirError> {
        for (char, value) in writes {
            self.air.attacker_write(char, value)?;
        }
        self.settle();
        Ok(())
    }

    /// Whether the attacker has no write queued or awaiting its response.
    pub fn attacker_idle(&self) -> bool {
        let a = &self.air.attacker;
        a.queue.is_empty() && !a.in_flight
    }

    /// Let time run until the attacker's writes are all answered (or its link ended), at
    /// most until `deadline`; returns whether they were.
    pub fn run_attacker(&mut self, deadline: Micros) -> bool {
        self.run_until_cond(deadline, &|s| s.attacker_idle())
    }

    /// What the attacker's writes came to so far.
    pub fn attacker_tally(&self) -> WriteTally {
        self.air.attacker.tally
    }

    /// The values the button sent the attacker.
    pub fn attacker_heard(&self) -> &[Heard] {
        &self.air.attacker.heard
    }

    /// The sniffer starts recording every PDU between the button and the phone.
    pub fn sniffer_start(&mut self) {
        self.air.sniffer_start();
    }

    /// Every PDU between the button and the phone since the sniffer started.
    pub fn sniffed(&self) -> &[AirPdu] {
        self.air.sniffed()
    }

    /// Whether the button speaks protocol version 2, as the attacker can tell from the
    /// last event frame it put on the air (version 1 when none was seen).
    pub fn button_speaks_v2(&self) -> bool {
        self.captured_event()
            .is_some_and(|f| f.first() == Some(&WIRE_VERSION))
    }

    /// The attacker builds the best press it can forge from what it heard
    /// ([`forge_press`]) and sends it to the phone as if from the button, now.
    pub fn attacker_forge_press(&mut self) -> Forgery {
        let utc_ms = self.utc_us() / 1000;
        let entropy = self.attacker_entropy();
        let last = self.captured_event().map(<[u8]>::to_vec);
        let (how, value) = forge_press(self.sniffed(), last.as_deref(), utc_ms, entropy);
        self.air.attack_note(format!(
            "the attacker forges a press ({}) and sends it to the phone",
            how.describe()
        ));
        let device = self.button_addr().clone();
        self.inject_to_phone(GattEvent::Value {
            device,
            char: EVENT_CHAR,
            value,
        });
        self.settle();
        how
    }

    /// Thirty-two bytes from the attacker's own seeded stream.
    pub fn attacker_entropy(&mut self) -> [u8; 32] {
        let seed = self.seed();
        self.air
            .attacker
            .rng
            .get_or_insert_with(|| Box::new(Stream::new(seed, Component::Attacker)))
            .bytes()
    }

    /// A timeline line and a fault marker of an attack step.
    pub fn attack_note(&mut self, text: String) {
        self.air.attack_note(text);
        self.settle();
    }
}

// ---- attack contents ------------------------------------------------------------------

/// A v2 command as an attacker without the key builds it: signed with an all-zero tag.
fn unsigned_v2(counter: u32, command: Command) -> Vec<u8> {
    ToButton::Signed {
        counter,
        command,
        tag: [0; protocol::session::TAG_LEN],
    }
    .encode()
}

/// "Acknowledge every queued event": `Ack{seq}` for seq 1..=64, each in every form the
/// attacker can build (v1 plain command; v2 signed message with a zero tag): 128 writes.
pub fn ack_every_queued() -> Vec<AttackWrite> {
    (1..=ACK_SEQS)
        .flat_map(|seq| {
            let cmd = Command::Ack { seq };
            [
                (CONTROL_CHAR, cmd.encode()),
                (CONTROL_CHAR, unsigned_v2(seq, cmd)),
            ]
        })
        .collect()
}

/// One command write in the form the button speaks (v2: a signed message with a zero
/// tag; v1: the plain command).
fn command_write(command: Command, v2: bool) -> AttackWrite {
    let bytes = if v2 {
        unsigned_v2(1, command)
    } else {
        command.encode()
    };
    (CONTROL_CHAR, bytes)
}

/// "Set the button's clock to `utc_ms`": one write.
pub fn set_clock(utc_ms: u64, v2: bool) -> AttackWrite {
    command_write(Command::SetTime { utc_ms }, v2)
}

/// "Make the button vibrate `pattern`": one write.
pub fn vibrate(pattern: VibrationPattern, v2: bool) -> AttackWrite {
    command_write(Command::Vibrate(pattern), v2)
}

/// "Click the button `n` times through the test service": a press and a release edge
/// per click, written to the test characteristic (2n writes; one ATT round trip each,
/// so a click lasts about two connection intervals, and so does the gap).
pub fn test_clicks(n: u32) -> Vec<AttackWrite> {
    (0..n)
        .flat_map(|_| {
            [true, false].map(|down| (TEST_INJECT_CHAR, TestInjection::Edge { down }.encode()))
        })
        .collect()
}

/// "Try to bond with the button", first write: a pairing request with the attacker's own
/// key pair (the button answers it only in pairing mode).
pub fn pair_request(own: &PairingKeyPair) -> AttackWrite {
    let phone_public = own.public();
    (
        CONTROL_CHAR,
        ToButton::PairRequest { phone_public }.encode(),
    )
}

/// The second write, when the button answered the request on the attacker's connection:
/// the key confirmation of the attacker's own pairing (it is one end of that pairing, so
/// it can compute it). `None` when no answer was heard.
pub fn pair_confirm(own: &PairingKeyPair, heard: &[Heard]) -> Option<AttackWrite> {
    let button_public = heard
        .iter()
        .rev()
        .find_map(|h| match ToPhone::decode(&h.value) {
            Ok(ToPhone::PairResponse { button_public }) => Some(button_public),
            _ => None,
        })?;
    let pairing = own.agree(&own.public(), &button_public).ok()?;
    let tag = pairing.phone_confirm();
    Some((CONTROL_CHAR, ToButton::PairConfirm { tag }.encode()))
}

/// How the attacker built a forged press.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
    /// A v2 frame sealed in the last session it heard, under a key it derived from the
    /// pairing's public values and its own key pair (all it can compute).
    DerivedKey,
    /// The last event frame it heard, replayed as it was.
    Replay,
    /// A v2 frame sealed under the keys of an all-zero bond (the default key an
    /// unbonded button once had).
    ZeroKey,
}

impl Forgery {
    /// For the timeline.
    pub fn describe(self) -> &'static str {
        match self {
            Forgery::DerivedKey => "v2 frame under a key derived from the pairing's public values",
            Forgery::Replay => "replay of the last event frame heard",
            Forgery::ZeroKey => "v2 frame under keys derived from an all-zero bond",
        }
    }
}

/// What the sniffer's record tells an attacker.
#[derive(Debug, Default)]
struct Overheard {
    phone_public: Option<[u8; 32]>,
    button_public: Option<[u8; 32]>,
    hello: Option<[u8; 8]>,
    offer: Option<(u32, [u8; 8])>,
    last_index: Option<u32>,
    last_frame: Option<Vec<u8>>,
}

impl Overheard {
    fn read(pdus: &[AirPdu]) -> Self {
        let mut o = Overheard::default();
        let handle = |c: Uuid| characteristic(c).map(|c| c.value_handle);
        let (control, event) = (handle(CONTROL_CHAR), handle(EVENT_CHAR));
        for p in pdus {
            let [op, lo, hi, ref v @ ..] = p.att[..] else {
                continue;
            };
            let h = Some(u16::from_le_bytes([lo, hi]));
            match (p.dir, op) {
                (Dir::ToButton, 0x12) if h == control => o.phone_wrote(v),
                (Dir::ToPhone, 0x1d) if h == event => o.button_sent(v),
                _ => {}
            }
        }
        o
    }

    fn phone_wrote(&mut self, v: &[u8]) {
        match ToButton::decode(v) {
            Ok(ToButton::PairRequest { phone_public }) => self.phone_public = Some(phone_public),
            Ok(ToButton::Hello { phone_nonce }) => self.hello = Some(phone_nonce),
            _ => {}
        }
    }

    fn button_sent(&mut self, v: &[u8]) {
        self.last_frame = Some(v.to_vec());
        match ToPhone::decode(v) {
            Ok(ToPhone::PairResponse { button_public }) => self.button_public = Some(button_public),
            Ok(ToPhone::Offer {
                session_id,
                button_nonce,
                ..
            }) => {
                self.offer = Some((session_id, button_nonce));
                self.last_index = None;
            }
            Ok(ToPhone::Sealed { index, .. }) => self.last_index = Some(index),
            _ => {}
        }
    }
}

fn press(seq: u32, utc_ms: u64) -> EventFrame {
    EventFrame {
        kind: EventKind::Single,
        flags: protocol::event::FLAG_CLOCK_SYNCED,
        seq,
        time_ms: utc_ms,
        payload: Default::default(),
    }
}

/// The v2 forgery: the attacker's own key pair agreed with the phone's public key (the
/// key a man in the middle would share with the phone, had it been in the middle), in
/// the last session whose `Hello` and `Offer` it heard, at the next frame index.
fn derived_v2(o: &Overheard, utc_ms: u64, entropy: [u8; 32]) -> Option<Vec<u8>> {
    let phone_public = o.phone_public?;
    let own = PairingKeyPair::from_entropy(entropy);
    let pairing = own.agree(&phone_public, &own.public()).ok()?;
    let (id, button_nonce) = o.offer?;
    let session = Session {
        id,
        phone_nonce: o.hello?,
        button_nonce,
    };
    let index = o.last_index.map_or(0, |i| i.wrapping_add(1));
    // The sequence numbers are encrypted: the frame index is the best guess.
    let frame = press(index.wrapping_add(1), utc_ms);
    let sealed = session.seal(&pairing.key.keys(), index, &frame).ok()?;
    Some(sealed.encode())
}

/// The best press an attacker can forge from what it `heard` (the sniffer's record) and
/// the `last` event frame it saw on the air, at `utc_ms`, with its own `entropy`:
/// 1. a pairing and a session heard: a sealed frame under a key derived from the public
///    values (without a private key the bond cannot be computed);
/// 2. else the last event frame, replayed;
/// 3. else a frame sealed under the keys of an all-zero bond, in session 0.
pub fn forge_press(
    heard: &[AirPdu],
    last: Option<&[u8]>,
    utc_ms: u64,
    entropy: [u8; 32],
) -> (Forgery, Vec<u8>) {
    let o = Overheard::read(heard);
    if let Some(bytes) = derived_v2(&o, utc_ms, entropy) {
        return (Forgery::DerivedKey, bytes);
    }
    if let Some(f) = o.last_frame.as_deref().or(last) {
        return (Forgery::Replay, f.to_vec());
    }
    let bytes = zero_session()
        .seal(&BondKey([0; 16]).keys(), 0, &press(1, utc_ms))
        .map(|m| m.encode())
        .unwrap_or_default();
    (Forgery::ZeroKey, bytes)
}

/// Session 0 with all-zero nonces: what the all-zero forgery is sealed in.
pub fn zero_session() -> Session {
    Session {
        id: 0,
        phone_nonce: [0; 8],
        button_nonce: [0; 8],
    }
}

#[cfg(test)]
mod tests {
    use protocol::gatt::CONTROL_CHAR;
    use protocol::{BondKey, Command, ToPhone};

    use super::{forge_press, test_clicks, vibrate, zero_session, Forgery};
    use crate::link::Dir;
    use crate::sched::{MILLI, SECOND};
    use crate::simulation::{Setup, Simulation};

    fn sim() -> Simulation {
        let setup = Setup {
            seed: 7,
            ..Setup::default()
        };
        Simulation::new(setup).expect("a world")
    }

    fn phone_connected(s: &Simulation) -> bool {
        s.phone().is_some_and(|p| p.durable().bond.is_some()) && s.air.link.conn_id().is_some()
    }

    #[test]
    fn the_attacker_takes_the_link_the_phone_learns_by_supervision_and_comes_back_after() {
        let mut s = sim();
        s.advance(SECOND);
        assert!(phone_connected(&s));
        s.attacker_connect().expect("in range");
        assert!(s.attacker_connected());
        // The phone believes it is connected until its supervision timeout.
        s.advance(3_900 * MILLI);
        assert!(s.air.link.conn_id().is_some());
        s.advance(200 * MILLI);
        assert!(s.air.link.conn_id().is_none());
        // Its reconnection attempts find nobody while the attacker holds the link.
        s.advance(60 * SECOND);
        assert!(s.air.link.conn_id().is_none());
        s.attacker_disconnect();
        s.advance(5 * SECOND);
        assert!(phone_connected(&s), "{}", s.timeline.render());
    }

    #[test]
    fn one_write_is_one_request_and_one_response_in_order() {
        let mut s = sim();
        s.attacker_connect().expect("in range");
        let start = s.now();
        let writes = vec![vibrate(protocol::VibrationPattern::Sent, false); 3];
        s.attacker_writes(writes).expect("connected");
        assert!(s.run_attacker(start + 10 * SECOND));
        let t = s.attacker_tally();
        assert_eq!((t.delivered, t.answered, t.lost), (3, 3, 0));
        // Two connection events per write, one after another.
        assert_eq!(s.now(), start + 6 * 100 * MILLI);
        assert!(s.attacker_writes(test_clicks(1)).is_ok());
        s.attacker_disconnect();
        assert!(s.attacker_writes(test_clicks(1)).is_err());
        assert_eq!(s.attacker_tally().lost, 2);
    }

    #[test]
    fn the_sniffer_records_the_phone_and_button_traffic_from_its_start_only() {
        let mut s = sim();
        s.advance(SECOND);
        s.sniffer_start();
        assert!(s.sniffed().is_empty());
        s.restart_app();
        s.advance(10 * SECOND);
        let sniffed = s.sniffed();
        assert!(sniffed.iter().any(|p| p.dir == Dir::ToButton));
        assert!(sniffed.iter().all(|p| p.t_us >= SECOND));
    }

    #[test]
    fn the_button_answers_the_attacker_on_its_own_connection_only() {
        let mut s = sim();
        s.attacker_connect().expect("in range");
        let cmd = Command::SetTime {
            utc_ms: 1_767_603_600_000,
        };
        s.attacker_writes(vec![(CONTROL_CHAR, cmd.encode())])
            .expect("connected");
        s.advance(SECOND);
        // Whatever the firmware answers on the attacker's connection reaches it only.
        let heard = s.attacker_heard().len();
        let captured = s.air.capture().len();
        s.advance(SECOND);
        assert_eq!(captured, s.air.capture().len());
        assert!(heard <= s.attacker_heard().len());
    }

    #[test]
    fn the_best_forgery_uses_what_was_heard() {
        let last = [1u8, 2, 3];
        assert_eq!(forge_press(&[], Some(&last), 5, [1; 32]).0, Forgery::Replay);
        let (how, bytes) = forge_press(&[], None, 5, [1; 32]);
        assert_eq!(how, Forgery::ZeroKey);
        let Ok(ToPhone::Sealed { index, body }) = ToPhone::decode(&bytes) else {
            panic!("not a sealed frame");
        };
        let keys = BondKey([0; 16]).keys();
        let opened = zero_session().open(&keys, index, &body);
        assert!(opened.is_ok_and(|f| f.is_some_and(|f| f.seq == 1)));
    }

    #[test]
    fn a_forged_press_goes_to_the_phone_as_if_from_the_button() {
        let mut s = sim();
        assert_eq!(s.attacker_forge_press(), Forgery::ZeroKey);
        s.advance(SECOND);
        assert_eq!(s.durable().rejected, 1, "{}", s.timeline.render());
    }
}
