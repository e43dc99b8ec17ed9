//! The messages of protocol version 2, as they cross the air.
//!
//! Phone → button, written to the control characteristic ([`ToButton`]):
//!
//! | type | message | fields |
//! |---|---|---|
//! | 0x10 | `Hello` | phone nonce: 8 bytes — opens a session (plain) |
//! | 0x20 | `Signed` | counter: u32, command length: u8, [`Command`] bytes, tag: 8 bytes |
//! | 0x30 | `PairRequest` | phone's ephemeral X25519 public key: 32 bytes |
//! | 0x31 | `PairConfirm` | phone's key confirmation: 16 bytes |
//!
//! Button → phone, indicated on the event characteristic ([`ToPhone`]):
//!
//! | type | message | fields |
//! |---|---|---|
//! | 0x40 | `Offer` | session id: u32, button nonce: 8 bytes, tag: 8 bytes |
//! | 0x41 | `Sealed` | frame index: u32, ciphertext of an [`crate::EventFrame`] + 16-byte tag |
//! | 0x50 | `PairResponse` | button's ephemeral X25519 public key: 32 bytes |
//! | 0x51 | `PairDone` | button's key confirmation: 16 bytes |
//!
//! Every message starts with the version byte [`WIRE_VERSION`] then its type. Sessions
//! and the cryptography are in [`crate::session`] and [`crate::pairing`].

use crate::buf::{encode_into, Sink};
use crate::command::{Command, COMMAND_MAX_LEN};
use crate::event::{HEADER_LEN, MAX_PLAINTEXT_LEN};
use crate::pairing::{CONFIRM_TAG_LEN, PUBLIC_LEN};
use crate::session::{NONCE_LEN, SEALED_TAG_LEN, TAG_LEN};
use crate::{Bytes, ProtocolError, Reader};

/// Version byte of protocol version 2 messages.
pub const WIRE_VERSION: u8 = 2;

/// Longest command a `Signed` message carries.
pub const MAX_COMMAND_LEN: usize = 32;

/// The longest sealed body: a full plaintext and the CCM tag.
pub const MAX_SEALED_LEN: usize = MAX_PLAINTEXT_LEN + SEALED_TAG_LEN;

/// The shortest sealed body: an empty payload's plaintext and the tag.
pub const MIN_SEALED_LEN: usize = HEADER_LEN + SEALED_TAG_LEN;

/// A sealed frame's body (ciphertext and tag), inline.
pub type SealedBody = Bytes<MAX_SEALED_LEN>;

/// Version and type.
const HEAD_LEN: usize = 2;

// A `Signed` message with the longest command fits `ToButton::MAX_LEN`.
const _: () = assert!(HEAD_LEN + 4 + 1 + COMMAND_MAX_LEN + TAG_LEN <= ToButton::MAX_LEN);
const _: () = assert!(COMMAND_MAX_LEN <= MAX_COMMAND_LEN);

/// What the phone writes to the button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToButton {
    /// Open a session with a fresh phone nonce.
    Hello {
        /// The phone's nonce.
        phone_nonce: [u8; NONCE_LEN],
    },
    /// An authenticated command of the current session.
    Signed {
        /// Strictly increasing within the session.
        counter: u32,
        /// The command.
        command: Command,
        /// Truncated HMAC ([`crate::session::Session::sign`]).
        tag: [u8; TAG_LEN],
    },
    /// Start pairing.
    PairRequest {
        /// The phone's ephemeral public key.
        phone_public: [u8; PUBLIC_LEN],
    },
    /// The wearer confirmed the code on the phone.
    PairConfirm {
        /// The phone's key confirmation.
        tag: [u8; CONFIRM_TAG_LEN],
    },
}

/// What the button indicates to the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToPhone {
    /// The button's half of a session, proving it holds the bond.
    Offer {
        /// Session id (never reused by this button).
        session_id: u32,
        /// The button's nonce.
        button_nonce: [u8; NONCE_LEN],
        /// Truncated HMAC over both nonces and the id.
        tag: [u8; TAG_LEN],
    },
    /// An encrypted event frame.
    Sealed {
        /// The frame's index within the session (the AEAD nonce).
        index: u32,
        /// Ciphertext followed by the 16-byte CCM tag
        /// ([`MIN_SEALED_LEN`]`..=`[`MAX_SEALED_LEN`] bytes).
        body: SealedBody,
    },
    /// The button's half of a pairing.
    PairResponse {
        /// The button's ephemeral public key.
        button_public: [u8; PUBLIC_LEN],
    },
    /// The button stored the bond.
    PairDone {
        /// The button's key confirmation.
        tag: [u8; CONFIRM_TAG_LEN],
    },
}

fn head<S: Sink>(out: &mut S, kind: u8) -> Result<(), S::Error> {
    out.put(&[WIRE_VERSION, kind])
}

impl ToButton {
    /// The longest message (`PairRequest`).
    pub const MAX_LEN: usize = HEAD_LEN + PUBLIC_LEN;

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        HEAD_LEN
            + match self {
                ToButton::Hello { .. } => NONCE_LEN,
                ToButton::Signed { command, .. } => 4 + 1 + command.encoded_len() + TAG_LEN,
                ToButton::PairRequest { .. } => PUBLIC_LEN,
                ToButton::PairConfirm { .. } => CONFIRM_TAG_LEN,
            }
    }

    fn write<S: Sink>(&self, out: &mut S) -> Result<(), S::Error> {
        match self {
            ToButton::Hello { phone_nonce } => {
                head(out, 0x10)?;
                out.put(phone_nonce)
            }
            ToButton::Signed {
                counter,
                command,
                tag,
            } => {
                head(out, 0x20)?;
                out.put(&counter.to_le_bytes())?;
                // Commands are at most COMMAND_MAX_LEN (10) bytes: the length fits.
                let n = u8::try_from(command.encoded_len()).unwrap_or(u8::MAX);
                out.put(&[n])?;
                command.write(out)?;
                out.put(tag)
            }
            ToButton::PairRequest { phone_public } => {
                head(out, 0x30)?;
                out.put(phone_public)
            }
            ToButton::PairConfirm { tag } => {
                head(out, 0x31)?;
                out.put(tag)
            }
        }
    }

    /// Encode to the start of `out`: the length written, or
    /// [`ProtocolError::BufferTooSmall`] (a buffer of [`ToButton::MAX_LEN`] always fits).
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
        r.expect_version(WIRE_VERSION)?;
        let msg = match r.u8()? {
            0x10 => ToButton::Hello {
                phone_nonce: r.array()?,
            },
            0x20 => {
                let counter = r.u32()?;
                let n = usize::from(r.u8()?);
                if n > MAX_COMMAND_LEN {
                    return Err(ProtocolError::PayloadTooLong(n));
                }
                let command = Command::decode(r.take(n)?)?;
                ToButton::Signed {
                    counter,
                    command,
                    tag: r.array()?,
                }
            }
            0x30 => ToButton::PairRequest {
                phone_public: r.array()?,
            },
            0x31 => ToButton::PairConfirm { tag: r.array()? },
            op => return Err(ProtocolError::UnknownOpcode(op)),
        };
        r.finish()?;
        Ok(msg)
    }
}

impl ToPhone {
    /// The longest message (`Sealed` with a full payload).
    pub const MAX_LEN: usize = HEAD_LEN + 4 + MAX_SEALED_LEN;

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        HEAD_LEN
            + match self {
                ToPhone::Offer { .. } => 4 + NONCE_LEN + TAG_LEN,
                ToPhone::Sealed { body, .. } => 4 + body.len(),
                ToPhone::PairResponse { .. } => PUBLIC_LEN,
                ToPhone::PairDone { .. } => CONFIRM_TAG_LEN,
            }
    }

    fn write<S: Sink>(&self, out: &mut S) -> Result<(), S::Error> {
        match self {
            ToPhone::Offer {
                session_id,
                button_nonce,
                tag,
            } => {
                head(out, 0x40)?;
                out.put(&session_id.to_le_bytes())?;
                out.put(button_nonce)?;
                out.put(tag)
            }
            ToPhone::Sealed { index, body } => {
                head(out, 0x41)?;
                out.put(&index.to_le_bytes())?;
                out.put(body)
            }
            ToPhone::PairResponse { button_public } => {
                head(out, 0x50)?;
                out.put(button_public)
            }
            ToPhone::PairDone { tag } => {
                head(out, 0x51)?;
                out.put(tag)
            }
        }
    }

    /// Encode to the start of `out`: the length written, or
    /// [`ProtocolError::BufferTooSmall`] (a buffer of [`ToPhone::MAX_LEN`] always fits).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, ProtocolError> {
        encode_into(out, self.encoded_len(), |w| self.write(w))
    }

    /// Encode, in a new vector.
    #[cfg(feature = "std")]
    pub fn encode(&self) -> Vec<u8> {
        crate::buf::encode_vec(self.encoded_len(), |v| self.write(v))
    }

    /// Decode untrusted bytes (a sealed body is checked when opened).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        r.expect_version(WIRE_VERSION)?;
        let msg = match r.u8()? {
            0x40 => ToPhone::Offer {
                session_id: r.u32()?,
                button_nonce: r.array()?,
                tag: r.array()?,
            },
            0x41 => {
                let index = r.u32()?;
                let at = r.pos();
                let body = r.rest();
                // The smallest frame: 15 bytes of plaintext and the tag.
                if body.len() < MIN_SEALED_LEN {
                    return Err(ProtocolError::Truncated {
                        needed: at.saturating_add(MIN_SEALED_LEN),
                        got: bytes.len(),
                    });
                }
                // The largest: a full payload (a longer body cannot open).
                ToPhone::Sealed {
                    index,
                    body: SealedBody::from_slice(body)?,
                }
            }
            0x50 => ToPhone::PairResponse {
                button_public: r.array()?,
            },
            0x51 => ToPhone::PairDone { tag: r.array()? },
            op => return Err(ProtocolError::UnknownOpcode(op)),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VibrationPattern;
    use proptest::prelude::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            ToButton::Hello {
                phone_nonce: [1; 8],
            },
            ToButton::Signed {
                counter: 7,
                command: Command::SetTime { utc_ms: u64::MAX },
                tag: [2; 8],
            },
            ToButton::Signed {
                counter: 1,
                command: Command::Vibrate(VibrationPattern::Sent),
                tag: [3; 8],
            },
            ToButton::PairRequest {
                phone_public: [4; 32],
            },
            ToButton::PairConfirm { tag: [5; 16] },
        ] {
            assert_eq!(ToButton::decode(&m.encode()), Ok(m));
        }
        for m in [
            ToPhone::Offer {
                session_id: 9,
                button_nonce: [6; 8],
                tag: [7; 8],
            },
            ToPhone::Sealed {
                index: 3,
                body: SealedBody::from_slice(&[8; 40]).unwrap(),
            },
            ToPhone::PairResponse {
                button_public: [9; 32],
            },
            ToPhone::PairDone { tag: [1; 16] },
        ] {
            assert_eq!(ToPhone::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn encoding_into_a_buffer_gives_the_vec_bytes_or_an_error() {
        let to_button = ToButton::Signed {
            counter: 7,
            command: Command::SetTime { utc_ms: u64::MAX },
            tag: [2; 8],
        };
        let mut buf = [0u8; ToButton::MAX_LEN];
        let n = to_button.encode_into(&mut buf).unwrap();
        assert_eq!(&buf[..n], &to_button.encode()[..]);
        assert_eq!(
            to_button.encode_into(&mut buf[..n - 1]),
            Err(ProtocolError::BufferTooSmall {
                needed: n,
                got: n - 1
            })
        );
        let full = ToPhone::Sealed {
            index: u32::MAX,
            body: SealedBody::from_slice(&[8; MAX_SEALED_LEN]).unwrap(),
        };
        let mut buf = [0u8; ToPhone::MAX_LEN];
        assert_eq!(full.encode_into(&mut buf), Ok(ToPhone::MAX_LEN));
        assert_eq!(&buf[..], &full.encode()[..]);
        assert_eq!(ToPhone::decode(&buf), Ok(full));
    }

    #[test]
    fn a_sealed_body_longer_than_any_frame_is_refused() {
        let mut m = ToPhone::Sealed {
            index: 1,
            body: SealedBody::from_slice(&[8; MAX_SEALED_LEN]).unwrap(),
        }
        .encode();
        m.push(0);
        assert_eq!(
            ToPhone::decode(&m),
            Err(ProtocolError::TooLong {
                max: MAX_SEALED_LEN,
                got: MAX_SEALED_LEN + 1
            })
        );
        assert!(matches!(
            ToPhone::decode(&m[..6 + MIN_SEALED_LEN - 1]),
            Err(ProtocolError::Truncated { .. })
        ));
    }

    #[test]
    fn every_command_fits_a_signed_message() {
        for c in [
            Command::Ack { seq: u32::MAX },
            Command::SetTime { utc_ms: u64::MAX },
            Command::Vibrate(VibrationPattern::Countdown),
            Command::Unbond,
        ] {
            assert!(c.encode().len() <= MAX_COMMAND_LEN);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = ToButton::decode(&bytes);
            let _ = ToPhone::decode(&bytes);
        }
    }
}
