//! Test support: a button speaking protocol version 2 to the app (answers `Hello`,
//! seals frames, reads signed commands).

use protocol::event::FLAG_CLOCK_SYNCED;
use protocol::gatt::EVENT_CHAR;
use protocol::wire::ToButton;
use protocol::{Address, BondKey, Command as DeviceCommand, EventFrame, EventKind, Keys, Session};

use super::{Command, Input, PhoneApp};
use crate::config::{AppConfig, Contact};
use crate::gatt::{DeviceId, GattCommand, GattEvent};
use crate::store::Durable;

pub(crate) const KEY: [u8; 16] = [7; 16];
pub(crate) const T0: u64 = 1_767_603_600_000_000;

/// The bonded button, seen from the app.
pub(crate) struct FakeButton {
    pub(crate) keys: Keys,
    pub(crate) dev: DeviceId,
    pub(crate) session: Option<Session>,
    index: u32,
    next_id: u32,
}

impl FakeButton {
    pub(crate) fn new(key: [u8; 16]) -> Self {
        let keys = BondKey(key).keys();
        let dev = DeviceId(Address::resolvable(&keys.irk, [1, 2, 3]).to_string());
        FakeButton {
            keys,
            dev,
            session: None,
            index: 0,
            next_id: 1,
        }
    }

    /// The link comes up; the app's `Hello` is answered with an offer. Returns every
    /// command the app issued.
    pub(crate) fn connect(&mut self, app: &mut PhoneApp, now: u64) -> Vec<Command> {
        app.handle(now, Input::Gatt(GattEvent::Connected(self.dev.clone())));
        let mut cmds = drain(app);
        let nonce = cmds.iter().find_map(|c| match to_button(c) {
            Some(ToButton::Hello { phone_nonce }) => Some(phone_nonce),
            _ => None,
        });
        let Some(phone_nonce) = nonce else {
            return cmds;
        };
        let (s, offer) = Session::begin(&self.keys, self.next_id, phone_nonce);
        self.next_id += 1;
        self.session = Some(s);
        self.index = 0;
        app.handle(now, self.value(offer.encode()));
        cmds.extend(drain(app));
        cmds
    }

    pub(crate) fn value(&self, value: Vec<u8>) -> Input {
        Input::Gatt(GattEvent::Value {
            device: self.dev.clone(),
            char: EVENT_CHAR,
            value,
        })
    }

    /// `frame` sealed in the current session with the next index.
    pub(crate) fn sealed(&mut self, frame: &EventFrame) -> Input {
        let s = self.session.unwrap_or_else(|| panic!("no session"));
        let m = s
            .seal(&self.keys, self.index, frame)
            .unwrap_or_else(|e| panic!("{e}"));
        self.index += 1;
        self.value(m.encode())
    }

    pub(crate) fn event(&mut self, seq: u32, kind: EventKind, payload: Vec<u8>) -> Input {
        self.sealed(&EventFrame {
            kind,
            flags: FLAG_CLOCK_SYNCED,
            seq,
            time_ms: T0 / 1000,
            payload: protocol::Payload::from_slice(&payload).unwrap_or_else(|e| panic!("{e}")),
        })
    }

    pub(crate) fn press(&mut self, seq: u32) -> Input {
        self.event(seq, EventKind::Single, vec![])
    }

    /// The commands of `cmds` that verify in this button's session.
    pub(crate) fn commands(&self, cmds: &[Command]) -> Vec<DeviceCommand> {
        cmds.iter()
            .filter_map(|c| match (to_button(c), self.session) {
                (
                    Some(ToButton::Signed {
                        counter,
                        command,
                        tag,
                    }),
                    Some(s),
                ) if s.verify(&self.keys, counter, &command, &tag) => Some(command),
                _ => None,
            })
            .collect()
    }
}

pub(crate) fn to_button(c: &Command) -> Option<ToButton> {
    match c {
        Command::Gatt(GattCommand::Write { value, .. }) => ToButton::decode(value).ok(),
        _ => None,
    }
}

pub(crate) fn is_ack(c: &Command) -> bool {
    matches!(
        to_button(c),
        Some(ToButton::Signed {
            command: DeviceCommand::Ack { .. },
            ..
        })
    )
}

pub(crate) fn drain(app: &mut PhoneApp) -> Vec<Command> {
    std::iter::from_fn(|| app.poll_command()).collect()
}

pub(crate) fn started_app() -> PhoneApp {
    let cfg = AppConfig::new(vec![
        Contact::new("A", "+33611111111").unwrap_or_else(|e| panic!("{e}"))
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    PhoneApp::start(cfg, Durable::bonded(KEY), T0, [5; 32])
}

/// A started app connected to the bonded button with a session, commands drained.
pub(crate) fn connected_app() -> (PhoneApp, FakeButton) {
    let mut app = started_app();
    let mut b = FakeButton::new(KEY);
    drain(&mut app);
    b.connect(&mut app, T0);
    (app, b)
}
