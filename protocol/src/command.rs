//! Commands the phone writes to the control characteristic, and test-service injections.
//!
//! Command layout: version byte ([`crate::COMMAND_VERSION`], 1), opcode byte, then the opcode's fields (little-endian):
//!
//! | opcode | command | fields |
//! |---|---|---|
//! | 0x01 | `Ack` | seq: u32 — the phone durably recorded event `seq` |
//! | 0x02 | `SetTime` | utc_ms: u64 — set the button's clock |
//! | 0x03 | `Vibrate` | pattern: u8 ([`VibrationPattern`]) |
//! | 0x05 | `Unbond` | — forget the bond (the button goes back to pairing mode) |
//!
//! Protocol version 2 carries commands only inside a
//! [`ToButton::Signed`](crate::wire::ToButton::Signed) message: the button refuses
//! (and counts) a command written on its own. Keys are agreed by
//! [`crate::pairing`]; no command carries one.
//!
//! Test injection layout (test service only): version, opcode, fields:
//! `0x81 Edge{down: u8}`, `0x82 Accel{x,y,z: i16 milli-g}`, `0x83 Battery{mv: u16}`.

use crate::buf::{encode_into, Sink};
use crate::{ProtocolError, Reader, COMMAND_VERSION};

/// The longest encoded [`Command`] (version, opcode, a u64).
pub const COMMAND_MAX_LEN: usize = 10;

/// A vibration pattern the phone asks the button to play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VibrationPattern {
    /// The alert went out.
    Sent,
    /// The alert could not go out.
    Failed,
    /// A fall countdown is running.
    Countdown,
}

impl VibrationPattern {
    /// The wire byte.
    pub fn code(self) -> u8 {
        match self {
            VibrationPattern::Sent => 1,
            VibrationPattern::Failed => 2,
            VibrationPattern::Countdown => 3,
        }
    }
    /// Decode the wire byte.
    pub fn from_code(b: u8) -> Result<Self, ProtocolError> {
        match b {
            1 => Ok(VibrationPattern::Sent),
            2 => Ok(VibrationPattern::Failed),
            3 => Ok(VibrationPattern::Countdown),
            o => Err(ProtocolError::UnknownPattern(o)),
        }
    }
    /// Name used in steps and timelines (`"sent"`, `"failed"`, `"countdown"`).
    pub fn name(self) -> &'static str {
        match self {
            VibrationPattern::Sent => "sent",
            VibrationPattern::Failed => "failed",
            VibrationPattern::Countdown => "countdown",
        }
    }
    /// Parse a name as used in steps.
    pub fn from_name(s: &str) -> Option<Self> {
        [Self::Sent, Self::Failed, Self::Countdown]
            .into_iter()
            .find(|p| p.name() == s)
    }
}

/// A command written by the phone to the control characteristic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The phone durably recorded event `seq`; the button may drop it from its queue.
    Ack {
        /// Sequence number acknowledged.
        seq: u32,
    },
    /// Set the button's clock to UTC milliseconds.
    SetTime {
        /// UTC milliseconds since the Unix epoch.
        utc_ms: u64,
    },
    /// Play a vibration pattern.
    Vibrate(VibrationPattern),
    /// Forget the bond.
    Unbond,
}

impl Command {
    /// Encode into a fixed buffer (no heap): the bytes are `buf[..len]`.
    pub fn encode_array(&self) -> ([u8; COMMAND_MAX_LEN], usize) {
        let mut buf = [0u8; COMMAND_MAX_LEN];
        let (op, field): (u8, &[u8]) = match self {
            Command::Ack { seq } => (0x01, &seq.to_le_bytes()[..]),
            Command::SetTime { utc_ms } => (0x02, &utc_ms.to_le_bytes()[..]),
            Command::Vibrate(p) => (0x03, &[p.code()][..]),
            Command::Unbond => (0x05, &[][..]),
        };
        let len = 2 + field.len();
        let [v, o, rest @ ..] = &mut buf;
        (*v, *o) = (COMMAND_VERSION, op);
        for (d, s) in rest.iter_mut().zip(field) {
            *d = *s;
        }
        (buf, len)
    }

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        self.encode_array().1
    }

    pub(crate) fn write<S: Sink>(&self, out: &mut S) -> Result<(), S::Error> {
        let (buf, len) = self.encode_array();
        out.put(buf.get(..len).unwrap_or(&buf))
    }

    /// Encode to the start of `out`: the length written, or
    /// [`ProtocolError::BufferTooSmall`] (a buffer of [`COMMAND_MAX_LEN`] always fits).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ProtocolError> {
        encode_into(out, self.encoded_len(), |w| self.write(w))
    }

    /// Encode, in a new vector.
    #[cfg(feature = "std")]
    pub fn encode(&self) -> Vec<u8> {
        crate::buf::encode_vec(self.encoded_len(), |v| self.write(v))
    }

    /// Decode untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let cmd = match r.u8()? {
            0x01 => Command::Ack { seq: r.u32()? },
            0x02 => Command::SetTime { utc_ms: r.u64()? },
            0x03 => Command::Vibrate(VibrationPattern::from_code(r.u8()?)?),
            0x05 => Command::Unbond,
            op => return Err(ProtocolError::UnknownOpcode(op)),
        };
        r.finish()?;
        Ok(cmd)
    }
}

/// An injection written to the test service (test firmware only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestInjection {
    /// A raw button edge.
    Edge {
        /// Pressed (`true`) or released.
        down: bool,
    },
    /// One accelerometer sample in milli-g.
    Accel {
        /// X, Y, Z in milli-g.
        mg: [i16; 3],
    },
    /// A battery voltage reading in millivolts.
    Battery {
        /// Millivolts.
        mv: u16,
    },
}

impl TestInjection {
    /// The longest injection (`Accel`).
    pub const MAX_LEN: usize = 2 + 6;

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        2 + match self {
            TestInjection::Edge { .. } => 1,
            TestInjection::Accel { .. } => 6,
            TestInjection::Battery { .. } => 2,
        }
    }

    fn write<S: Sink>(&self, out: &mut S) -> Result<(), S::Error> {
        match self {
            TestInjection::Edge { down } => out.put(&[COMMAND_VERSION, 0x81, u8::from(*down)]),
            TestInjection::Accel { mg } => {
                out.put(&[COMMAND_VERSION, 0x82])?;
                mg.iter().try_for_each(|v| out.put(&v.to_le_bytes()))
            }
            TestInjection::Battery { mv } => {
                out.put(&[COMMAND_VERSION, 0x83])?;
                out.put(&mv.to_le_bytes())
            }
        }
    }

    /// Encode to the start of `out`: the length written, or
    /// [`ProtocolError::BufferTooSmall`] (a buffer of [`TestInjection::MAX_LEN`] always
    /// fits).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ProtocolError> {
        encode_into(out, self.encoded_len(), |w| self.write(w))
    }

    /// Encode, in a new vector.
    #[cfg(feature = "std")]
    pub fn encode(&self) -> Vec<u8> {
        crate::buf::encode_vec(self.encoded_len(), |v| self.write(v))
    }

    /// Decode untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let inj = match r.u8()? {
            0x81 => TestInjection::Edge { down: r.u8()? != 0 },
            0x82 => {
                let mut mg = [0i16; 3];
                for v in &mut mg {
                    *v = i16::from_le_bytes(r.array()?);
                }
                TestInjection::Accel { mg }
            }
            0x83 => TestInjection::Battery {
                mv: u16::from_le_bytes(r.array()?),
            },
            op => return Err(ProtocolError::UnknownOpcode(op)),
        };
        r.finish()?;
        Ok(inj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands_round_trip() {
        for c in [
            Command::Ack { seq: 7 },
            Command::SetTime {
                utc_ms: 1_750_000_000_000,
            },
            Command::Vibrate(VibrationPattern::Failed),
            Command::Unbond,
        ] {
            assert_eq!(Command::decode(&c.encode()), Ok(c));
        }
        for t in [
            TestInjection::Edge { down: true },
            TestInjection::Accel {
                mg: [-1000, 0, 16000],
            },
            TestInjection::Battery { mv: 2900 },
        ] {
            assert_eq!(TestInjection::decode(&t.encode()), Ok(t));
        }
        // The fixed-buffer encoding is the wire's: byte for byte.
        assert_eq!(Command::Ack { seq: 7 }.encode(), vec![1, 0x01, 7, 0, 0, 0]);
        assert_eq!(Command::Unbond.encode(), vec![1, 0x05]);
        let t = Command::SetTime { utc_ms: u64::MAX }.encode_array();
        assert_eq!(
            (t.1, t.0),
            (
                COMMAND_MAX_LEN,
                [1, 0x02, 255, 255, 255, 255, 255, 255, 255, 255]
            )
        );
        assert_eq!(
            Command::decode(&[1, 0x55]),
            Err(ProtocolError::UnknownOpcode(0x55))
        );
        assert!(matches!(
            Command::decode(&[1, 1, 0]),
            Err(ProtocolError::Truncated { .. })
        ));
        assert!(matches!(
            Command::decode(&[]),
            Err(ProtocolError::Truncated { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = Command::decode(&bytes);
            let _ = TestInjection::decode(&bytes);
        }
    }
}
