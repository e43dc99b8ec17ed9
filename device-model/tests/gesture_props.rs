//! Property tests of the gesture classifier. The oracle is the gesture the generator
//! *intended* (not what the classifier accepted): presses and gaps drawn inside the
//! default profile's envelope, every edge bouncing for up to 5 ms (inside the 10 ms
//! debounce).

use device_model::gesture::{Gesture, GestureConfig, GestureRecognizer};
use proptest::prelude::*;

const MS: u64 = 1_000;

#[derive(Clone, Debug)]
enum Intended {
    /// Clicks: (press ms, gap before next ms).
    Clicks(Vec<(u64, u64)>),
    /// A hold of this many ms.
    Hold(u64),
    /// A press under the noise limit.
    Noise(u64),
}

impl Intended {
    fn expected(&self) -> Option<Gesture> {
        match self {
            Intended::Clicks(c) => Some(match c.len() {
                2 => Gesture::Double,
                3 => Gesture::Triple,
                _ => Gesture::Single,
            }),
            Intended::Hold(_) => Some(Gesture::Long),
            Intended::Noise(_) => None,
        }
    }
}

fn click() -> impl Strategy<Value = (u64, u64)> {
    (40u64..=1999, 20u64..=399)
}

fn intended() -> impl Strategy<Value = Intended> {
    prop_oneof![
        4 => proptest::collection::vec(click(), 1..=7).prop_map(Intended::Clicks),
        1 => (2000u64..=6000).prop_map(Intended::Hold),
        1 => (0u64..=39).prop_map(Intended::Noise),
    ]
}

/// Raw edges with bounces; `bounce` holds per-edge bounce offsets (µs, < 5 ms).
fn press(
    edges: &mut Vec<(u64, bool)>,
    start: u64,
    dur: u64,
    bounce: &mut impl Iterator<Item = u64>,
) {
    for (t, down) in [(start, true), (start + dur, false)] {
        edges.push((t, down));
        let b = bounce.next().unwrap_or(0);
        if b > 0 && dur >= 10 * MS {
            edges.push((t + b, !down));
            edges.push((t + b + 300, down));
        }
    }
}

fn run(edges: &[(u64, bool)]) -> Vec<Gesture> {
    let mut r = GestureRecognizer::new(&GestureConfig::default());
    let mut out = Vec::new();
    let drive = |r: &mut GestureRecognizer, until: u64, out: &mut Vec<Gesture>| {
        while let Some(t) = r.poll_timeout().filter(|&t| t <= until) {
            r.handle_timeout(t);
            while let Some((_, g)) = r.poll_gesture() {
                out.push(g);
            }
        }
    };
    for &(t, down) in edges {
        drive(&mut r, t, &mut out);
        r.edge(t, down);
    }
    drive(&mut r, u64::MAX / 4, &mut out);
    out
}

fn build(seq: &[Intended], bounces: &[u64]) -> Vec<(u64, bool)> {
    let mut bounce = bounces.iter().copied().cycle();
    let mut edges = Vec::new();
    let mut t = 1_000 * MS;
    for g in seq {
        match g {
            Intended::Clicks(c) => {
                for (i, &(p, gap)) in c.iter().enumerate() {
                    press(&mut edges, t, p * MS, &mut bounce);
                    t += p * MS;
                    t += if i + 1 < c.len() { gap * MS } else { 400 * MS };
                }
            }
            Intended::Hold(h) => {
                press(&mut edges, t, h * MS, &mut bounce);
                t += h * MS + 50 * MS;
            }
            Intended::Noise(n) => {
                press(&mut edges, t, n * MS, &mut bounce);
                t += n * MS + 400 * MS;
            }
        }
    }
    edges
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Every gesture inside the envelope is classified as intended, exactly once each;
    /// noise never produces an event; four or more clicks give `single`.
    #[test]
    fn intended_gestures_are_recognised(
        seq in proptest::collection::vec(intended(), 1..6),
        bounces in proptest::collection::vec(0u64..5_000, 1..16),
    ) {
        let edges = build(&seq, &bounces);
        let expected: Vec<Gesture> = seq.iter().filter_map(Intended::expected).collect();
        prop_assert_eq!(run(&edges), expected);
    }

    /// A lone press under the noise limit never produces an event.
    #[test]
    fn noise_never_produces_an_event(ms in 0u64..40, bounce in 0u64..5_000) {
        let edges = build(&[Intended::Noise(ms)], &[bounce]);
        prop_assert!(run(&edges).is_empty());
    }
}

#[test]
fn exact_boundaries() {
    let one = |p: u64| build(&[Intended::Clicks(vec![(p, 0)])], &[0]);
    assert_eq!(run(&one(39)), vec![]);
    assert_eq!(run(&one(40)), vec![Gesture::Single]);
    assert_eq!(run(&one(1999)), vec![Gesture::Single]);
    assert_eq!(
        run(&build(&[Intended::Hold(2000)], &[0])),
        vec![Gesture::Long]
    );
    for (gap, expect) in [
        (399, vec![Gesture::Double]),
        (400, vec![Gesture::Single, Gesture::Single]),
        (401, vec![Gesture::Single, Gesture::Single]),
    ] {
        let edges = vec![
            (0, true),
            (100 * MS, false),
            ((100 + gap) * MS, true),
            ((200 + gap) * MS, false),
        ];
        assert_eq!(run(&edges), expect, "gap {gap}");
    }
}
