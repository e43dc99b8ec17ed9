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
//! Without its default `std` feature the whole contract is `no_std` and
//! allocation-free (what the `firmware` core uses): every message ([`ToButton`],
//! [`ToPhone`], [`EventFrame`], [`Command`], test injections) encodes into a caller's
//! buffer (`encode_into(&mut [u8]) -> Result<usize, ProtocolError>`, each with a
//! `MAX_LEN` or a `MAX_…_LEN` that always fits) and decodes from `&[u8]`; the variable
//! parts (a frame's payload, a sealed body) are inline [`Bytes`] of fixed capacity;
//! signing, verifying, sealing and opening work on the stack (AES-128-CCM in
//! place). The `std` feature adds only conveniences for the host: `encode()` returning
//! a `Vec` (the same code on a sink that cannot fail), `EventFrame::plaintext`, and the
//! text parsers `Uuid::parse` and `Address::parse` (their errors carry the text).
//! `cargo xtask layers` proves the `no_std` build, and clippy denies `unwrap`, `expect`,
//! indexing that can panic and `panic!` outside tests.
//!
//! Both `device-model` and `phone` depend on this crate; nothing else in the tree
//! redefines a UUID or a byte layout. It does no I/O, reads no clock and draws no
//! random numbers: every decoder takes untrusted bytes and returns a [`ProtocolError`]
//! instead of panicking.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod buf;
pub mod command;
pub mod drbg;
pub mod event;
pub mod gatt;
pub mod keys;
pub mod pairing;
pub mod rpa;
pub mod session;
pub mod wire;

pub use buf::Bytes;
pub(crate) use buf::Reader;
pub use command::{Command, VibrationPattern};
pub use drbg::Drbg;
pub use event::{EventFrame, EventKind, Payload};
pub use gatt::Uuid;
pub use keys::{BondKey, Irk, Keys};
pub use pairing::{ConfirmCode, Pairing, PairingKeyPair};
pub use rpa::Address;
pub use session::Session;
pub use wire::{ToButton, ToPhone};

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
    /// A value is longer than its fixed capacity.
    #[error("{got} bytes exceed the {max}-byte maximum")]
    TooLong {
        /// The capacity.
        max: usize,
        /// Bytes offered.
        got: usize,
    },
    /// The caller's buffer cannot hold the encoding.
    #[error("output buffer too small: need {needed} bytes, got {got}")]
    BufferTooSmall {
        /// Bytes the encoding takes.
        needed: usize,
        /// Bytes the buffer has.
        got: usize,
    },
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
