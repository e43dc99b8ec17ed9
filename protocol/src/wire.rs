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

use crate::command::Command;
use crate::pairing::{CONFIRM_TAG_LEN, PUBLIC_LEN};
#[cfg(feature = "std")]
use crate::session::SEALED_TAG_LEN;
use crate::session::{NONCE_LEN, TAG_LEN};
use crate::{ProtocolError, Reader};

/// Version byte of protocol version 2 messages.
pub const WIRE_VERSION: u8 = 2;

/// Longest command a `Signed` message carries.
pub const MAX_COMMAND_LEN: usize = 32;

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
#[cfg(feature = "std")]
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
        /// Ciphertext followed by the 16-byte Poly1305 tag.
        body: Vec<u8>,
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

#[cfg(feature = "std")]
fn head(kind: u8) -> Vec<u8> {
    vec![WIRE_VERSION, kind]
}

impl ToButton {
    /// Encode.
    #[cfg(feature = "std")]
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ToButton::Hello { phone_nonce } => [&head(0x10)[..], phone_nonce].concat(),
            ToButton::Signed {
                counter,
                command,
                tag,
            } => {
                let cmd = command.encode();
                let mut out = head(0x20);
                out.extend_from_slice(&counter.to_le_bytes());
                // Commands are at most MAX_COMMAND_LEN bytes (checked by a test).
                out.push(cmd.len() as u8);
                out.extend_from_slice(&cmd);
                out.extend_from_slice(tag);
                out
            }
            ToButton::PairRequest { phone_public } => [&head(0x30)[..], phone_public].concat(),
            ToButton::PairConfirm { tag } => [&head(0x31)[..], tag].concat(),
        }
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

#[cfg(feature = "std")]
impl ToPhone {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ToPhone::Offer {
                session_id,
                button_nonce,
                tag,
            } => [
                &head(0x40)[..],
                &session_id.to_le_bytes(),
                button_nonce,
                tag,
            ]
            .concat(),
            ToPhone::Sealed { index, body } => {
                [&head(0x41)[..], &index.to_le_bytes(), body].concat()
            }
            ToPhone::PairResponse { button_public } => [&head(0x50)[..], button_public].concat(),
            ToPhone::PairDone { tag } => [&head(0x51)[..], tag].concat(),
        }
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
                let body = r.rest();
                // The smallest frame: 15 bytes of plaintext and the tag.
                if body.len() < 15 + SEALED_TAG_LEN {
                    return Err(ProtocolError::Truncated {
                        needed: r.pos() + 15 + SEALED_TAG_LEN,
                        got: bytes.len(),
                    });
                }
                ToPhone::Sealed {
                    index,
                    body: body.to_vec(),
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
                body: vec![8; 40],
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
