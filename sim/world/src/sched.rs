//! Deterministic discrete-event scheduler: a virtual clock in integer microseconds and a
//! queue of events ordered by (time, insertion number). Equal times keep insertion order,
//! so a run never depends on hashing or allocation order. Time jumps straight to the next
//! event; nothing ticks.

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
        self.heap.pop().map(|Reverse(e)| (e.at, e.ev))
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

#[cfg(test)]
mod tests {
    use super::*;

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
