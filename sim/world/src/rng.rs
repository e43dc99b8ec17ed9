//! Seeded randomness: one scenario seed split into independent, named streams (ChaCha8
//! with a stream id per component), so that adding a draw in one component never shifts
//! the draws of another. Also the stable seed derivation of SPEC §4.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// A component's random stream.
#[derive(Debug, Clone)]
pub struct Stream(ChaCha8Rng);

/// The components that draw random numbers.
#[derive(Debug, Clone, Copy)]
pub enum Component {
    /// The wearer's hand (press timings, bounce).
    Hand = 1,
    /// The radio (packet loss, advertising jitter).
    Radio = 2,
    /// The phone platform (network latencies, audio content, keys).
    Platform = 3,
    /// Fleet mode: wearer behaviour.
    Wearer = 4,
    /// The button's hardware RNG (entropy at each boot).
    ButtonEntropy = 5,
    /// The phone's RNG (entropy at each app start and pairing).
    PhoneEntropy = 6,
    /// The attacker (its own key pairs and nonces).
    Attacker = 7,
}

impl Stream {
    /// The stream of `component` under `seed`.
    pub fn new(seed: u64, component: Component) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(component as u64);
        Stream(r)
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.0.gen_range(lo..=hi)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0.gen::<f64>()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Successes before the first failure of independent trials that each succeed with
    /// probability `q` (geometric: `P(k or more) = q^k`), from one uniform draw `u` as
    /// the largest `k` with `q^k ≥ u`. `q^k` is built from `q^(2^i)` by multiplication
    /// only (correctly rounded everywhere), never `ln`/`powf`, so that no libm enters
    /// the timeline. `q ≥ 1` never fails (`u64::MAX`); `q ≤ 0` fails at once.
    pub fn geometric(&mut self, q: f64) -> u64 {
        let u = 1.0 - self.unit();
        if q.is_nan() || q <= 0.0 {
            return 0;
        }
        if q >= 1.0 {
            return u64::MAX;
        }
        let mut pows = [0.0f64; 64];
        let mut x = q;
        for p in pows.iter_mut() {
            *p = x;
            x *= x;
        }
        let (mut acc, mut k) = (1.0f64, 0u64);
        for (i, p) in pows.iter().enumerate().rev() {
            let t = acc * p;
            if t >= u {
                acc = t;
                k |= 1 << i;
            }
        }
        k
    }

    /// Random bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.0.fill(&mut b[..]);
        b
    }

    /// Fill a buffer.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill(buf);
    }
}

/// The scenario seed: from the run's seed, the feature's name, the scenario's name and
/// the example row (never a file path). SHA-256 of the parts, first 8 bytes.
pub fn derive_seed(run_seed: u64, feature: &str, scenario: &str, example_row: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    for part in [feature, scenario, example_row] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_gaps_have_the_geometric_law() {
        for q in [0.5, 0.7, 0.97, 0.999] {
            let mut r = Stream::new(3, Component::Radio);
            let n = 200_000u64;
            let (mut sum, mut at_least_2) = (0u64, 0u64);
            for _ in 0..n {
                let g = r.geometric(q);
                sum += g;
                at_least_2 += u64::from(g >= 2);
            }
            let mean = sum as f64 / n as f64;
            let want = q / (1.0 - q);
            assert!(
                (mean - want).abs() < 0.03 * want + 0.01,
                "q {q}: mean {mean}, want {want}"
            );
            let tail = at_least_2 as f64 / n as f64;
            assert!((tail - q * q).abs() < 0.01, "q {q}: P(>=2) {tail}");
        }
        let mut r = Stream::new(3, Component::Radio);
        assert_eq!(r.geometric(1.0), u64::MAX);
        assert_eq!(r.geometric(0.0), 0);
        assert_eq!(r.geometric(f64::NAN), 0);
    }

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = Stream::new(7, Component::Hand);
        let mut b = Stream::new(7, Component::Hand);
        let mut c = Stream::new(7, Component::Radio);
        let va: Vec<u64> = (0..5).map(|_| a.range(0, 1000)).collect();
        let vb: Vec<u64> = (0..5).map(|_| b.range(0, 1000)).collect();
        let vc: Vec<u64> = (0..5).map(|_| c.range(0, 1000)).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn seed_derivation_is_stable_and_sensitive() {
        let s = derive_seed(0, "F", "S", "");
        assert_eq!(s, derive_seed(0, "F", "S", ""));
        assert_ne!(s, derive_seed(1, "F", "S", ""));
        assert_ne!(s, derive_seed(0, "F", "S", "row"));
        assert_ne!(derive_seed(0, "FS", "", ""), derive_seed(0, "F", "S", ""));
    }
}
