//! Event frames: what the button indicates on the event characteristic.
//!
//! Layout (little-endian), then an 8-byte truncated HMAC tag over everything before it:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version (`1`) |
//! | 1 | 1 | kind ([`EventKind`]) |
//! | 2 | 1 | flags (bit 0: the device clock was set by a phone, so `time_ms` is UTC) |
//! | 3 | 4 | sequence number (never reused, survives resets) |
//! | 7 | 8 | `time_ms`: when the event happened (UTC ms, or ms since boot when unsynced) |
//! | 15 | 1 | payload length `n` (≤ 64) |
//! | 16 | n | payload |
//! | 16+n | 8 | tag |

use crate::auth::{BondKey, TAG_LEN};
use crate::{ProtocolError, Reader, PROTOCOL_VERSION};

/// Maximum payload carried by one frame.
pub const MAX_PAYLOAD: usize = 64;

/// What happened on the button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// One click.
    Single,
    /// Two clicks.
    Double,
    /// Three clicks ("I am safe").
    Triple,
    /// A press held for the long-press time.
    Long,
    /// The accelerometer detected a fall.
    Fall,
    /// The battery crossed a low-charge threshold (payload: percent).
    LowBattery,
    /// Protocol version 2: the button is alive (payload: battery percent). Sent every
    /// 60 s while a session is up, never queued, sequence number 0.
    Heartbeat,
}

impl EventKind {
    /// The wire byte.
    pub fn code(self) -> u8 {
        match self {
            EventKind::Single => 0x01,
            EventKind::Double => 0x02,
            EventKind::Triple => 0x03,
            EventKind::Long => 0x04,
            EventKind::Fall => 0x10,
            EventKind::LowBattery => 0x20,
            EventKind::Heartbeat => 0x30,
        }
    }

    /// Decode the wire byte.
    pub fn from_code(b: u8) -> Result<Self, ProtocolError> {
        Ok(match b {
            0x01 => EventKind::Single,
            0x02 => EventKind::Double,
            0x03 => EventKind::Triple,
            0x04 => EventKind::Long,
            0x10 => EventKind::Fall,
            0x20 => EventKind::LowBattery,
            0x30 => EventKind::Heartbeat,
            other => return Err(ProtocolError::UnknownEventKind(other)),
        })
    }

    /// Lower-case name used in timelines and reports.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Single => "single",
            EventKind::Double => "double",
            EventKind::Triple => "triple",
            EventKind::Long => "long",
            EventKind::Fall => "fall",
            EventKind::LowBattery => "low_battery",
            EventKind::Heartbeat => "heartbeat",
        }
    }
}

/// Flag bit: `time_ms` is UTC (the clock was set by a phone).
pub const FLAG_CLOCK_SYNCED: u8 = 0x01;

/// One event as carried on the air (the tag is checked separately, see [`EventFrame::open`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFrame {
    /// What happened.
    pub kind: EventKind,
    /// Flags ([`FLAG_CLOCK_SYNCED`]).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// When it happened (see the flags).
    pub time_ms: u64,
    /// Kind-specific payload.
    pub payload: Vec<u8>,
}

impl EventFrame {
    fn body(&self) -> Result<Vec<u8>, ProtocolError> {
        if self.payload.len() > MAX_PAYLOAD {
            return Err(ProtocolError::PayloadTooLong(self.payload.len()));
        }
        let mut out = Vec::with_capacity(16 + self.payload.len() + TAG_LEN);
        out.push(PROTOCOL_VERSION);
        out.push(self.kind.code());
        out.push(self.flags);
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.time_ms.to_le_bytes());
        out.push(self.payload.len() as u8);
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// The plaintext of a version 2 sealed frame: the version 1 layout without its
    /// version byte (kind, flags, sequence number, time, payload length, payload).
    pub(crate) fn plaintext(&self) -> Result<Vec<u8>, ProtocolError> {
        let mut body = self.body()?;
        body.remove(0);
        Ok(body)
    }

    /// Parse a version 2 plaintext (after decryption; still checked like untrusted bytes).
    pub(crate) fn from_plaintext(plain: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(plain);
        let kind = EventKind::from_code(r.u8()?)?;
        let flags = r.u8()?;
        let seq = r.u32()?;
        let time_ms = r.u64()?;
        let n = usize::from(r.u8()?);
        if n > MAX_PAYLOAD {
            return Err(ProtocolError::PayloadTooLong(n));
        }
        let payload = r.take(n)?.to_vec();
        r.finish()?;
        Ok(EventFrame {
            kind,
            flags,
            seq,
            time_ms,
            payload,
        })
    }

    /// Encode and authenticate with `key`.
    pub fn seal(&self, key: &BondKey) -> Result<Vec<u8>, ProtocolError> {
        let mut out = self.body()?;
        let tag = key.tag(&out);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decode untrusted bytes without checking the tag; returns the frame, the
    /// authenticated prefix and the tag.
    pub fn decode(bytes: &[u8]) -> Result<(EventFrame, &[u8], &[u8]), ProtocolError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let kind = EventKind::from_code(r.u8()?)?;
        let flags = r.u8()?;
        let seq = r.u32()?;
        let time_ms = r.u64()?;
        let n = r.u8()? as usize;
        if n > MAX_PAYLOAD {
            return Err(ProtocolError::PayloadTooLong(n));
        }
        let payload = r.take(n)?.to_vec();
        let body_len = r.pos();
        let tag = r.take(TAG_LEN)?;
        r.finish()?;
        Ok((
            EventFrame {
                kind,
                flags,
                seq,
                time_ms,
                payload,
            },
            &bytes[..body_len],
            tag,
        ))
    }

    /// Decode and verify under `key`: `Ok(None)` when the frame parses but its tag is wrong.
    pub fn open(bytes: &[u8], key: &BondKey) -> Result<Option<EventFrame>, ProtocolError> {
        let (frame, body, tag) = Self::decode(bytes)?;
        Ok(key.verify(body, tag).then_some(frame))
    }

    /// Whether the time is UTC.
    pub fn clock_synced(&self) -> bool {
        self.flags & FLAG_CLOCK_SYNCED != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame() -> EventFrame {
        EventFrame {
            kind: EventKind::Double,
            flags: FLAG_CLOCK_SYNCED,
            seq: 42,
            time_ms: 1_700_000_000_123,
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let k = BondKey([3; 16]);
        let bytes = frame().seal(&k).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            EventFrame::open(&bytes, &k).unwrap_or_else(|e| panic!("{e}")),
            Some(frame())
        );
        let mut bad = bytes.clone();
        bad[3] ^= 1;
        assert_eq!(
            EventFrame::open(&bad, &k).unwrap_or_else(|e| panic!("{e}")),
            None
        );
        assert_eq!(
            EventFrame::open(&bytes, &BondKey([4; 16])).unwrap_or_else(|e| panic!("{e}")),
            None
        );
    }

    #[test]
    fn errors_are_precise() {
        let k = BondKey([3; 16]);
        let bytes = frame().seal(&k).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            EventFrame::decode(&bytes[..bytes.len() - 1]),
            Err(ProtocolError::Truncated { .. })
        ));
        let mut more = bytes.clone();
        more.push(0);
        assert_eq!(
            EventFrame::decode(&more).map(|_| ()),
            Err(ProtocolError::TrailingBytes { extra: 1 })
        );
        let mut v = bytes.clone();
        v[0] = 9;
        assert_eq!(
            EventFrame::decode(&v).map(|_| ()),
            Err(ProtocolError::UnsupportedVersion(9))
        );
        let mut kind = bytes;
        kind[1] = 0x77;
        assert_eq!(
            EventFrame::decode(&kind).map(|_| ()),
            Err(ProtocolError::UnknownEventKind(0x77))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = EventFrame::decode(&bytes);
            let _ = EventFrame::open(&bytes, &BondKey([0; 16]));
        }

        #[test]
        fn seal_open_round_trips(seq: u32, time_ms: u64, flags: u8,
                                 payload in proptest::collection::vec(any::<u8>(), 0..=64)) {
            let k = BondKey([9; 16]);
            let f = EventFrame { kind: EventKind::Fall, flags, seq, time_ms, payload };
            let bytes = f.seal(&k).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(EventFrame::open(&bytes, &k).unwrap_or_else(|e| panic!("{e}")), Some(f));
        }
    }
}
