//! A deterministic random bit generator in the style of HMAC-DRBG (NIST SP 800-90A,
//! simplified): the host gives 32 bytes of entropy (a hardware RNG on the button, the
//! OS on the phone, a seeded stream in the simulator) and the state machines expand
//! them into as many unpredictable values as they need — nonces, ephemeral pairing keys,
//! private-address randomness — without drawing random numbers themselves.
//!
//! State: a 32-byte key `K` and a counter. Output `i` is `HMAC(K, "out" ‖ i)`; after each
//! output `K ← HMAC(K, "next")` (backtracking resistance: the state after a draw does not
//! reveal earlier outputs). [`Drbg::reseed`] mixes more entropy in.

use crate::keys::{hmac, hmac_from, keyed};

/// The generator.
#[derive(Clone)]
pub struct Drbg {
    k: [u8; 32],
    n: u64,
}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Drbg(..)")
    }
}

impl Drbg {
    /// A generator seeded with the host's entropy.
    pub fn new(entropy: &[u8; 32]) -> Self {
        Drbg {
            k: hmac(b"alarm-button drbg v2", &[entropy]),
            n: 0,
        }
    }

    /// Mix more entropy in.
    pub fn reseed(&mut self, entropy: &[u8]) {
        self.k = hmac(&self.k, &[b"reseed", entropy]);
    }

    /// The next `N` bytes (`N` ≤ 32; a longer request is filled by several draws).
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(32) {
            // One key schedule for the output and the next key (same values as two
            // `hmac` calls under `K`).
            let under_k = keyed(&self.k);
            let block = hmac_from(&under_k, &[b"out", &self.n.to_le_bytes()]);
            // Chunks are at most 32 bytes, a block's length.
            for (o, b) in chunk.iter_mut().zip(block) {
                *o = b;
            }
            self.n = self.n.wrapping_add(1);
            self.k = hmac_from(&under_k, &[b"next"]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_distinct_and_seed_sensitive() {
        let mut a = Drbg::new(&[1; 32]);
        let mut b = Drbg::new(&[1; 32]);
        let (x, y): ([u8; 32], [u8; 32]) = (a.bytes(), a.bytes());
        assert_ne!(x, y);
        assert_eq!(b.bytes::<32>(), x);
        assert_ne!(Drbg::new(&[2; 32]).bytes::<32>(), x);
        let mut c = Drbg::new(&[1; 32]);
        c.reseed(b"more");
        assert_ne!(c.bytes::<32>(), x);
        assert_eq!(Drbg::new(&[1; 32]).bytes::<40>()[..32], x);
        assert_eq!(format!("{a:?}"), "Drbg(..)");
    }
}
