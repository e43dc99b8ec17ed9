//! Resolvable private addresses: the button never advertises a fixed identity.
//!
//! Modelled on Bluetooth LE's resolvable private addresses (Core spec Vol 6 Part B
//! §1.3.2.2): a 48-bit address made of a 24-bit random part `prand` (top two bits `01`)
//! and a 24-bit hash of it under the bond's identity resolving key ([`Irk`]). The button
//! draws a new `prand` on a schedule; the bonded phone recognises its button by
//! recomputing the hash, anyone else sees unrelated random addresses. The hash here is
//! HMAC-SHA256 truncated to 3 bytes (the standard uses AES-128 `ah()`), so this crate
//! needs no block cipher; the security argument is the same.

use crate::keys::{ct_eq, hmac_trunc, Irk};
#[cfg(feature = "std")]
use crate::ProtocolError;

/// A 48-bit device address, most significant byte first (as printed).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 6]);

impl core::fmt::Display for Address {
    /// `AA:BB:CC:DD:EE:FF`, most significant byte first as stored (rendered into a
    /// stack buffer and written once: the world formats every new address).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [b':'; 17];
        for (chunk, byte) in out.chunks_mut(3).zip(self.0) {
            for (o, nibble) in chunk.iter_mut().zip([byte >> 4, byte & 0x0f]) {
                *o = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            }
        }
        f.pad(core::str::from_utf8(&out).map_err(|_| core::fmt::Error)?)
    }
}

impl core::fmt::Debug for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Address({self})")
    }
}

impl Address {
    /// Parse `XX:XX:XX:XX:XX:XX` (hex, either case).
    #[cfg(feature = "std")]
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let bad = || ProtocolError::BadAddress(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in &mut out {
            let p = parts.next().filter(|p| p.len() == 2).ok_or_else(bad)?;
            *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Address(out))
    }

    /// A resolvable private address for `irk` from 3 random bytes.
    pub fn resolvable(irk: &Irk, random: [u8; 3]) -> Self {
        let mut prand = random;
        prand[0] = (prand[0] & 0x3F) | 0x40;
        let hash = hash(irk, prand);
        Address([prand[0], prand[1], prand[2], hash[0], hash[1], hash[2]])
    }

    /// Whether this is a resolvable private address of `irk`.
    pub fn resolves_with(&self, irk: &Irk) -> bool {
        let prand = [self.0[0], self.0[1], self.0[2]];
        prand[0] & 0xC0 == 0x40 && ct_eq(&hash(irk, prand), &self.0[3..])
    }
}

fn hash(irk: &Irk, prand: [u8; 3]) -> [u8; 3] {
    hmac_trunc(&irk.0, &[b"rpa", &prand])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BondKey;
    use proptest::prelude::*;

    #[test]
    fn the_bonded_phone_resolves_others_do_not() {
        let irk = BondKey([1; 16]).keys().irk;
        let other = BondKey([2; 16]).keys().irk;
        let a = Address::resolvable(&irk, [0xFF, 2, 3]);
        let b = Address::resolvable(&irk, [7, 8, 9]);
        assert_ne!(a, b);
        assert!(a.resolves_with(&irk) && b.resolves_with(&irk));
        assert!(!a.resolves_with(&other));
        assert_eq!(a.0[0] & 0xC0, 0x40);
        assert_eq!(Address::parse(&a.to_string()), Ok(a));
        assert_eq!(
            Address([0xC0, 0xFF, 0x0E, 0x00, 0x9A, 0x01]).to_string(),
            "C0:FF:0E:00:9A:01"
        );
        assert_eq!(format!("{:>18}", Address([0; 6])), " 00:00:00:00:00:00");
        assert!(Address::parse("C0:FF:EE:00:00").is_err());
        assert!(Address::parse("C0:FF:EE:00:00:01:02").is_err());
        assert!(Address::parse("C0:FF:EE:00:00:0G").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,24}") {
            let _ = Address::parse(&s);
        }
    }
}
