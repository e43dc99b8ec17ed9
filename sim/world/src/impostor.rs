//! More of the attacker (SPEC §3 "Security"): an impostor at the button's address, a
//! bond attempt without the physical action, and what a listener learns from the air.
//!
//! The **impostor** jams the button (the attacker's connection takes its one link) and
//! advertises the button's current private address, which it copied from the air: the
//! phone's reconnections reach the impostor, not the button. Without the key it can only
//! answer the phone's `Hello` with an `Offer` whose tag it cannot compute, report a low
//! battery in clear, and replay the last frame it heard; it answers every write so the
//! phone's link never looks broken. The phone refuses the offer, acts on nothing, and
//! warns the wearer after 2 minutes without an authenticated word from its button.
//!
//! The **listener** ([`Learned`]) is the sniffer's record read as an attacker would:
//! every PDU decoded as a protocol version 1 event frame, and every value the button
//! sent searched for each event's kind and sequence number in clear; plus every address
//! the button advertised while it listened.

use std::collections::BTreeSet;

use device_model::Input;
use phone::gatt::GattEvent;
use protocol::gatt::{BATTERY_LEVEL_CHAR, CONTROL_CHAR, EVENT_CHAR};
use protocol::wire::{ToButton, ToPhone};
use protocol::EventKind;

use super::attacker::forge_press;
use super::{att, Air, AirError};
use crate::link::{AirPdu, Dir};
use crate::simulation::Simulation;
use protocol::gatt::characteristic;

/// The battery level (percent) the impostor reports in clear.
pub const IMPOSTOR_BATTERY_PCT: u8 = 5;

/// What a listener learned from the air.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    /// PDUs the sniffer recorded.
    pub pdus: usize,
    /// Events found in clear (kind and sequence number), as text for a failure message.
    pub in_clear: Vec<String>,
    /// Distinct addresses the button advertised while the listener listened.
    pub addresses: usize,
}

/// The bytes of one PDU's ATT value (after opcode and handle), if it carries one.
fn att_value(p: &AirPdu) -> Option<&[u8]> {
    match p.att[..] {
        [0x12 | 0x1b | 0x1d, _, _, ref v @ ..] => Some(v),
        _ => None,
    }
}

/// A protocol version 1 event frame (version 1, kind, flags, seq, time, length, payload,
/// 8-byte tag), as an attacker's parser reads it: kind and sequence number.
fn v1_frame(v: &[u8]) -> Option<(EventKind, u32)> {
    let [1, kind, _flags, s0, s1, s2, s3, ref rest @ ..] = v[..] else {
        return None;
    };
    let kind = EventKind::from_code(kind).ok()?;
    let n = usize::from(*rest.get(8)?);
    (rest.len() == 9 + n + 8).then_some((kind, u32::from_le_bytes([s0, s1, s2, s3])))
}

/// Whether `v` holds the event `(seq, kind)` in clear: its kind byte followed by a flags
/// byte and its sequence number, anywhere.
fn holds_in_clear(v: &[u8], seq: u32, kind: EventKind) -> bool {
    let s = seq.to_le_bytes();
    v.windows(6).any(|w| w[0] == kind.code() && w[2..6] == s)
}

/// Read the sniffer's record as an attacker would; `events` are the events the button
/// queued (the truth the attacker looks for), `addresses` those it advertised.
pub fn learned(pdus: &[AirPdu], events: &[(u32, EventKind)], addresses: &[String]) -> Learned {
    let mut in_clear = Vec::new();
    for (i, p) in pdus.iter().enumerate() {
        let Some(v) = att_value(p) else { continue };
        if let Some((kind, seq)) = v1_frame(v) {
            in_clear.push(format!("PDU {i}: a v1 frame, {} #{seq}", kind.name()));
        }
        // The event frames are the button's; the phone's signed `Ack` names a sequence
        // number, never a kind or a time (docs/threat-model.md, what is left).
        if p.dir != Dir::ToPhone {
            continue;
        }
        // What the v2 framing shows in clear (version, type, ids, indexes, public keys)
        // is no event; what it carries, and anything that is not v2, is searched.
        let body = match ToPhone::decode(v) {
            Ok(ToPhone::Sealed { body, .. }) => body.to_vec(),
            Ok(_) => continue,
            Err(_) => v.to_vec(),
        };
        for &(seq, kind) in events {
            if holds_in_clear(&body, seq, kind) {
                in_clear.push(format!("PDU {i}: {} #{seq} in clear", kind.name()));
            }
        }
    }
    let distinct: BTreeSet<&String> = addresses.iter().collect();
    Learned {
        pdus: pdus.len(),
        in_clear,
        addresses: distinct.len(),
    }
}

// ---- the impostor in the air ----------------------------------------------------------

impl Air {
    /// The impostor takes over: the attacker's connection jams the button, and a device
    /// without the key advertises the button's address.
    pub(crate) fn impostor_take_over(&mut self) -> Result<(), AirError> {
        self.attacker_connect()?;
        self.attacker.impostor = true;
        self.attack_note(format!(
            "an impostor advertises the button's address {}",
            self.addr.0
        ));
        self.impostor_advertise();
        Ok(())
    }

    /// The impostor advertises the copied address (fast, as a button after a loss).
    pub(crate) fn impostor_advertise(&mut self) {
        let now = self.now();
        let evs = self.link.set_advertising(now, 100, &mut self.radio);
        self.schedule(evs);
    }

    /// A PDU of the phone's connection reached the impostor instead of the button.
    pub(crate) fn impostor_input(&mut self, input: Input, write_id: Option<u64>) {
        if let Input::Write { char, value } = &input {
            let handle = characteristic(*char).map_or(0, |c| c.value_handle);
            self.record(Dir::ToButton, att(0x12, handle, value));
            let hello = matches!(ToButton::decode(value), Ok(ToButton::Hello { .. }));
            if *char == CONTROL_CHAR && hello {
                self.impostor_answers_hello();
            }
        }
        if let Some(id) = write_id {
            self.transmit_to_phone(GattEvent::WriteDone { id, ok: true }, false);
        }
    }

    /// All it can build: an offer with a tag it cannot compute, a low battery in clear,
    /// the last frame it heard (a replay; nothing heard: a frame under an all-zero bond).
    fn impostor_answers_hello(&mut self) {
        let offer = ToPhone::Offer {
            session_id: 1,
            button_nonce: [0; 8],
            tag: [0; 8],
        };
        let battery = vec![IMPOSTOR_BATTERY_PCT];
        let now = self.now();
        let last = self.last_event_frame.clone();
        let (_, forged) = forge_press(&[], last.as_deref(), now / 1000, [0; 32]);
        let device = self.conn_addr.clone();
        for (char, value, confirm) in [
            (EVENT_CHAR, offer.encode(), true),
            (BATTERY_LEVEL_CHAR, battery, false),
            (EVENT_CHAR, forged, true),
        ] {
            let ev = GattEvent::Value {
                device: device.clone(),
                char,
                value,
            };
            self.transmit_to_phone(ev, confirm);
        }
    }

    /// The phone's connection ended: the button hears it, or the impostor advertises
    /// again.
    pub(crate) fn phone_link_ended(&mut self) {
        if self.attacker.impostor {
            self.impostor_advertise();
        } else if self.button.is_some() {
            self.button_input(Input::Disconnected);
        }
    }

    /// Note an address the button advertises, when the listener listens.
    pub(crate) fn heard_advertising(&mut self) {
        if self.attacker.sniff_from.is_some() {
            let a = self.addr.0.clone();
            self.attacker.advertised.push(a);
        }
    }
}

// ---- the harness's verbs ----------------------------------------------------------------

impl Simulation {
    /// An impostor takes over the button's address now ([`Air::impostor_take_over`]).
    /// Fails when the button is off.
    pub fn impostor_take_over(&mut self) -> Result<(), AirError> {
        let r = self.air.impostor_take_over();
        self.settle();
        r
    }

    /// What a listener learned since the sniffer started (`None`: it never started).
    pub fn listener_learned(&self) -> Option<Learned> {
        self.air.attacker.sniff_from?;
        let events: Vec<(u32, EventKind)> = self
            .series
            .queued
            .iter()
            .map(|&(_, seq, kind)| (seq, kind))
            .collect();
        Some(learned(
            self.sniffed(),
            &events,
            &self.air.attacker.advertised,
        ))
    }
}

#[cfg(test)]
mod tests {
    use protocol::{BondKey, EventFrame, EventKind, Session};

    use super::learned;
    use crate::link::{AirPdu, Dir};

    fn indication(value: &[u8]) -> AirPdu {
        let mut att = vec![0x1d, 0x20, 0x00];
        att.extend_from_slice(value);
        AirPdu {
            t_us: 0,
            conn: 1,
            dir: Dir::ToPhone,
            att,
        }
    }

    fn press() -> EventFrame {
        EventFrame {
            kind: EventKind::Double,
            flags: 1,
            seq: 7,
            time_ms: 1_767_603_600_000,
            payload: Default::default(),
        }
    }

    #[test]
    fn a_frame_in_clear_is_found_and_a_sealed_one_is_not() {
        let events = [(7, EventKind::Double)];
        // A v1 frame: version 1, the plaintext, an 8-byte tag.
        let mut v1 = vec![1];
        v1.extend_from_slice(&press().plaintext());
        v1.extend_from_slice(&[0; 8]);
        let l = learned(&[indication(&v1)], &events, &[]);
        assert_eq!(l.in_clear.len(), 2, "{l:?}");
        let s = Session {
            id: 2,
            phone_nonce: [1; 8],
            button_nonce: [2; 8],
        };
        let keys = BondKey([3; 16]).keys();
        let sealed = s.seal(&keys, 2, &press()).map(|m| m.encode());
        let sealed = sealed.unwrap_or_default();
        let l = learned(&[indication(&sealed)], &events, &["a".into(), "a".into()]);
        assert!(l.in_clear.is_empty(), "{l:?}");
        assert_eq!((l.pdus, l.addresses), (1, 1));
    }
}
