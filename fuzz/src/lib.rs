//! What the fuzz targets share: each target is one function here, so that a crash the
//! fuzzer finds is replayed as a plain unit test (`cargo test` in `fuzz/`, and the
//! main workspace's tests for the crates concerned) with the same code path.

use std::io::Cursor;
use std::path::Path;

use device_model::{Action, Button, DeviceProfile, Flash, Input};
use phone::gatt::{DeviceId, GattCommand, GattEvent};
use phone::{AppConfig, Command as AppCommand, Contact, Durable, PhoneApp};
use protocol::command::TestInjection;
use protocol::gatt::{CONTROL_CHAR, EVENT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::{Address, BondKey, Command, EventFrame, Session};
use sim_traces::{TraceFormat, TraceReader};

const KEY: [u8; 16] = [7; 16];
const T0: u64 = 1_767_603_600_000_000;

/// Splits fuzz input into chunks: one selector byte, one length byte, that many bytes.
struct Chunks<'a>(&'a [u8]);

impl<'a> Iterator for Chunks<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&sel, rest) = self.0.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let n = usize::from(len).min(rest.len());
        self.0 = &rest[n..];
        Some((sel, &rest[..n]))
    }
}

/// The event decoders (what the phone decodes off the air): no panic, and what
/// decodes encodes back to the same value, the same bytes into a fixed buffer as into
/// a vector.
pub fn wire_to_phone(data: &[u8]) {
    if let Ok(m) = ToPhone::decode(data) {
        let mut buf = [0u8; ToPhone::MAX_LEN];
        let n = m.encode_into(&mut buf).unwrap_or(0);
        assert_eq!(buf.get(..n), Some(&m.encode()[..]));
        assert_eq!(ToPhone::decode(&m.encode()).ok(), Some(m));
    }
    if let Ok(f) = EventFrame::from_plaintext(data) {
        let p = f.plaintext();
        let mut buf = [0u8; protocol::event::MAX_PLAINTEXT_LEN];
        let n = f.encode_into(&mut buf).unwrap_or(0);
        assert_eq!(buf.get(..n), Some(&p[..]));
        assert_eq!(EventFrame::from_plaintext(&p).ok(), Some(f));
    }
}

/// The command decoders (what the button decodes off the air).
pub fn wire_to_button(data: &[u8]) {
    if let Ok(m) = ToButton::decode(data) {
        let mut buf = [0u8; ToButton::MAX_LEN];
        let n = m.encode_into(&mut buf).unwrap_or(0);
        assert_eq!(buf.get(..n), Some(&m.encode()[..]));
        assert_eq!(ToButton::decode(&m.encode()).ok(), Some(m));
    }
    if let Ok(c) = Command::decode(data) {
        assert_eq!(Command::decode(&c.encode()).ok(), Some(c));
    }
    if let Ok(t) = TestInjection::decode(data) {
        assert_eq!(TestInjection::decode(&t.encode()).ok(), Some(t));
    }
}

fn boot(profile: DeviceProfile) -> Button {
    let battery = Button::fresh_battery(&profile, 100.0);
    Button::boot(profile, Flash::bonded(BondKey(KEY)), battery, 0, [3; 32])
}

/// The offer the button answered a `Hello` with, if any.
fn offer_of(b: &mut Button) -> Option<(u32, [u8; 8], Vec<u8>)> {
    let mut found = None;
    while let Some(a) = b.poll_action() {
        if let Action::Indicate { value, .. } | Action::Notify { value, .. } = a {
            if let Ok(ToPhone::Offer {
                session_id,
                button_nonce,
                tag,
            }) = ToPhone::decode(&value)
            {
                found = Some((session_id, button_nonce, tag.to_vec()));
            }
        }
    }
    found
}

/// The button's write handler, through its public API only: raw writes to both
/// characteristics (and the test service), signed commands of a real session with any
/// decodable command (the clock, acks, vibrations, unbond), edges and time passing.
pub fn button_write(data: &[u8]) {
    let profile = if data.first().is_some_and(|b| b & 1 == 1) {
        DeviceProfile::test_firmware()
    } else {
        DeviceProfile::default()
    };
    let keys = BondKey(KEY).keys();
    let mut b = boot(profile);
    let mut now = 1_000u64;
    b.handle(now, Input::Connected);
    let nonce = [9u8; 8];
    let hello = ToButton::Hello { phone_nonce: nonce }.encode();
    b.handle(
        now,
        Input::Write {
            char: CONTROL_CHAR,
            value: hello,
        },
    );
    let session = offer_of(&mut b)
        .and_then(|(id, bn, tag)| Session::accept_offer(&keys, nonce, id, bn, &tag));
    let mut counter = 1u32;
    for (sel, bytes) in Chunks(data.get(1..).unwrap_or_default()) {
        now = now.saturating_add(1_000);
        match sel % 6 {
            0 => b.handle(
                now,
                Input::Write {
                    char: CONTROL_CHAR,
                    value: bytes.to_vec(),
                },
            ),
            1 => b.handle(
                now,
                Input::Write {
                    char: EVENT_CHAR,
                    value: bytes.to_vec(),
                },
            ),
            2 => {
                if let (Some(s), Ok(cmd)) = (session, Command::decode(bytes)) {
                    let m = s.sign(&keys, counter, cmd).encode();
                    counter = counter.wrapping_add(1);
                    b.handle(
                        now,
                        Input::Write {
                            char: CONTROL_CHAR,
                            value: m,
                        },
                    );
                }
            }
            3 => b.handle(
                now,
                Input::Edge {
                    down: bytes.first().is_some_and(|x| x & 1 == 1),
                },
            ),
            4 => {
                let dt = bytes
                    .iter()
                    .fold(0u64, |a, &x| a.wrapping_mul(256) | u64::from(x));
                now = now.saturating_add(dt % 86_400_000_000);
                b.handle_timeout(now);
            }
            _ => b.handle(now, Input::IndicationConfirmed),
        }
        while b.poll_action().is_some() {}
    }
}

fn phone_app() -> PhoneApp {
    let contact = Contact::new("A", "+33611111111").unwrap_or_else(|e| panic!("{e}"));
    let cfg = AppConfig::new(vec![contact]).unwrap_or_else(|e| panic!("{e}"));
    PhoneApp::start(cfg, Durable::bonded(KEY), T0, [5; 32])
}

fn drain(app: &mut PhoneApp) -> Vec<AppCommand> {
    std::iter::from_fn(|| app.poll_command()).collect()
}

/// The phone's event handler fed arbitrary frames: raw values from its button (before
/// and after a real session opens), sealed frames of any plaintext in that session, and
/// values from a stranger; every command it issues is drained, every write it
/// persists must read back.
pub fn phone_frames(data: &[u8]) {
    let keys = BondKey(KEY).keys();
    let dev = DeviceId(Address::resolvable(&keys.irk, [1, 2, 3]).to_string());
    let mut app = phone_app();
    drain(&mut app);
    let mut now = T0;
    app.handle(now, phone::Input::Gatt(GattEvent::Connected(dev.clone())));
    let nonce = drain(&mut app).iter().find_map(|c| match c {
        AppCommand::Gatt(GattCommand::Write { value, .. }) => match ToButton::decode(value) {
            Ok(ToButton::Hello { phone_nonce }) => Some(phone_nonce),
            _ => None,
        },
        _ => None,
    });
    let session = nonce.map(|phone_nonce| Session::begin(&keys, 1, phone_nonce));
    let value = |device: &DeviceId, v: Vec<u8>| {
        phone::Input::Gatt(GattEvent::Value {
            device: device.clone(),
            char: EVENT_CHAR,
            value: v,
        })
    };
    let mut index = 0u32;
    for (sel, bytes) in Chunks(data) {
        now = now.saturating_add(1_000_000);
        match sel % 5 {
            0 => app.handle(now, value(&dev, bytes.to_vec())),
            1 => {
                if let Some((_, offer)) = &session {
                    app.handle(now, value(&dev, offer.encode()));
                }
            }
            2 => {
                let sealed = session.as_ref().and_then(|(s, _)| {
                    let f = EventFrame::from_plaintext(bytes).ok()?;
                    s.seal(&keys, index, &f).ok()
                });
                if let Some(m) = sealed {
                    index = index.wrapping_add(1);
                    app.handle(now, value(&dev, m.encode()));
                }
            }
            3 => {
                let stranger = DeviceId("C0:FF:EE:00:00:99".into());
                app.handle(now, value(&stranger, bytes.to_vec()));
            }
            _ => {
                now =
                    now.saturating_add(u64::from(bytes.first().copied().unwrap_or(0)) * 10_000_000);
                app.handle_timeout(now);
            }
        }
        for c in drain(&mut app) {
            if let AppCommand::Persist(rec) = c {
                assert!(
                    phone::store::record::decode(&rec).is_ok(),
                    "a write does not read back"
                );
            }
        }
    }
}

/// A trace reader over `data` read to its end (at most a million records): records or
/// an error, never a panic.
pub fn trace(format: TraceFormat, name: &str, data: &[u8]) {
    let input = Box::new(Cursor::new(data.to_vec()));
    let Ok(reader) = TraceReader::from_reader(Path::new(name), format, input) else {
        return;
    };
    for r in reader.take(1_000_000) {
        if r.is_err() {
            break;
        }
    }
}

/// The device profile loader (JSON) and its validation.
pub fn profile_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = DeviceProfile::from_json("fuzz.json", &text) {
        let _ = p.validate();
    }
}

/// Feature validation, as `sim validate` runs it, on `data` as a feature file.
pub fn feature_validate(data: &[u8]) {
    let path = std::env::temp_dir().join(format!("alarm-fuzz-{}.feature", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = sim_steps::runner::validate_feature(&path);
    }
}

/// The store's loader on two arbitrary slots (and the app started from it); and, since
/// a mutated record rarely passes its CRC, the payload decoders on the raw bytes too
/// (binary and JSON: a state or an error; a state read re-encodes to itself).
pub fn store_load(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    for d in [Durable::from_payload(rest), Durable::from_json(rest)]
        .into_iter()
        .flatten()
    {
        let bytes = d.to_payload();
        let again = Durable::from_payload(&bytes).map(|d| d.to_payload());
        assert_eq!(
            again.ok(),
            Some(bytes),
            "a state read does not re-encode to itself"
        );
    }
    let (a, b) = rest.split_at(usize::from(cut).min(rest.len()));
    let loaded = phone::store::load([Some(a), (!b.is_empty()).then_some(b)]);
    let cfg = phone_app().config().clone();
    let mut app = PhoneApp::start_loaded(cfg, loaded, T0, [1; 32]);
    drain(&mut app);
}
