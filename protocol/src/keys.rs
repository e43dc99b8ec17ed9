//! Keys derived from the bond (protocol version 2).
//!
//! Pairing ([`crate::pairing`]) gives both sides the same 16-byte long-term key, the
//! [`crate::BondKey`]. Nothing uses it directly: HKDF-SHA256 (salt
//! `"alarm-button v2 keys"`) expands it into one key per purpose, so a key is never
//! used for two things:
//!
//! | label | key | use |
//! |---|---|---|
//! | `event` | 16 bytes | AES-128-CCM of event frames, button → phone |
//! | `command` | 32 bytes | HMAC-SHA256 of commands (phone → button) and of session offers |
//! | `irk` | 16 bytes | identity resolving key of the button's private addresses |

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The 16-byte secret shared by a button and its phone, agreed at pairing
/// ([`crate::pairing`]); every key in use is derived from it ([`BondKey::keys`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BondKey(pub [u8; 16]);

impl core::fmt::Debug for BondKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.write_str("BondKey(..)")
    }
}

const SALT: &[u8] = b"alarm-button v2 keys";

/// The identity resolving key: the bonded phone recognises the button's rotating
/// private addresses with it ([`crate::rpa`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Irk(pub [u8; 16]);

impl core::fmt::Debug for Irk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Irk(..)")
    }
}

/// The per-purpose keys of one bond.
#[derive(Clone)]
pub struct Keys {
    pub(crate) event: [u8; 16],
    pub(crate) command: [u8; 32],
    /// HMAC-SHA256 keyed with `command`, its key blocks already hashed: every command
    /// tag and offer starts from a copy (two compressions fewer each).
    command_mac: Hmac<Sha256>,
    /// Identity resolving key.
    pub irk: Irk,
}

impl PartialEq for Keys {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.event, &other.event)
            && ct_eq(&self.command, &other.command)
            && self.irk == other.irk
    }
}

impl Eq for Keys {}

impl Keys {
    /// The first `N` bytes of HMAC-SHA256 under the command key over `parts`.
    pub(crate) fn command_tag<const N: usize>(&self, parts: &[&[u8]]) -> [u8; N] {
        truncate(hmac_from(&self.command_mac, parts))
    }
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl BondKey {
    /// The per-purpose keys of this bond.
    pub fn keys(&self) -> Keys {
        let hk = Hkdf::<Sha256>::new(Some(SALT), &self.0);
        let mut event = [0u8; 16];
        let mut command = [0u8; 32];
        let mut irk = [0u8; 16];
        // The output lengths are far below HKDF-SHA256's limit (255 × 32 bytes).
        let ok = hk.expand(b"event", &mut event).is_ok()
            && hk.expand(b"command", &mut command).is_ok()
            && hk.expand(b"irk", &mut irk).is_ok();
        debug_assert!(ok, "HKDF output lengths are constants below the limit");
        let command_mac = keyed(&command);
        Keys {
            event,
            command,
            command_mac,
            irk: Irk(irk),
        }
    }
}

/// HMAC-SHA256 under `key` over the concatenation of `parts`.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    hmac_from(&keyed(key), parts)
}

/// HMAC-SHA256 keyed with `key`, its key blocks hashed: one key schedule for several
/// MACs under the same key ([`hmac_from`]).
pub(crate) fn keyed(key: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// HMAC over the concatenation of `parts`, from a [`keyed`] state.
pub(crate) fn hmac_from(keyed: &Hmac<Sha256>, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed.clone();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The first `N` (at most 32, checked when compiled) bytes of a digest.
fn truncate<const N: usize>(full: [u8; 32]) -> [u8; N] {
    const { assert!(N <= 32) };
    let mut out = [0u8; N];
    for (o, f) in out.iter_mut().zip(full) {
        *o = f;
    }
    out
}

/// The first `N` bytes of an HMAC.
pub(crate) fn hmac_trunc<const N: usize>(key: &[u8], parts: &[&[u8]]) -> [u8; N] {
    truncate(hmac(key, parts))
}

/// Constant-time equality of two byte strings of the same length.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", BondKey([1; 16])), "BondKey(..)");
    }

    #[test]
    fn keys_differ_per_purpose_and_per_bond() {
        let k = BondKey([1; 16]).keys();
        assert_ne!(k.event[..], k.command[..16]);
        assert_ne!(k.event, k.irk.0);
        assert_ne!(BondKey([2; 16]).keys(), k);
        assert_eq!(BondKey([1; 16]).keys(), k);
        assert_eq!(format!("{k:?}"), "Keys(..)");
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
