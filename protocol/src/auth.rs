//! Event authentication: HMAC-SHA256 keyed with the bond key, truncated to 8 bytes.
//!
//! The tag covers the whole encoded event (version, kind, flags, sequence number,
//! device time and payload), so a tampered byte or a frame from a device that does not
//! hold the bond key fails verification. Comparison is constant-time (`hmac`'s
//! `verify_truncated_left`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length in bytes of the truncated tag appended to every event frame.
pub const TAG_LEN: usize = 8;

/// A truncated authentication tag.
pub type Tag = [u8; TAG_LEN];

/// The 16-byte secret shared by a button and its phone, set at bonding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BondKey(pub [u8; 16]);

impl std::fmt::Debug for BondKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("BondKey(..)")
    }
}

impl BondKey {
    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// The truncated tag of `msg`.
    pub fn tag(&self, msg: &[u8]) -> Tag {
        let mut mac = self.mac();
        mac.update(msg);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&full[..TAG_LEN]);
        out
    }

    /// Whether `tag` authenticates `msg` under this key (constant-time).
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> bool {
        if tag.len() != TAG_LEN {
            return false;
        }
        let mut mac = self.mac();
        mac.update(msg);
        mac.verify_truncated_left(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_verifies_and_detects_changes() {
        let k = BondKey([7; 16]);
        let t = k.tag(b"hello");
        assert!(k.verify(b"hello", &t));
        assert!(!k.verify(b"hellp", &t));
        assert!(!BondKey([8; 16]).verify(b"hello", &t));
        assert!(!k.verify(b"hello", &t[..4]));
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", BondKey([1; 16])), "BondKey(..)");
    }
}
