//! The button↔phone contract: GATT layout, event and command encodings, protocol version
//! 2's pairing, keys, sessions and messages.
//!
//! Protocol version 2 (the secure one): [`pairing`] (X25519 key agreement with a
//! confirmation code), [`keys`] (per-purpose keys from the bond), [`session`] (fresh,
//! authenticated commands and encrypted, session-bound event frames), [`rpa`] (rotating
//! private addresses), [`wire`] (the messages), [`drbg`] (expanding the host's entropy).
//! [`event`] defines the plaintext of a sealed frame and [`command`] the commands a
//! `Signed` message carries; the firmware and the app speak only version 2.
//!
//! Without its default `std` feature the crate is `no_std` and allocation-free (what
//! the `firmware` core uses): event kinds, commands (`Command::encode_array`),
//! `ToButton` and its decoder, session tags (`Session::verify`), keys, addresses,
//! pairing, the DRBG. Frames, `ToPhone`, sealing and the `Vec` encoders need `std`.
//!
//! Both `device-model` and `phone` depend on this crate; nothing else in the tree
//! redefines a UUID or a byte layout. It does no I/O, reads no clock and draws no
//! random numbers: every decoder takes untrusted bytes and returns a [`ProtocolError`]
//! instead of panicking.

#![cfg_attr(not(feature = "std"), no_std)]

pub mod command;
pub mod drbg;
pub mod event;
pub mod gatt;
pub mod keys;
pub mod pairing;
pub mod rpa;
pub mod session;
pub mod wire;

pub use command::{Command, VibrationPattern};
pub use drbg::Drbg;
#[cfg(feature = "std")]
pub use event::EventFrame;
pub use event::EventKind;
pub use gatt::Uuid;
pub use keys::{BondKey, Irk, Keys};
pub use pairing::{ConfirmCode, Pairing, PairingKeyPair};
pub use rpa::Address;
pub use session::Session;
pub use wire::ToButton;
#[cfg(feature = "std")]
pub use wire::ToPhone;

/// Version byte carried first by a [`Command`] (inside a version 2 `Signed` message) and
/// by a test injection.
pub const COMMAND_VERSION: u8 = 1;

/// Every way a frame can be refused by a decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The frame is shorter than its layout needs.
    #[error("frame truncated: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes received.
        got: usize,
    },
    /// The frame carries bytes past its declared end.
    #[error("frame has {extra} unexpected trailing bytes")]
    TrailingBytes {
        /// Number of extra bytes.
        extra: usize,
    },
    /// The version byte is not one this build speaks.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// The event kind byte is unknown.
    #[error("unknown event kind 0x{0:02x}")]
    UnknownEventKind(u8),
    /// The command opcode is unknown.
    #[error("unknown command opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    /// The vibration pattern byte is unknown.
    #[error("unknown vibration pattern 0x{0:02x}")]
    UnknownPattern(u8),
    /// The payload is longer than a frame can carry.
    #[error("payload of {0} bytes exceeds the 64-byte maximum")]
    PayloadTooLong(usize),
    /// A UUID string is malformed.
    #[error("malformed UUID {0:?}")]
    #[cfg(feature = "std")]
    BadUuid(String),
    /// A device address string is malformed.
    #[error("malformed device address {0:?} (expected XX:XX:XX:XX:XX:XX)")]
    #[cfg(feature = "std")]
    BadAddress(String),
    /// A pairing public key gives a predictable shared secret (low-order point).
    #[error("weak pairing key (low-order point)")]
    WeakKey,
}

/// Little-endian reader over untrusted bytes: every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    #[cfg(feature = "std")]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(ProtocolError::Truncated {
                needed: self.pos.saturating_add(n),
                got: self.buf.len(),
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn finish(&self) -> Result<(), ProtocolError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            extra => Err(ProtocolError::TrailingBytes { extra }),
        }
    }
    pub(crate) fn version(&mut self) -> Result<(), ProtocolError> {
        self.expect_version(COMMAND_VERSION)
    }
    pub(crate) fn expect_version(&mut self, want: u8) -> Result<(), ProtocolError> {
        match self.u8()? {
            v if v == want => Ok(()),
            v => Err(ProtocolError::UnsupportedVersion(v)),
        }
    }
    /// Everything not read yet.
    #[cfg(feature = "std")]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}
