//! Synthetic accelerometer traces from a simple physical model of a
//! waist-worn button (regenerate with `cargo xtask gen-traces`).
//!
//! # Model
//!
//! The body is a rigid trunk in the sagittal plane, pitched forward by an angle
//! `θ(t)` (0 = upright, +90° = lying face down, −90° = lying on the back). The
//! waist's specific force in the world, `s = a + 1 g·up` (`a` its linear
//! acceleration), is what an accelerometer reads. The button's axes follow the
//! SisFall convention (the detector's default `upright_axis`): `y` points down
//! along the trunk, `z` forward out of the belly, `x` to the side. So
//! `r_y = −s_up·cosθ − s_fwd·sinθ`, `r_z = −s_up·sinθ + s_fwd·cosθ`,
//! `r_x = s_side`; standing still reads `(0, −1, 0)` g.
//!
//! On top: body sway and sensor noise (Gaussian-like, from a ChaCha8 generator
//! seeded per trace), so traces are deterministic from the seed.
//!
//! Activities (100 Hz):
//! - `fall_forward`: stand 3 s; lose balance: 0.4 s of near free fall
//!   (`s_up` ≈ 0.25 g) while pitching to ~70°; impact (half-sine, 3-6 g peak,
//!   70 ms) reaching 90°; damped rebound 0.3 s; lie still 8 s.
//! - `walking`: 30 s at ~1.9 steps/s: vertical ±0.35 g, forward ±0.2 g,
//!   side ±0.12 g at half the step rate, trunk pitch ±3°.
//! - `jogging`: 30 s at ~2.7 steps/s: stance half-sine peaks ≈ 3 g, flight
//!   phases ≈ 0.2 g, trunk leaning 8°.
//! - `sit_down_hard`: stand 3 s, lean 25° and drop 0.5 s (`s_up` 0.5 g) onto a
//!   chair (impact 2.5 g, 100 ms), sit leaning back 10°, still, for 6 s.
//! - `lie_down`: stand 2 s, sit down gently in 2 s, sit 3 s, lie back on a bed
//!   over 3 s (θ to −90°, accelerations below 0.15 g), lie still 8 s.
//!
//! A [`Mount`] turns the button on the belt ([`MOUNTED`]: `fall_forward_upside_down`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Output rate of the generated traces.
pub const RATE_HZ: u32 = 100;

/// The generated activities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// A forward fall from standing.
    FallForward,
    /// 30 s of walking.
    Walking,
    /// 30 s of jogging.
    Jogging,
    /// Sitting down hard on a chair.
    SitDownHard,
    /// Lying down slowly on a bed.
    LieDown,
}

impl Activity {
    /// Every activity.
    pub const ALL: [Activity; 5] = [
        Activity::FallForward,
        Activity::Walking,
        Activity::Jogging,
        Activity::SitDownHard,
        Activity::LieDown,
    ];

    /// File stem in `scenarios/traces/`.
    pub fn name(self) -> &'static str {
        match self {
            Activity::FallForward => "fall_forward",
            Activity::Walking => "walking",
            Activity::Jogging => "jogging",
            Activity::SitDownHard => "sit_down_hard",
            Activity::LieDown => "lie_down",
        }
    }

    /// Whether the activity is a fall.
    pub fn is_fall(self) -> bool {
        self == Activity::FallForward
    }

    /// The seed used for the committed trace.
    pub fn default_seed(self) -> u64 {
        match self {
            Activity::FallForward => 1,
            Activity::Walking => 2,
            Activity::Jogging => 3,
            Activity::SitDownHard => 4,
            Activity::LieDown => 5,
        }
    }
}

/// Approximately standard normal noise (Irwin–Hall sum of 4 uniforms).
fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum();
    s * (3.0f64 / 4.0).sqrt()
}

/// Body state at one instant: pitch (rad), specific force up/forward/side (g).
#[derive(Clone, Copy, Debug)]
struct Body {
    pitch: f64,
    up: f64,
    fwd: f64,
    side: f64,
}

impl Body {
    fn still(pitch_deg: f64) -> Self {
        Body {
            pitch: pitch_deg.to_radians(),
            up: 1.0,
            fwd: 0.0,
            side: 0.0,
        }
    }

    fn reading(self) -> [f64; 3] {
        let (s, c) = self.pitch.sin_cos();
        [
            self.side,
            -self.up * c - self.fwd * s,
            -self.up * s + self.fwd * c,
        ]
    }
}

/// Smooth step 0→1 over `x` in 0..1.
fn smooth(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Half-sine pulse of `len` seconds at `t` (0 outside).
fn pulse(t: f64, len: f64) -> f64 {
    if (0.0..=len).contains(&t) {
        (std::f64::consts::PI * t / len).sin()
    } else {
        0.0
    }
}

/// Forward fall: stand, lose balance (near free fall while pitching), impact, rebound, lie still.
fn fall_forward(t: f64, sway: f64, impact_g: f64) -> Body {
    let tau = std::f64::consts::TAU;
    let t0 = 3.0; // balance lost
    let t1 = t0 + 0.4; // impact
    if t < t0 {
        Body::still(sway)
    } else if t < t1 {
        let x = (t - t0) / 0.4;
        Body {
            pitch: (70.0 * smooth(x)).to_radians(),
            up: 1.0 - 0.75 * smooth(x * 3.0),
            fwd: 0.2 * x,
            side: 0.0,
        }
    } else if t < t1 + 0.07 {
        let p = pulse(t - t1, 0.07);
        Body {
            pitch: (70.0 + 20.0 * (t - t1) / 0.07).to_radians(),
            up: 0.25 + (impact_g - 0.25) * p,
            fwd: -0.8 * impact_g * 0.4 * p,
            side: 0.3 * p,
        }
    } else if t < t1 + 0.4 {
        let u = t - t1 - 0.07;
        let ring = (-u / 0.08).exp() * (tau * 8.0 * u).cos();
        Body {
            pitch: 90f64.to_radians(),
            up: 1.0 + 0.6 * ring,
            fwd: 0.2 * ring,
            side: 0.1 * ring,
        }
    } else {
        Body::still(90.0)
    }
}

/// Walking: vertical, forward and side oscillation at the step rate.
fn walking(t: f64, sway: f64, step_hz: f64) -> Body {
    let tau = std::f64::consts::TAU;
    let ph = tau * step_hz * t;
    Body {
        pitch: (3.0 * ph.sin() + 0.3 * sway).to_radians(),
        up: 1.0 + 0.35 * ph.sin() + 0.08 * (2.0 * ph).sin(),
        fwd: 0.2 * (ph + 1.0).sin(),
        side: 0.12 * (ph / 2.0).sin(),
    }
}

/// Jogging: stance half-sine peaks, flight phases, trunk leaning.
fn jogging(t: f64, step_hz: f64) -> Body {
    let tau = std::f64::consts::TAU;
    let cycle = (t * step_hz).fract();
    let stance = 0.4;
    let up = if cycle < stance {
        0.2 + 3.0 * (std::f64::consts::PI * cycle / stance).sin()
    } else {
        0.2
    };
    let ph = tau * step_hz * t;
    Body {
        pitch: (8.0 + 4.0 * ph.sin()).to_radians(),
        up,
        fwd: 0.4 * (ph + 0.5).sin(),
        side: 0.25 * (ph / 2.0).sin(),
    }
}

/// Sitting down hard on a chair.
fn sit_down_hard(t: f64, sway: f64) -> Body {
    let t0 = 3.0;
    if t < t0 {
        Body::still(sway)
    } else if t < t0 + 0.5 {
        let x = (t - t0) / 0.5;
        Body {
            pitch: (25.0 * smooth(x * 2.0)).to_radians(),
            up: 1.0 - 0.5 * pulse(x, 1.0),
            fwd: 0.1 * pulse(x, 1.0),
            side: 0.0,
        }
    } else if t < t0 + 0.6 {
        let p = pulse(t - t0 - 0.5, 0.1);
        Body {
            pitch: 25f64.to_radians(),
            up: 0.8 + 1.7 * p,
            fwd: -0.3 * p,
            side: 0.1 * p,
        }
    } else if t < t0 + 1.6 {
        let x = t - t0 - 0.6;
        Body::still(25.0 - 35.0 * smooth(x))
    } else {
        Body::still(-10.0)
    }
}

/// Sitting down gently, then lying back on a bed.
fn lie_down(t: f64, sway: f64) -> Body {
    if t < 2.0 {
        Body::still(sway)
    } else if t < 4.0 {
        let x = (t - 2.0) / 2.0;
        let mut b = Body::still(20.0 * pulse(x, 1.0) - 10.0 * smooth(x));
        b.up = 1.0 - 0.12 * pulse(x, 0.5) + 0.12 * pulse(x - 0.5, 0.5);
        b
    } else if t < 7.0 {
        Body::still(-10.0)
    } else if t < 10.0 {
        let x = (t - 7.0) / 3.0;
        let mut b = Body::still(-10.0 - 80.0 * smooth(x));
        b.up = 1.0 - 0.08 * pulse(x, 1.0);
        b
    } else {
        Body::still(-90.0)
    }
}

/// Samples `(t_ms, [x, y, z] g)` of an activity, at [`RATE_HZ`].
pub fn generate(activity: Activity, seed: u64) -> Vec<(f64, [f64; 3])> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dt = 1.0 / f64::from(RATE_HZ);
    let tau = std::f64::consts::TAU;
    // Per-trace random parameters.
    let impact_g = rng.gen_range(3.5..5.5);
    let step_hz = match activity {
        Activity::Jogging => rng.gen_range(2.5..2.9),
        _ => rng.gen_range(1.7..2.0),
    };
    let sway_phase = rng.gen_range(0.0..tau);
    let duration = match activity {
        Activity::FallForward => 12.0,
        Activity::Walking | Activity::Jogging => 30.0,
        Activity::SitDownHard => 10.0,
        Activity::LieDown => 18.0,
    };
    let n = (duration * f64::from(RATE_HZ)) as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 * dt;
        let sway = 1.5 * (tau * 0.3 * t + sway_phase).sin();
        let mut b = match activity {
            Activity::FallForward => fall_forward(t, sway, impact_g),
            Activity::Walking => walking(t, sway, step_hz),
            Activity::Jogging => jogging(t, step_hz),
            Activity::SitDownHard => sit_down_hard(t, sway),
            Activity::LieDown => lie_down(t, sway),
        };
        // Sensor noise and muscle tremor.
        b.up += 0.01 * gauss(&mut rng);
        b.fwd += 0.01 * gauss(&mut rng);
        b.side += 0.01 * gauss(&mut rng);
        let mut r = b.reading();
        for v in &mut r {
            *v += 0.005 * gauss(&mut rng);
            *v = (*v * 10_000.0).round() / 10_000.0;
        }
        out.push(((t * 1000.0 * 100.0).round() / 100.0, r));
    }
    out
}

/// How the button is clipped on, relative to the model's axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mount {
    /// As modelled: `y` down along the trunk (reads −1 g standing).
    AsModelled,
    /// Upside down on the belt (turned 180° about the forward axis `z`): `x` and `y`
    /// change sign, so standing reads `y = +1 g`.
    UpsideDown,
}

impl Mount {
    /// The name in file names and headers (`upside_down`).
    pub fn name(self) -> &'static str {
        match self {
            Mount::AsModelled => "as_modelled",
            Mount::UpsideDown => "upside_down",
        }
    }

    /// A reading of the model's axes as this mount's sensor reads it.
    pub fn apply(self, r: [f64; 3]) -> [f64; 3] {
        match self {
            Mount::AsModelled => r,
            // -0.0 prints as "-0"; keep zeros positive.
            Mount::UpsideDown => [0.0 - r[0], 0.0 - r[1], r[2]],
        }
    }
}

/// The traces written with another mount besides the activities: (activity, mount),
/// each with the activity's default seed, as `<activity>_<mount>.jsonl`.
pub const MOUNTED: [(Activity, Mount); 1] = [(Activity::FallForward, Mount::UpsideDown)];

/// The native JSON Lines text of an activity.
pub fn to_jsonl(activity: Activity, seed: u64) -> String {
    to_jsonl_mounted(activity, seed, Mount::AsModelled)
}

/// The native JSON Lines text of an activity with the button clipped on as `mount`
/// (the header says how: `mount`, and the `source` text).
pub fn to_jsonl_mounted(activity: Activity, seed: u64, mount: Mount) -> String {
    // `trace` and `version` first, as in SPEC §5; then the free fields.
    let (worn, field) = match mount {
        Mount::AsModelled => (String::new(), String::new()),
        m => (
            format!(", worn {}", m.name().replace('_', " ")),
            format!(",\"mount\":\"{}\"", m.name()),
        ),
    };
    let source = serde_json::Value::from(format!(
        "synthetic: sim::tracegen waist-worn physical model, activity {}, seed {seed}{worn}",
        activity.name()
    ));
    let mut s = format!(
        "{{\"trace\":\"alarm-button\",\"version\":1,\"source\":{source},\"generator\":\"sim::tracegen\",\"activity\":\"{}\",\"seed\":{seed}{field},\"device\":\"waist\",\"rate\":{RATE_HZ}}}",
        activity.name()
    );
    s.push('\n');
    for (t, g) in generate(activity, seed) {
        let g = mount.apply(g);
        let _ = writeln!(s, "{{\"t_ms\":{t},\"acc_g\":[{},{},{}]}}", g[0], g[1], g[2]);
    }
    s
}

/// Writes every activity's trace (default seeds) into `dir` as `<name>.jsonl`;
/// returns the paths written.
pub fn write_activities(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for a in Activity::ALL {
        let path = dir.join(format!("{}.jsonl", a.name()));
        std::fs::write(&path, to_jsonl(a, a.default_seed()))?;
        out.push(path);
    }
    for (a, m) in MOUNTED {
        let path = dir.join(format!("{}_{}.jsonl", a.name(), m.name()));
        std::fs::write(&path, to_jsonl_mounted(a, a.default_seed(), m))?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_from_seed() {
        assert_eq!(
            to_jsonl(Activity::Walking, 7),
            to_jsonl(Activity::Walking, 7)
        );
        assert_ne!(
            to_jsonl(Activity::Walking, 7),
            to_jsonl(Activity::Walking, 8)
        );
    }
}
