//! Deterministic discrete-event scheduler: a virtual clock in integer microseconds and a
//! queue of events ordered by (time, insertion number). Equal times keep insertion order,
//! so a run never depends on hashing or allocation order. Time jumps straight to the next
//! event; nothing ticks.
//!
//! Real-time pacing is a mode of the same queue ([`Scheduler::next_paced`]): virtual time
//! follows a wall clock given by the host through [`Pace`] (this crate reads no clock),
//! so an event fires when the wall clock reaches it, or late by however long the host
//! took; [`Lateness`] keeps how late each fired event was. Nothing else changes: the
//! same events, in the same order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Virtual time in microseconds since the start of the simulation.
pub type Micros = u64;

/// One microsecond-based duration helper: seconds.
pub const SECOND: Micros = 1_000_000;
/// Milliseconds.
pub const MILLI: Micros = 1_000;

#[derive(Debug)]
struct Entry<E> {
    at: Micros,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// The event queue.
#[derive(Debug)]
pub struct Scheduler<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> Scheduler<E> {
    /// Schedule `ev` at `at`.
    pub fn at(&mut self, at: Micros, ev: E) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// Time of the next event.
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Pop the next event if it is due at or before `until`.
    pub fn pop_due(&mut self, until: Micros) -> Option<(Micros, E)> {
        if self.peek_time()? > until {
            return None;
        }
        let e = self.heap.pop().map(|Reverse(e)| (e.at, e.ev));
        // A burst (a press's contact bounce, a replayed trace) grows the queue; give the
        // room back once it has drained, so that thousands of idle worlds kept side by
        // side do not each hold their largest burst (amortised: it halves at most).
        let cap = self.heap.capacity();
        if cap > 8 && self.heap.len() < cap / 4 {
            self.heap.shrink_to(cap / 2);
        }
        e
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The wall clock of a paced run, implemented by the host (a binary or the rig), never
/// by a core or world crate.
pub trait Pace {
    /// Wall time since the paced run started, in microseconds.
    fn elapsed_us(&self) -> Micros;
    /// Wait until the wall clock reaches `at` (for ever when `None`), or less when
    /// something from outside arrives for the host; may return early.
    fn wait_until(&mut self, at: Option<Micros>);
}

/// What [`Scheduler::next_paced`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Paced<E> {
    /// An event due at `at` fires at wall time `now` (`now - at` late).
    Due {
        /// When it was due.
        at: Micros,
        /// The wall time it fires at.
        now: Micros,
        /// The event.
        ev: E,
    },
    /// Nothing is due yet at wall time `now` (the wait ended early: the host has input).
    Idle {
        /// The wall time.
        now: Micros,
    },
}

impl<E> Scheduler<E> {
    /// Real-time mode: the next event whose time the wall clock has reached, waiting on
    /// `pace` for it when none is due yet. Returns [`Paced::Idle`] when the wait ended
    /// early, so that the host can schedule what arrived (at the wall time it reports).
    pub fn next_paced(&mut self, pace: &mut dyn Pace) -> Paced<E> {
        let now = pace.elapsed_us();
        if let Some((at, ev)) = self.pop_due(now) {
            return Paced::Due { at, now, ev };
        }
        pace.wait_until(self.peek_time());
        let now = pace.elapsed_us();
        match self.pop_due(now) {
            Some((at, ev)) => Paced::Due { at, now, ev },
            None => Paced::Idle { now },
        }
    }
}

/// How late the events of a paced run fired (wall time minus due time), in µs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    late_us: Vec<Micros>,
}

impl Lateness {
    /// One event fired `late_us` after its time.
    pub fn record(&mut self, late_us: Micros) {
        self.late_us.push(late_us);
    }

    /// Number of events recorded.
    pub fn count(&self) -> usize {
        self.late_us.len()
    }

    /// The `q`-quantile (0.0..=1.0, nearest rank) of the lateness, if any was recorded.
    pub fn quantile(&self, q: f64) -> Option<Micros> {
        let mut v = self.late_us.clone();
        v.sort_unstable();
        let last = v.len().checked_sub(1)?;
        let rank = (q.clamp(0.0, 1.0) * last as f64).round() as usize;
        v.get(rank.min(last)).copied()
    }

    /// `p50`, `p99` and `max`, when any event was recorded.
    pub fn summary(&self) -> Option<(Micros, Micros, Micros)> {
        Some((
            self.quantile(0.5)?,
            self.quantile(0.99)?,
            self.late_us.iter().copied().max()?,
        ))
    }
}

impl std::fmt::Display for Lateness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.summary() {
            Some((p50, p99, max)) => write!(
                f,
                "pacing lateness over {} events: p50 {p50} µs, p99 {p99} µs, max {max} µs",
                self.count()
            ),
            None => write!(f, "pacing lateness: no event fired"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall clock that jumps to the time waited for, plus a fixed delay.
    struct Jumpy {
        now: Micros,
        delay: Micros,
    }

    impl Pace for Jumpy {
        fn elapsed_us(&self) -> Micros {
            self.now
        }
        fn wait_until(&mut self, at: Option<Micros>) {
            if let Some(at) = at {
                self.now = self.now.max(at + self.delay);
            }
        }
    }

    #[test]
    fn paced_mode_fires_in_order_when_the_wall_clock_reaches_each_event() {
        let mut s = Scheduler::default();
        s.at(100, "a");
        s.at(50, "b");
        s.at(100, "c");
        let mut wall = Jumpy { now: 0, delay: 7 };
        let mut late = Lateness::default();
        let mut got = Vec::new();
        while !s.is_empty() {
            if let Paced::Due { at, now, ev } = s.next_paced(&mut wall) {
                assert!(now >= at);
                late.record(now - at);
                got.push(ev);
            }
        }
        assert_eq!(got, vec!["b", "a", "c"]);
        // b fired at 57 (7 late); a at 107 (7 late); c at once after a (7 late).
        assert_eq!(late.summary(), Some((7, 7, 7)));
        assert_eq!(
            late.to_string(),
            "pacing lateness over 3 events: p50 7 µs, p99 7 µs, max 7 µs"
        );
    }

    #[test]
    fn an_early_wake_is_idle_and_quantiles_are_nearest_rank() {
        let mut s: Scheduler<()> = Scheduler::default();
        let mut wall = Jumpy { now: 5, delay: 0 };
        assert_eq!(s.next_paced(&mut wall), Paced::Idle { now: 5 });
        let mut l = Lateness::default();
        assert_eq!(l.summary(), None);
        for v in 1..=100 {
            l.record(v);
        }
        assert_eq!(l.quantile(0.5), Some(51));
        assert_eq!(l.quantile(0.99), Some(99));
        assert_eq!(l.summary(), Some((51, 99, 100)));
    }

    #[test]
    fn orders_by_time_then_insertion() {
        let mut s = Scheduler::default();
        s.at(5, "b");
        s.at(3, "a");
        s.at(5, "c");
        s.at(5, "d");
        let got: Vec<_> = std::iter::from_fn(|| s.pop_due(10)).collect();
        assert_eq!(got, vec![(3, "a"), (5, "b"), (5, "c"), (5, "d")]);
        s.at(20, "z");
        assert_eq!(s.pop_due(10), None);
        assert_eq!(s.len(), 1);
    }
}
