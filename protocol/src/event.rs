//! Event frames: what happened on the button, the plaintext that a version 2
//! [`ToPhone::Sealed`](crate::wire::ToPhone::Sealed) message carries encrypted
//! ([`crate::session::Session::seal`]). Nothing sends a frame in clear.
//!
//! Plaintext layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | kind ([`EventKind`]) |
//! | 1 | 1 | flags (bit 0: the device clock was set by a phone, so `time_ms` is UTC) |
//! | 2 | 4 | sequence number (never reused, survives resets; 0 for a heartbeat) |
//! | 6 | 8 | `time_ms`: when the event happened (UTC ms, or ms since boot when unsynced) |
//! | 14 | 1 | payload length `n` (≤ 64) |
//! | 15 | n | payload |

use crate::buf::{encode_into, Sink};
use crate::{Bytes, ProtocolError, Reader};

/// Maximum payload carried by one frame.
pub const MAX_PAYLOAD: usize = 64;

/// The plaintext's fixed part (kind, flags, sequence number, time, payload length).
pub const HEADER_LEN: usize = 15;

/// The longest plaintext: the header and a full payload.
pub const MAX_PLAINTEXT_LEN: usize = HEADER_LEN + MAX_PAYLOAD;

/// A frame's payload: at most [`MAX_PAYLOAD`] bytes, inline.
pub type Payload = Bytes<MAX_PAYLOAD>;

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

/// One event: the plaintext of a sealed frame.
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
    pub payload: Payload,
}

impl EventFrame {
    /// The plaintext's length.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload.len())
    }

    pub(crate) fn write<S: Sink>(&self, out: &mut S) -> Result<(), S::Error> {
        // A payload holds at most MAX_PAYLOAD (64) bytes: its length fits the byte.
        let n = u8::try_from(self.payload.len()).unwrap_or(u8::MAX);
        out.put(&[self.kind.code(), self.flags])?;
        out.put(&self.seq.to_le_bytes())?;
        out.put(&self.time_ms.to_le_bytes())?;
        out.put(&[n])?;
        out.put(&self.payload)
    }

    /// Write the plaintext (kind, flags, sequence number, time, payload length, payload)
    /// to the start of `out`: its length, or [`ProtocolError::BufferTooSmall`] (a buffer
    /// of [`MAX_PLAINTEXT_LEN`] bytes always fits).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ProtocolError> {
        encode_into(out, self.encoded_len(), |w| self.write(w))
    }

    /// The plaintext, in a new vector.
    #[cfg(feature = "std")]
    pub fn plaintext(&self) -> Vec<u8> {
        crate::buf::encode_vec(self.encoded_len(), |v| self.write(v))
    }

    /// Parse a plaintext (after decryption; still checked like untrusted bytes).
    pub fn from_plaintext(plain: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(plain);
        let kind = EventKind::from_code(r.u8()?)?;
        let flags = r.u8()?;
        let seq = r.u32()?;
        let time_ms = r.u64()?;
        let n = usize::from(r.u8()?);
        if n > MAX_PAYLOAD {
            return Err(ProtocolError::PayloadTooLong(n));
        }
        let payload = Payload::from_slice(r.take(n)?)?;
        r.finish()?;
        Ok(EventFrame {
            kind,
            flags,
            seq,
            time_ms,
            payload,
        })
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
            payload: Payload::from_slice(&[1, 2, 3]).unwrap(),
        }
    }

    #[test]
    fn errors_are_precise() {
        let bytes = frame().plaintext();
        assert_eq!(bytes.len(), 15 + 3);
        assert!(matches!(
            EventFrame::from_plaintext(&bytes[..bytes.len() - 1]),
            Err(ProtocolError::Truncated { .. })
        ));
        let mut more = bytes.clone();
        more.push(0);
        assert_eq!(
            EventFrame::from_plaintext(&more),
            Err(ProtocolError::TrailingBytes { extra: 1 })
        );
        let mut kind = bytes.clone();
        kind[0] = 0x77;
        assert_eq!(
            EventFrame::from_plaintext(&kind),
            Err(ProtocolError::UnknownEventKind(0x77))
        );
        let mut long = bytes.clone();
        long[14] = 65;
        assert_eq!(
            EventFrame::from_plaintext(&long),
            Err(ProtocolError::PayloadTooLong(65))
        );
        assert_eq!(
            Payload::from_slice(&[0; 65]),
            Err(ProtocolError::TooLong { max: 64, got: 65 })
        );
        // Into a caller's buffer: the same bytes, or an error when it is short.
        let mut buf = [0u8; MAX_PLAINTEXT_LEN];
        assert_eq!(frame().encode_into(&mut buf), Ok(18));
        assert_eq!(&buf[..18], &bytes[..]);
        assert_eq!(
            frame().encode_into(&mut buf[..17]),
            Err(ProtocolError::BufferTooSmall {
                needed: 18,
                got: 17
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = EventFrame::from_plaintext(&bytes);
        }

        #[test]
        fn plaintext_round_trips(seq: u32, time_ms: u64, flags: u8,
                                 payload in proptest::collection::vec(any::<u8>(), 0..=64)) {
            let payload = Payload::from_slice(&payload).unwrap();
            let f = EventFrame { kind: EventKind::Fall, flags, seq, time_ms, payload };
            let bytes = f.plaintext();
            prop_assert_eq!(EventFrame::from_plaintext(&bytes), Ok(f));
        }
    }
}
