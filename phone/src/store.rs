//! What the app keeps in durable storage, so that an app restart (its memory lost) loses
//! no alert: the bond (its key; sessions are per connection and never stored, so a
//! restored backup cannot make an old frame acceptable again), every event recorded (and whether the button has heard the ack),
//! alerts waiting for a position, the SMS outbox, call tasks, the fall countdown, the
//! evidence recordings, and counters.
//!
//! On storage every save is a [`record`]: a 20-byte header (magic `PHS4`, generation,
//! payload length, CRC-32 of header and payload) and the payload, the state in a compact
//! binary serde encoding (postcard: varint integers, length-prefixed strings, fields in
//! declaration order, `f64` as its 8 bytes). The app writes its records alternately to
//! two slots (the generation's parity, [`slot_of_record`]), so a write torn at any byte
//! damages only the slot being written and the other keeps the last good copy. [`load`]
//! takes the newest record that checks out and says when it had to skip a damaged one
//! ([`StorageDamage`]); the app then warns the wearer loudly. Nothing is reset silently.
//! Records of the older formats, whose payload is JSON (`PHS3`, `PHS2`), are still
//! read, so an app updated over an old store keeps it.
//!
//! Every value round-trips bit for bit, NaN and infinities included. The encoding is not
//! self-describing: fields are never left out, and a field added to [`Durable`] makes a
//! new record version. [`Durable::to_json`] renders the state for people (there,
//! positions whose numbers are not finite are the strings `"NaN"`, `"inf"`, `"-inf"`:
//! [`Fix`]'s human-readable serde form).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::text::Fix;
use crate::PhoneError;

/// The bonded button. It has no fixed address: the app recognises its rotating private
/// addresses with the bond's identity resolving key (derived from `key`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bond {
    /// The long-term key agreed at pairing.
    pub key: [u8; 16],
}

/// An event recorded from the button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Kind name.
    pub kind: String,
    /// When it happened (UTC ms).
    pub event_ms: u64,
    /// Whether the button confirmed receiving our acknowledgement.
    pub ack_confirmed: bool,
}

/// What an SMS-bearing alert says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertKind {
    /// Single press: the wearer's message.
    Help,
    /// Fall countdown expired.
    Fall,
    /// Double press: conference invitation.
    Conference {
        /// The room.
        url: String,
    },
    /// Triple press: "I am safe".
    Safe,
}

/// An alert whose SMS are being composed or sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it says.
    pub kind: AlertKind,
    /// Who gets it (phone numbers).
    pub recipients: Vec<String>,
    /// When the event happened (UTC ms).
    pub event_ms: u64,
    /// Delivered late: say when it happened.
    pub late: bool,
    /// Waiting for a fix until this time (UTC µs); `None` once composed.
    pub fix_deadline_us: Option<u64>,
    /// Sent without a current fix: follow up when one arrives.
    pub followup: bool,
    /// SMS of this alert not yet accepted by the network.
    pub unsent: u32,
    /// Feedback already given to the wearer (`sent` or `failed`).
    pub feedback: Option<String>,
}

/// An SMS not yet accepted by the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutSms {
    /// Recipient.
    pub to: String,
    /// Text.
    pub text: String,
    /// The alert it belongs to.
    pub alert: u64,
    /// Send attempts so far.
    pub attempts: u32,
    /// Handed to the SMS service at this time (UTC µs) and its result not yet known.
    #[serde(default)]
    pub awaiting_since_us: Option<u64>,
}

/// One contact's alert calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTask {
    /// Number dialled.
    pub to: String,
    /// Attempts made.
    pub attempts: u32,
    /// Dial (again) at this time (UTC µs), when waiting.
    pub dial_at_us: Option<u64>,
    /// The call in progress.
    pub call_id: Option<u64>,
    /// Ringing since (UTC µs).
    pub ringing_since_us: Option<u64>,
    /// Finished (answered, or out of attempts).
    pub done: bool,
}

/// A finished evidence recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Start (UTC ms).
    pub start_ms: u64,
    /// End (UTC ms).
    pub end_ms: u64,
    /// Where the phone was at the start.
    pub position: Option<Fix>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Content length (bytes).
    pub bytes: u64,
}

/// A recording in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRecording {
    /// Recorder id.
    pub id: u64,
    /// Start (UTC ms).
    pub start_ms: u64,
    /// Position at the start.
    pub position: Option<Fix>,
    /// Asked to stop; its content not yet handed over.
    #[serde(default)]
    pub stopping: bool,
}

/// A fall countdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countdown {
    /// Ends at (UTC µs).
    pub ends_at_us: u64,
    /// When the fall happened (UTC ms).
    pub event_ms: u64,
    /// The fall event arrived late.
    pub late: bool,
}

/// A loss of the link to the button, kept so that an app restart does not restart the
/// count of the disconnect warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLoss {
    /// The last exchange with the button that got through (UTC µs).
    pub last_exchange_us: u64,
    /// The wearer was warned about it.
    pub warned: bool,
}

/// Everything the app keeps across restarts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Durable {
    /// The bonded button.
    pub bond: Option<Bond>,
    /// Events recorded, by sequence number (the most recent 512).
    pub events: BTreeMap<u32, EventRecord>,
    /// Sequence numbers at or below this were pruned from `events`.
    pub pruned_through: u32,
    /// Alerts, by id.
    pub alerts: BTreeMap<u64, Alert>,
    /// SMS not yet accepted, by id.
    pub outbox: BTreeMap<u64, OutSms>,
    /// Call tasks, by id.
    pub calls: BTreeMap<u64, CallTask>,
    /// Who received an alert, and when the network delivered it (UTC ms), within the
    /// "I am safe" window.
    pub alerted: Vec<(String, u64)>,
    /// Alert SMS (by id) whose delivery report has not come yet, with their recipient.
    pub awaiting_delivery: BTreeMap<u64, String>,
    /// Stored recordings.
    pub recordings: Vec<Recording>,
    /// Recording in progress.
    pub recording: Option<ActiveRecording>,
    /// Siren on.
    pub siren_on: bool,
    /// The siren was ever used (its state is asserted again at every start).
    pub siren_used: bool,
    /// The fall countdown alarm was ever shown (asserted again at every start).
    pub countdown_used: bool,
    /// The conference room the wearer's phone joined (joined again at a start while
    /// its calls go on).
    pub conference: Option<String>,
    /// Fall countdown running.
    pub countdown: Option<Countdown>,
    /// Last fall event (UTC ms).
    pub last_fall_ms: Option<u64>,
    /// Last known position.
    pub last_fix: Option<Fix>,
    /// Events rejected (unbonded, tampered, replayed).
    pub rejected: u32,
    /// Battery warning levels already shown.
    pub battery_warned: Vec<u8>,
    /// Events the button reported its full queue let go (the wearer was warned up to
    /// this count).
    pub button_dropped: u32,
    /// The link to the button is down: since when, across app restarts.
    pub link_lost: Option<LinkLoss>,
    /// Next id for SMS, calls, alerts, writes.
    pub next_id: u64,
}

impl Durable {
    /// A store bonded with the button holding `key`.
    pub fn bonded(key: [u8; 16]) -> Self {
        Durable {
            bond: Some(Bond { key }),
            next_id: 1,
            ..Default::default()
        }
    }

    /// The record payload of this state (binary, see the module documentation): equal
    /// states give equal bytes, so an unchanged save is found by comparing them.
    pub fn to_payload(&self) -> Vec<u8> {
        // Plain data with known lengths: the encoder has nothing to refuse, and if it
        // ever did, the JSON form stands in (see `to_record_sized`).
        postcard::to_allocvec(self).unwrap_or_else(|_| self.to_json())
    }

    /// Read a payload of the current format (`PHS4`) back: the whole of it, nothing
    /// after the state.
    pub fn from_payload(bytes: &[u8]) -> Result<Self, PhoneError> {
        match postcard::take_from_bytes::<Durable>(bytes) {
            Ok((d, [])) => Ok(d),
            Ok((_, rest)) => Err(PhoneError::CorruptState(format!(
                "{} bytes after the stored state",
                rest.len()
            ))),
            Err(e) => Err(PhoneError::CorruptState(format!("stored state: {e}"))),
        }
    }

    /// The state as JSON, for people (and the payload of the older `PHS3` records).
    pub fn to_json(&self) -> Vec<u8> {
        // Plain data, integer or string map keys, non-finite floats as strings: the
        // serialiser has nothing to refuse, so this is never empty.
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }

    /// Read a JSON state back (the payload of `PHS3` and `PHS2` records; a field left
    /// out reads as its default).
    pub fn from_json(bytes: &[u8]) -> Result<Self, PhoneError> {
        serde_json::from_slice(bytes).map_err(|e| PhoneError::CorruptState(e.to_string()))
    }

    /// The storage record of this state as save number `generation`, encoded in place
    /// after its header into a buffer sized for about `hint` payload bytes (the last
    /// payload's size: no regrowth on the way).
    pub fn to_record_sized(&self, generation: u64, hint: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(record::HEADER + hint + hint / 8 + 64);
        out.resize(record::HEADER, 0);
        match postcard::to_extend(self, out) {
            Ok(mut out) => {
                record::seal(record::MAGIC, generation, &mut out);
                out
            }
            // Never seen (see `to_payload`); the older format still reads.
            Err(_) => record::encode_v3(generation, &self.to_json()),
        }
    }

    /// The storage record of this state as save number `generation`.
    pub fn to_record(&self, generation: u64) -> Vec<u8> {
        self.to_record_sized(generation, 0)
    }

    /// A fresh id.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

pub mod record {
    //! The storage record: `PHS4`, the generation (u64 LE), the payload length (u32 LE),
    //! the CRC-32 (IEEE) of those 16 bytes and the payload (u32 LE), then the payload,
    //! the state in binary ([`Durable::to_payload`]). A record is valid only whole: a
    //! prefix of any length, or a prefix followed by an older record's bytes, fails the
    //! length or the checksum test.
    //!
    //! The checksum is there to catch torn and damaged writes, not tampering (an
    //! unkeyed hash cannot: whoever can write the store can recompute it), so a CRC is
    //! the tool: it misses a random corruption with odds of 2^-32, and costs a small
    //! fraction of SHA-256. Records of the older formats are still read, so an app
    //! updated over an old store keeps it: `PHS3` (this header, a JSON payload) and
    //! `PHS2` (a 48-byte header with SHA-256 in place of the CRC, a JSON payload).
    //! Every new save is `PHS4`.

    use sha2::{Digest, Sha256};

    use super::Durable;
    use crate::PhoneError;

    /// The four bytes a record starts with.
    pub const MAGIC: &[u8; 4] = b"PHS4";
    /// Header length: magic, generation, payload length, checksum.
    pub const HEADER: usize = 4 + 8 + 4 + 4;
    /// The previous format's magic (this header, a JSON payload), still read.
    pub const MAGIC_V3: &[u8; 4] = b"PHS3";
    /// The format before it (SHA-256 checksum, a JSON payload), still read.
    pub const MAGIC_V2: &[u8; 4] = b"PHS2";
    /// That format's header length.
    pub const HEADER_V2: usize = 4 + 8 + 4 + 32;

    /// How a record's payload encodes the state.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Encoding {
        /// Binary (`PHS4`, [`Durable::from_payload`]).
        Binary,
        /// JSON (`PHS3`, `PHS2`, [`Durable::from_json`]).
        Json,
    }

    fn crc(head: &[u8], payload: &[u8]) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(head);
        h.update(payload);
        h.finalize()
    }

    fn sha256(head: &[u8], payload: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(head);
        h.update(payload);
        h.finalize().into()
    }

    /// Fill in the header of `buf` with `magic` ([`MAGIC`], or [`MAGIC_V3`] for a JSON
    /// payload); its first [`HEADER`] bytes are reserved and its rest is the payload
    /// (written in place, so it is never copied).
    pub fn seal(magic: &[u8; 4], generation: u64, buf: &mut [u8]) {
        let Some((head, payload)) = buf.split_at_mut_checked(HEADER) else {
            return;
        };
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        head[..4].copy_from_slice(magic);
        head[4..12].copy_from_slice(&generation.to_le_bytes());
        head[12..16].copy_from_slice(&len.to_le_bytes());
        let sum = crc(&head[..16], payload);
        head[16..HEADER].copy_from_slice(&sum.to_le_bytes());
    }

    /// A record in the `PHS3` format (a JSON payload), as an older app wrote it (tests
    /// check that such stores are still read; the writer's fallback if the binary
    /// encoder ever refused a state).
    pub fn encode_v3(generation: u64, json: &[u8]) -> Vec<u8> {
        let mut out = vec![0; HEADER];
        out.extend_from_slice(json);
        seal(MAGIC_V3, generation, &mut out);
        out
    }

    /// A record in the `PHS2` format (SHA-256, a JSON payload), as an older app wrote
    /// it (tests check that such stores are still read).
    pub fn encode_v2(generation: u64, json: &[u8]) -> Vec<u8> {
        let len = u32::try_from(json.len()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(HEADER_V2 + json.len());
        out.extend_from_slice(MAGIC_V2);
        out.extend_from_slice(&generation.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        let sum = sha256(&out, json);
        out.extend_from_slice(&sum);
        out.extend_from_slice(json);
        out
    }

    fn corrupt(why: String) -> PhoneError {
        PhoneError::CorruptState(why)
    }

    /// The generation, the payload's encoding and the payload of a whole, intact record.
    pub fn open(bytes: &[u8]) -> Result<(u64, Encoding, &[u8]), PhoneError> {
        let magic = bytes.get(..4);
        let v2 = magic == Some(&MAGIC_V2[..]);
        let header = if v2 { HEADER_V2 } else { HEADER };
        if bytes.len() < header {
            return Err(corrupt(format!(
                "record of {} bytes, shorter than its {header}-byte header",
                bytes.len()
            )));
        }
        let encoding = if magic == Some(&MAGIC[..]) {
            Encoding::Binary
        } else if v2 || magic == Some(&MAGIC_V3[..]) {
            Encoding::Json
        } else {
            return Err(corrupt(
                "record does not start with PHS4 (or PHS3, PHS2)".into(),
            ));
        };
        let mut gen = [0u8; 8];
        gen.copy_from_slice(&bytes[4..12]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[12..16]);
        let len = u32::from_le_bytes(len) as usize;
        let payload = &bytes[header..];
        if payload.len() != len {
            return Err(corrupt(format!(
                "record payload of {} bytes, its header says {len}",
                payload.len()
            )));
        }
        let intact = if v2 {
            sha256(&bytes[..16], payload)[..] == bytes[16..HEADER_V2]
        } else {
            crc(&bytes[..16], payload).to_le_bytes()[..] == bytes[16..HEADER]
        };
        if !intact {
            return Err(corrupt("record checksum mismatch".into()));
        }
        Ok((u64::from_le_bytes(gen), encoding, payload))
    }

    /// The generation and the state of an intact record.
    pub fn decode(bytes: &[u8]) -> Result<(u64, Durable), PhoneError> {
        let (gen, encoding, payload) = open(bytes)?;
        let durable = match encoding {
            Encoding::Binary => Durable::from_payload(payload)?,
            Encoding::Json => Durable::from_json(payload)?,
        };
        Ok((gen, durable))
    }
}

/// The slot (0 or 1) a record is written to: its generation's parity, so that two
/// saves in a row never write the same slot. A record too short to say goes to slot 0.
pub fn slot_of_record(record: &[u8]) -> usize {
    record
        .get(4..12)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, |g| (u64::from_le_bytes(g) % 2) as usize)
}

/// What [`load`] had to do about damaged storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageDamage {
    /// A slot was damaged (a torn write): the other slot's last good copy was taken.
    RecoveredOlderCopy {
        /// The damaged slot.
        slot: usize,
        /// What was wrong with it.
        why: String,
    },
    /// Something was stored but nothing could be read: the app starts empty (and says
    /// so loudly).
    NothingReadable {
        /// What was wrong.
        why: String,
    },
}

/// What storage gave back at start.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The state.
    pub durable: Durable,
    /// Its save number (0 when nothing was stored).
    pub generation: u64,
    /// Damage found, if any.
    pub damage: Option<StorageDamage>,
}

impl Loaded {
    /// A state as if read from storage, undamaged, as save number 0.
    pub fn fresh(durable: Durable) -> Self {
        Loaded {
            durable,
            generation: 0,
            damage: None,
        }
    }
}

/// Read the two slots (`None`: never written) and take the newest intact record.
pub fn load(slots: [Option<&[u8]>; 2]) -> Loaded {
    let mut best: Option<(u64, Durable)> = None;
    let mut damaged: Option<(usize, String)> = None;
    for (slot, bytes) in slots.iter().enumerate() {
        let Some(bytes) = bytes else { continue };
        match record::decode(bytes) {
            Ok((gen, d)) => {
                if best.as_ref().is_none_or(|(g, _)| gen > *g) {
                    best = Some((gen, d));
                }
            }
            Err(e) => damaged = Some((slot, e.to_string())),
        }
    }
    match (best, damaged) {
        (Some((generation, durable)), damage) => Loaded {
            durable,
            generation,
            damage: damage.map(|(slot, why)| StorageDamage::RecoveredOlderCopy { slot, why }),
        },
        (None, Some((_, why))) => Loaded {
            durable: Durable::default(),
            generation: 0,
            damage: Some(StorageDamage::NothingReadable { why }),
        },
        (None, None) => Loaded::fresh(Durable::default()),
    }
}

#[cfg(test)]
mod tests {
    //! Every state reads back as it was written; every damaged record is refused;
    //! loading takes the newest intact copy and says when it had to skip one.

    use proptest::collection::{btree_map, vec};
    use proptest::option;
    use proptest::prelude::*;

    use super::*;

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(-0.0),
            1 => Just(f64::MIN_POSITIVE / 2.0),
        ]
    }

    fn fix() -> impl Strategy<Value = Fix> {
        (float(), float(), float(), any::<u64>()).prop_map(|(lat, lon, accuracy_m, utc_ms)| Fix {
            lat,
            lon,
            accuracy_m,
            utc_ms,
        })
    }

    fn text() -> impl Strategy<Value = String> {
        any::<String>()
    }

    fn alert() -> impl Strategy<Value = Alert> {
        let kind = prop_oneof![
            Just(AlertKind::Help),
            Just(AlertKind::Fall),
            Just(AlertKind::Safe),
            text().prop_map(|url| AlertKind::Conference { url }),
        ];
        (
            kind,
            vec(text(), 0..3),
            any::<u64>(),
            any::<bool>(),
            option::of(any::<u64>()),
            any::<bool>(),
            any::<u32>(),
            option::of(text()),
        )
            .prop_map(
                |(
                    kind,
                    recipients,
                    event_ms,
                    late,
                    fix_deadline_us,
                    followup,
                    unsent,
                    feedback,
                )| {
                    Alert {
                        kind,
                        recipients,
                        event_ms,
                        late,
                        fix_deadline_us,
                        followup,
                        unsent,
                        feedback,
                    }
                },
            )
    }

    fn sms() -> impl Strategy<Value = OutSms> {
        (
            text(),
            text(),
            any::<u64>(),
            any::<u32>(),
            option::of(any::<u64>()),
        )
            .prop_map(|(to, text, alert, attempts, awaiting_since_us)| OutSms {
                to,
                text,
                alert,
                attempts,
                awaiting_since_us,
            })
    }

    fn call() -> impl Strategy<Value = CallTask> {
        (
            text(),
            any::<u32>(),
            option::of(any::<u64>()),
            option::of(any::<u64>()),
            option::of(any::<u64>()),
            any::<bool>(),
        )
            .prop_map(
                |(to, attempts, dial_at_us, call_id, ringing_since_us, done)| CallTask {
                    to,
                    attempts,
                    dial_at_us,
                    call_id,
                    ringing_since_us,
                    done,
                },
            )
    }

    fn recording() -> impl Strategy<Value = Recording> {
        (
            any::<u64>(),
            any::<u64>(),
            option::of(fix()),
            text(),
            any::<u64>(),
        )
            .prop_map(|(start_ms, end_ms, position, sha256, bytes)| Recording {
                start_ms,
                end_ms,
                position,
                sha256,
                bytes,
            })
    }

    fn events() -> impl Strategy<Value = BTreeMap<u32, EventRecord>> {
        btree_map(
            any::<u32>(),
            (text(), any::<u64>(), any::<bool>()).prop_map(|(kind, event_ms, ack_confirmed)| {
                EventRecord {
                    kind,
                    event_ms,
                    ack_confirmed,
                }
            }),
            0..4,
        )
    }

    prop_compose! {
        fn durable()(
            bond in option::of(any::<[u8; 16]>().prop_map(|key| Bond { key })),
            events in events(),
            pruned_through in any::<u32>(),
            alerts in btree_map(any::<u64>(), alert(), 0..3),
            outbox in btree_map(any::<u64>(), sms(), 0..3),
            calls in btree_map(any::<u64>(), call(), 0..3),
            alerted in vec((text(), any::<u64>()), 0..3),
            awaiting_delivery in btree_map(any::<u64>(), text(), 0..3),
            recordings in vec(recording(), 0..2),
            recording in option::of((any::<u64>(), any::<u64>(), option::of(fix()), any::<bool>())),
            flags in any::<(bool, bool, bool)>(),
            more in (
                option::of(text()),
                option::of((any::<u64>(), any::<u64>(), any::<bool>())),
                option::of(any::<u64>()),
                option::of(fix()),
                any::<u32>(),
                vec(any::<u8>(), 0..3),
                option::of((any::<u64>(), any::<bool>())),
                any::<u64>(),
                any::<u32>(),
            ),
        ) -> Durable {
            let (conference, countdown, last_fall_ms, last_fix, rejected, battery_warned, lost, next_id, button_dropped) = more;
            Durable {
                bond, events, pruned_through, alerts, outbox, calls, alerted, awaiting_delivery,
                recordings,
                recording: recording.map(|(id, start_ms, position, stopping)| ActiveRecording {
                    id, start_ms, position, stopping,
                }),
                siren_on: flags.0,
                siren_used: flags.1,
                countdown_used: flags.2,
                conference,
                countdown: countdown.map(|(ends_at_us, event_ms, late)| Countdown { ends_at_us, event_ms, late }),
                last_fall_ms,
                last_fix,
                rejected,
                battery_warned,
                button_dropped,
                link_lost: lost.map(|(last_exchange_us, warned)| LinkLoss { last_exchange_us, warned }),
                next_id,
            }
        }
    }

    /// Equal bit for bit, NaN payloads included (the state's own `==` says NaN != NaN).
    fn same(a: &Durable, b: &Durable) -> bool {
        a.to_payload() == b.to_payload() && format!("{a:?}") == format!("{b:?}")
    }

    /// Equal as JSON says it (every NaN is `"NaN"` there).
    fn same_json(a: &Durable, b: &Durable) -> bool {
        a.to_json() == b.to_json() && format!("{a:?}") == format!("{b:?}")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn save_then_load_is_the_identity(d in durable(), gen in any::<u64>()) {
            let rec = d.to_record(gen);
            let (g, back) = record::decode(&rec).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(g, gen);
            prop_assert_eq!(&rec[..4], &record::MAGIC[..]);
            prop_assert!(same(&d, &back), "{:?}\n{:?}", d, back);
            // Finite floats come back bit for bit (no NaN: then `==` applies).
            if !format!("{d:?}").contains("NaN") {
                prop_assert_eq!(&d, &back);
            }
        }

        #[test]
        fn a_state_an_older_app_stored_as_json_loads(d in durable(), gen in any::<u64>()) {
            let json = d.to_json();
            for rec in [record::encode_v3(gen, &json), record::encode_v2(gen, &json)] {
                let (g, back) =
                    record::decode(&rec).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(g, gen);
                prop_assert!(same_json(&d, &back), "{:?}\n{:?}", d, back);
            }
        }

        #[test]
        fn any_bytes_sealed_as_a_record_are_read_or_refused(
            payload in vec(any::<u8>(), 0..256),
            magic in prop_oneof![Just(*record::MAGIC), Just(*record::MAGIC_V3)],
        ) {
            // Whatever a payload says (storage is untrusted), reading it ends in a
            // state or an error, never a panic; a state read re-encodes to a payload
            // that reads back the same.
            let mut rec = vec![0; record::HEADER];
            rec.extend_from_slice(&payload);
            record::seal(&magic, 1, &mut rec);
            if let Ok((_, d)) = record::decode(&rec) {
                let again = Durable::from_payload(&d.to_payload())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(same(&d, &again));
            }
        }

        #[test]
        fn a_torn_record_over_any_older_bytes_is_refused(
            d in durable(),
            old in vec(any::<u8>(), 0..2048),
            cut in any::<prop::sample::Index>(),
        ) {
            let rec = d.to_record(3);
            let n = cut.index(rec.len());
            let mut torn = old.clone();
            if torn.len() < n {
                torn.resize(n, 0);
            }
            torn[..n].copy_from_slice(&rec[..n]);
            // Only the whole record, or a prefix whose old tail happens to be the
            // record's own bytes, is the record.
            if torn != rec {
                prop_assert!(record::decode(&torn).is_err());
            }
        }
    }

    #[test]
    fn every_prefix_of_a_real_record_is_refused_byte_by_byte() {
        let mut d = Durable::bonded([7; 16]);
        d.outbox.insert(
            5,
            OutSms {
                to: "+33600000001".into(),
                text: "I need help.".into(),
                alert: 4,
                attempts: 1,
                awaiting_since_us: Some(1),
            },
        );
        let rec = d.to_record(9);
        for n in 0..rec.len() {
            assert!(record::decode(&rec[..n]).is_err(), "prefix of {n} bytes");
            let mut flipped = rec.clone();
            flipped[n] ^= 0x01;
            assert!(record::decode(&flipped).is_err(), "bit flipped at {n}");
        }
        assert_eq!(record::decode(&rec).ok(), Some((9, d)));
    }

    /// A `PHS3` payload as the previous app wrote it: JSON, fields at their default
    /// left out.
    const OLD_JSON: &str = r#"{"bond":{"key":[3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3]},"events":{"4":{"kind":"fall","event_ms":1000,"ack_confirmed":true}},"outbox":{"6":{"to":"+33600000001","text":"I fell \"here\".","alert":5,"attempts":1}},"last_fix":{"lat":48.8566,"lon":"NaN","accuracy_m":12.5,"utc_ms":900},"rejected":2,"next_id":6}"#;

    fn old_state() -> Durable {
        let mut d = Durable::bonded([3; 16]);
        d.events.insert(
            4,
            EventRecord {
                kind: "fall".into(),
                event_ms: 1000,
                ack_confirmed: true,
            },
        );
        d.outbox.insert(
            6,
            OutSms {
                to: "+33600000001".into(),
                text: "I fell \"here\".".into(),
                alert: 5,
                attempts: 1,
                awaiting_since_us: None,
            },
        );
        d.last_fix = Some(Fix {
            lat: 48.8566,
            lon: f64::NAN,
            accuracy_m: 12.5,
            utc_ms: 900,
        });
        d.rejected = 2;
        d.next_id = 6;
        d
    }

    #[test]
    fn records_of_the_previous_formats_still_load_and_are_still_checked() {
        let d = old_state();
        for rec in [
            record::encode_v3(7, OLD_JSON.as_bytes()),
            record::encode_v2(7, OLD_JSON.as_bytes()),
        ] {
            let (g, back) = record::decode(&rec).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(g, 7);
            assert!(same(&back, &d), "{back:?}");
            for n in 0..rec.len() {
                assert!(record::decode(&rec[..n]).is_err(), "prefix of {n} bytes");
                let mut flipped = rec.clone();
                flipped[n] ^= 0x01;
                assert!(record::decode(&flipped).is_err(), "bit flipped at {n}");
            }
            // Loaded beside a newer record of the current format, the newer one wins,
            // and an older one loses to it.
            let mut newer = d.clone();
            newer.rejected = 3;
            let both = load([Some(&newer.to_record(8)), Some(&rec)]);
            assert_eq!(both.generation, 8);
            assert!(same(&both.durable, &newer));
            let both = load([Some(&rec), Some(&newer.to_record(5))]);
            assert_eq!(both.generation, 7);
            assert!(same(&both.durable, &d));
        }
    }

    #[test]
    fn the_binary_payload_is_pinned() {
        // A change here makes every stored `PHS4` record unreadable: a field added,
        // removed or moved in the state needs a new record version instead.
        let hex: String = old_state()
            .to_payload()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            concat!(
                "01",                               // bond: Some
                "03030303030303030303030303030303", // its key
                "0104",                             // 1 event: #4
                "0466616c6ce80701",                 // "fall", 1000 ms, acked
                "0000",                             // pruned_through, no alerts
                "0106",                             // 1 SMS: #6
                "0c2b3333363030303030303031",       // to
                "0e492066656c6c202268657265222e",   // text
                "050100",                           // alert, attempts, not awaited
                "0000000000",                       // calls .. recording: none
                "000000",                           // siren, siren_used, countdown_used
                "000000",                           // conference, countdown, last_fall
                "01",                               // last_fix: Some
                "76e09c11a56d4840",                 // lat 48.8566 (f64 LE)
                "000000000000f87f",                 // lon NaN
                "0000000000002940",                 // accuracy 12.5
                "8407",                             // utc_ms 900 (varint)
                "0200000006",                       // rejected .. next_id
            )
        );
    }

    #[test]
    fn a_payload_cut_short_or_followed_by_bytes_is_refused() {
        // Even past its checksum, a state is read only whole (no field read as its
        // default because the bytes ran out).
        let payload = old_state().to_payload();
        for n in 0..payload.len() {
            assert!(Durable::from_payload(&payload[..n]).is_err(), "{n} bytes");
        }
        let mut rec = old_state().to_record(2);
        rec.push(0);
        record::seal(record::MAGIC, 2, &mut rec);
        let why = record::decode(&rec).err().map(|e| e.to_string());
        assert!(why.is_some_and(|w| w.contains("1 bytes after the stored state")));
        let mut other = old_state().to_record(2);
        other[..4].copy_from_slice(b"PHS5");
        assert!(record::decode(&other).is_err());
    }

    #[test]
    fn load_takes_the_newest_intact_copy_and_reports_damage() {
        let old = Durable::bonded([1; 16]);
        let mut new = old.clone();
        new.rejected = 5;
        let (a, b) = (old.to_record(4), new.to_record(5));
        assert_eq!(slot_of_record(&a), 0);
        assert_eq!(slot_of_record(&b), 1);
        let both = load([Some(&a), Some(&b)]);
        assert_eq!((both.generation, both.damage), (5, None));
        assert_eq!(both.durable, new);
        // The newest write torn: the last good copy, loudly.
        let torn = load([Some(&a), Some(&b[..b.len() / 2])]);
        assert_eq!(torn.durable, old);
        assert!(matches!(
            torn.damage,
            Some(StorageDamage::RecoveredOlderCopy { slot: 1, .. })
        ));
        // Nothing readable: empty, and said so.
        let lost = load([Some(&[][..]), Some(&b[..3])]);
        assert_eq!(lost.durable, Durable::default());
        assert!(matches!(
            lost.damage,
            Some(StorageDamage::NothingReadable { .. })
        ));
        // Never written: a fresh install, nothing to say.
        assert_eq!(load([None, None]).damage, None);
    }

    #[test]
    fn not_finite_positions_round_trip_and_read_as_json_explicitly() {
        let odd_nan = f64::from_bits(0xfff8_0000_0000_0001);
        let d = Durable {
            last_fix: Some(Fix {
                lat: odd_nan,
                lon: f64::INFINITY,
                accuracy_m: f64::NEG_INFINITY,
                utc_ms: 1,
            }),
            ..Durable::default()
        };
        // In the store, every bit.
        let (_, back) = record::decode(&d.to_record(1)).unwrap_or_else(|e| panic!("{e}"));
        let f = back.last_fix.unwrap_or_else(|| panic!("no fix"));
        assert_eq!(f.lat.to_bits(), odd_nan.to_bits());
        assert!(f.lon == f64::INFINITY && f.accuracy_m == f64::NEG_INFINITY);
        // As JSON, named.
        let text = String::from_utf8(d.to_json()).unwrap_or_default();
        assert!(
            text.contains(r#""lat":"NaN","lon":"inf","accuracy_m":"-inf""#),
            "{text}"
        );
        let back = Durable::from_json(text.as_bytes()).unwrap_or_default();
        let f = back.last_fix.unwrap_or_else(|| panic!("no fix"));
        assert!(f.lat.is_nan() && f.lon == f64::INFINITY && f.accuracy_m == f64::NEG_INFINITY);
        let bad = text.replace("\"NaN\"", "\"nan?\"");
        assert!(Durable::from_json(bad.as_bytes()).is_err());
    }
}
