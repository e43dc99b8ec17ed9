//! Accelerometer model: the sensor's analog front end and output data rate.
//!
//! A [`Resampler`] takes samples at any rate (a trace's own timestamps, in g as
//! `f64`) and produces what the button's accelerometer would output at its
//! output data rate (ODR): `[i16; 3]` in milli-g, saturated at ±`range_g`.
//!
//! Model (documented choice):
//! - every input sample is first clipped at ±`range_g` (the ADC saturates before
//!   the sensor's digital filter);
//! - output sample `k` is timed at `k × 1e6 / odr_hz` µs (a fixed grid from t = 0);
//! - when one or more input samples fall in the output period `(t_{k-1}, t_k]`,
//!   the output is their mean (the box anti-aliasing filter of the sensor's
//!   decimator: a 200 Hz SisFall trace becomes a 4-sample average at 50 Hz);
//! - otherwise (input slower than the ODR) the output is the linear interpolation
//!   between the input samples on either side of `t_k`;
//! - no output is produced before the first input sample's time.
//!
//! Floating point is used here only: this is the analog world. Everything
//! downstream (the fall detector) is integer arithmetic.

use serde::{Deserialize, Serialize};

/// Accelerometer settings of the button.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccelConfig {
    /// Output data rate in Hz (default 50).
    pub odr_hz: u32,
    /// Full-scale range in g (default 8): outputs saturate at ±range.
    pub range_g: u8,
}

impl Default for AccelConfig {
    fn default() -> Self {
        Self {
            odr_hz: 50,
            range_g: 8,
        }
    }
}

impl AccelConfig {
    /// Checks the settings: ODR 1..=3200 Hz, range one of 2, 4, 8, 16 g.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3200).contains(&self.odr_hz) {
            return Err(format!(
                "accelerometer odr_hz must be within 1..=3200, found {}",
                self.odr_hz
            ));
        }
        if ![2, 4, 8, 16].contains(&self.range_g) {
            return Err(format!(
                "accelerometer range_g must be 2, 4, 8 or 16, found {}",
                self.range_g
            ));
        }
        Ok(())
    }

    /// Output period in microseconds (rounded down).
    pub fn period_us(&self) -> u64 {
        1_000_000 / u64::from(self.odr_hz.max(1))
    }
}

/// Turns input samples at any rate into ODR samples in milli-g.
#[derive(Clone, Debug)]
pub struct Resampler {
    odr_hz: u64,
    range_mg: f64,
    /// Index of the next output sample to produce.
    next_k: u64,
    /// Previous input sample (time, clipped value in mg).
    prev: Option<(u64, [f64; 3])>,
    /// Sum and count of the inputs inside the current output period.
    acc: [f64; 3],
    acc_n: u32,
}

impl Resampler {
    /// A resampler for the given accelerometer settings.
    pub fn new(cfg: &AccelConfig) -> Self {
        Self {
            odr_hz: u64::from(cfg.odr_hz.max(1)),
            range_mg: f64::from(cfg.range_g) * 1000.0,
            next_k: 0,
            prev: None,
            acc: [0.0; 3],
            acc_n: 0,
        }
    }

    /// Time in µs of output sample `k`.
    pub fn output_time_us(&self, k: u64) -> u64 {
        // k * 1e6 / odr without overflow for any realistic k.
        (u128::from(k) * 1_000_000 / u128::from(self.odr_hz)) as u64
    }

    fn clip(&self, g: [f64; 3]) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (o, v) in out.iter_mut().zip(g) {
            let mg = if v.is_finite() { v * 1000.0 } else { 0.0 };
            *o = mg.clamp(-self.range_mg, self.range_mg);
        }
        out
    }

    fn quantise(&self, mg: [f64; 3]) -> [i16; 3] {
        let mut out = [0i16; 3];
        for (o, v) in out.iter_mut().zip(mg) {
            *o = v.round().clamp(-self.range_mg, self.range_mg) as i16;
        }
        out
    }

    /// Feeds one input sample (`t_us` non-decreasing, acceleration in g) and
    /// calls `out(t_us, mg)` for every ODR sample that is now complete.
    /// A sample older than the previous one is ignored.
    pub fn push_with(&mut self, t_us: u64, g: [f64; 3], mut out: impl FnMut(u64, [i16; 3])) {
        let v = self.clip(g);
        match self.prev {
            None => {
                // First sample: align the grid to the first output time >= t.
                let mut k = (u128::from(t_us) * u128::from(self.odr_hz) / 1_000_000) as u64;
                while self.output_time_us(k) < t_us {
                    k += 1;
                }
                self.next_k = k;
                if self.output_time_us(k) == t_us {
                    out(t_us, self.quantise(v));
                    self.next_k = k + 1;
                }
                self.prev = Some((t_us, v));
                return;
            }
            Some((pt, _)) if t_us < pt => return,
            Some(_) => {}
        }
        let (pt, pv) = self.prev.unwrap_or((t_us, v));
        // Emit every output time strictly before t_us.
        loop {
            let tk = self.output_time_us(self.next_k);
            if tk >= t_us {
                break;
            }
            let value = if self.acc_n > 0 {
                let n = f64::from(self.acc_n);
                [self.acc[0] / n, self.acc[1] / n, self.acc[2] / n]
            } else {
                // Interpolate between prev and this sample.
                let span = (t_us - pt) as f64;
                let w = if span > 0.0 {
                    (tk.saturating_sub(pt)) as f64 / span
                } else {
                    1.0
                };
                [
                    pv[0] + (v[0] - pv[0]) * w,
                    pv[1] + (v[1] - pv[1]) * w,
                    pv[2] + (v[2] - pv[2]) * w,
                ]
            };
            out(tk, self.quantise(value));
            self.acc = [0.0; 3];
            self.acc_n = 0;
            self.next_k += 1;
        }
        // This sample belongs to the period ending at the next output time.
        for (a, x) in self.acc.iter_mut().zip(v) {
            *a += x;
        }
        self.acc_n += 1;
        if self.output_time_us(self.next_k) == t_us {
            let n = f64::from(self.acc_n);
            let value = [self.acc[0] / n, self.acc[1] / n, self.acc[2] / n];
            out(t_us, self.quantise(value));
            self.acc = [0.0; 3];
            self.acc_n = 0;
            self.next_k += 1;
        }
        self.prev = Some((t_us, v));
    }

    /// Like [`Resampler::push_with`], collecting the outputs.
    pub fn push(&mut self, t_us: u64, g: [f64; 3]) -> Vec<(u64, [i16; 3])> {
        let mut v = Vec::new();
        self.push_with(t_us, g, |t, s| v.push((t, s)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_validates() {
        assert_eq!(AccelConfig::default().validate(), Ok(()));
        let bad = AccelConfig {
            odr_hz: 0,
            range_g: 8,
        };
        assert!(bad.validate().is_err());
        let bad = AccelConfig {
            odr_hz: 50,
            range_g: 3,
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn downsampling_200_to_50_averages_four() {
        let mut r = Resampler::new(&AccelConfig::default());
        let mut out = Vec::new();
        for i in 0..20u64 {
            let x = if i % 4 == 1 { 4.0 } else { 0.0 };
            out.extend(r.push(i * 5_000, [x, 1.0, -1.0]));
        }
        // t = 0 is emitted directly, then one sample every 20 ms.
        assert_eq!(out[0], (0, [0, 1000, -1000]));
        assert_eq!(out[1], (20_000, [1000, 1000, -1000]));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn saturates_at_range() {
        let mut r = Resampler::new(&AccelConfig::default());
        let out = r.push(0, [12.0, -20.0, f64::NAN]);
        assert_eq!(out, vec![(0, [8000, -8000, 0])]);
    }

    #[test]
    fn upsampling_interpolates() {
        let mut r = Resampler::new(&AccelConfig {
            odr_hz: 100,
            range_g: 8,
        });
        let mut out = r.push(0, [0.0, 0.0, 0.0]);
        out.extend(r.push(40_000, [4.0, 0.0, 0.0]));
        let xs: Vec<i16> = out.iter().map(|(_, s)| s[0]).collect();
        assert_eq!(xs, vec![0, 1000, 2000, 3000, 4000]);
        let out = r.push(50_000, [4.0, 0.0, 0.0]);
        assert_eq!(out, vec![(50_000, [4000, 0, 0])]);
    }

    #[test]
    fn late_samples_are_ignored() {
        let mut r = Resampler::new(&AccelConfig::default());
        r.push(100_000, [0.0; 3]);
        assert!(r.push(50_000, [1.0; 3]).is_empty());
    }
}
