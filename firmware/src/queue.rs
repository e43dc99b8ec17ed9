//! The persistent event queue: events wait here (in flash) until the phone's signed
//! `Ack`. Fixed capacity ([`QUEUE_CAPACITY`] slots, the profile may use fewer but at
//! least [`MIN_QUEUE_CAPACITY`]); no heap.
//!
//! **Sequence numbers never wrap.** They are `u32` (the wire's width), start at 1 and
//! are never reused; the last one, `u32::MAX - 1`, is reached after 4.29 × 10^9 events
//! (136 years at one event a second). Past it the counter refuses: [`EventQueue::push`]
//! returns [`Refused::SeqExhausted`] and the firmware counts it, never a reused number.
//!
//! **What goes when the queue is full** (decided here; never silent — every event that
//! goes is counted in flash, [`EventQueue::dropped`], logged, and the count travels to
//! the phone in every heartbeat):
//! 1. battery reports are coalesced first: the oldest queued low-battery event goes (a
//!    later report carries a lower level);
//! 2. else, a new low-battery event is the one that goes (alerts outrank it);
//! 3. else (the queue holds only alerts) the second-oldest goes: the **first** alert —
//!    the one that raised the alarm — and the **latest** ones stay.
//!
//! **A stuck head does not block the rest.** Delivery normally sends the oldest event;
//! when an event's acknowledgement times out ([`EventQueue::skip`]), the next send takes
//! the event after it, wrapping back to the oldest, so an event the phone rejects without
//! acknowledging is retried in turn with the others instead of forever alone.

use protocol::EventKind;

/// Slots in the queue (the array's size): the most events it ever holds.
pub const QUEUE_CAPACITY: usize = 64;
/// The least capacity a profile may ask for (the contract: at least 64).
pub const MIN_QUEUE_CAPACITY: usize = 64;
/// Largest payload an event carries (a fall's peak in mg takes 2 bytes, a battery
/// level 1).
pub const EVENT_PAYLOAD_MAX: usize = 4;

/// The payload of a queued event, inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Payload {
    len: u8,
    bytes: [u8; EVENT_PAYLOAD_MAX],
}

impl Payload {
    /// No payload.
    pub const EMPTY: Payload = Payload {
        len: 0,
        bytes: [0; EVENT_PAYLOAD_MAX],
    };

    /// A payload of these bytes; `None` if longer than [`EVENT_PAYLOAD_MAX`].
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let mut out = Self::EMPTY;
        out.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        out.len = bytes.len() as u8;
        Some(out)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// One event waiting in flash for the phone's acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedEvent {
    /// Sequence number.
    pub seq: u32,
    /// What happened.
    pub kind: EventKind,
    /// When (UTC ms if `flags` says so, else RTC ms since manufacture): low and high
    /// halves, so that an event takes 20 bytes, not 24 ([`QueuedEvent::time_ms`]).
    time: [u32; 2],
    /// Protocol flags.
    pub flags: u8,
    /// Kind-specific payload.
    pub payload: Payload,
}

impl QueuedEvent {
    /// An event.
    pub const fn new(seq: u32, kind: EventKind, time_ms: u64, flags: u8, payload: Payload) -> Self {
        Self {
            seq,
            kind,
            time: [time_ms as u32, (time_ms >> 32) as u32],
            flags,
            payload,
        }
    }

    /// When it happened (UTC ms if `flags` says so, else RTC ms since manufacture).
    pub const fn time_ms(&self) -> u64 {
        (self.time[0] as u64) | ((self.time[1] as u64) << 32)
    }
}

const FILLER: QueuedEvent = QueuedEvent {
    seq: 0,
    kind: EventKind::Single,
    time: [0; 2],
    flags: 0,
    payload: Payload::EMPTY,
};

/// Why an event was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every sequence number was used: the counter never wraps.
    SeqExhausted,
}

/// What queuing an event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The new event's sequence number.
    pub seq: u32,
    /// An event that went to make room (the new one itself when it is the one that
    /// goes, rule 2).
    pub dropped: Option<QueuedEvent>,
}

/// The queue, its sequence counter and its drop count (all kept in flash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventQueue {
    events: crate::fifo::Fifo<QueuedEvent, QUEUE_CAPACITY>,
    /// Next sequence number to allocate (never reused).
    seq_next: u32,
    /// Events that went because the queue was full.
    dropped: u32,
    /// RAM only: the event whose acknowledgement timed out last (the next send takes
    /// the one after it); 0 = start from the oldest.
    skip_after: u32,
}

impl EventQueue {
    /// Empty, first sequence number 1.
    pub const fn new() -> Self {
        Self {
            events: crate::fifo::Fifo::new(FILLER),
            seq_next: 1,
            dropped: 0,
            skip_after: 0,
        }
    }

    /// From what flash holds; `None` when `events` does not fit.
    pub fn restore(seq_next: u32, dropped: u32, events: &[QueuedEvent]) -> Option<Self> {
        let mut q = Self::new();
        q.seq_next = seq_next;
        q.dropped = dropped;
        for e in events {
            q.events.push(*e).ok()?;
        }
        Some(q)
    }

    /// Append an event read back from flash (its sequence number already allocated);
    /// false when the queue is full.
    pub fn restore_event(&mut self, e: QueuedEvent) -> bool {
        self.events.push(e).is_ok()
    }

    /// The events, oldest first.
    pub fn events(&self) -> &[QueuedEvent] {
        self.events.as_slice()
    }

    /// How many are queued.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether none is queued.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The next sequence number to allocate.
    pub fn seq_next(&self) -> u32 {
        self.seq_next
    }

    /// Events that went because the queue was full (saturating).
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Set the next sequence number (a test's way to age the counter).
    pub fn set_seq_next(&mut self, seq: u32) {
        self.seq_next = seq.max(1);
    }

    /// Queue an event, holding at most `capacity` (clamped to the slots): allocates
    /// its sequence number and, when full, makes room as the module says.
    pub fn push(
        &mut self,
        capacity: usize,
        kind: EventKind,
        time_ms: u64,
        flags: u8,
        payload: Payload,
    ) -> Result<Pushed, Refused> {
        let seq = self.seq_next;
        // `u32::MAX` is never issued: the counter stops there and refuses, never wraps.
        if seq == u32::MAX {
            return Err(Refused::SeqExhausted);
        }
        self.seq_next = seq.saturating_add(1);
        let new = QueuedEvent::new(seq, kind, time_ms, flags, payload);
        let mut dropped = None;
        if self.events.len() >= capacity.clamp(1, QUEUE_CAPACITY) {
            let victim = self.victim(kind);
            dropped = Some(match victim.and_then(|i| self.events.remove(i)) {
                Some(old) => old,
                None => {
                    // Rule 2: the new battery report is the one that goes.
                    self.dropped = self.dropped.saturating_add(1);
                    return Ok(Pushed {
                        seq,
                        dropped: Some(new),
                    });
                }
            });
            self.dropped = self.dropped.saturating_add(1);
        }
        if let Err(lost) = self.events.push(new) {
            // Only when the capacity asked is below the queued count: count it too.
            self.dropped = self.dropped.saturating_add(1);
            dropped = Some(lost);
        }
        Ok(Pushed { seq, dropped })
    }

    /// Which queued event goes to make room for a new `kind` (`None`: the new one).
    fn victim(&self, kind: EventKind) -> Option<usize> {
        let battery = self.events.position(|e| e.kind == EventKind::LowBattery);
        match battery {
            Some(i) => Some(i),
            None if kind == EventKind::LowBattery => None,
            // Keep the first alert and the latest: the second-oldest goes.
            None => Some(if self.events.len() > 1 { 1 } else { 0 }),
        }
    }

    /// The phone acknowledged `seq`: it leaves the queue. Returns whether it was there.
    pub fn ack(&mut self, seq: u32) -> bool {
        match self.events.position(|e| e.seq == seq) {
            Some(i) => self.events.remove(i).is_some(),
            None => false,
        }
    }

    /// The event to send next: the oldest after the one last skipped, else the oldest.
    pub fn next_to_send(&self) -> Option<&QueuedEvent> {
        let events = self.events.as_slice();
        events
            .iter()
            .find(|e| e.seq > self.skip_after)
            .or_else(|| events.first())
    }

    /// `seq`'s acknowledgement timed out: the next send takes the event after it.
    pub fn skip(&mut self, seq: u32) {
        self.skip_after = seq;
    }

    /// Start again from the oldest (a new connection).
    pub fn rewind(&mut self) {
        self.skip_after = 0;
    }

    /// Remove the event `seq` whatever the phone says (it cannot be sent).
    pub fn discard(&mut self, seq: u32) -> bool {
        self.ack(seq)
    }
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Events whose transmissions are counted at once ([`Attempts`]).
pub const ATTEMPTS_TRACKED: usize = 16;

/// RAM only: how many times each queued event was sent since boot (for the log's
/// attempt numbers). Holds [`ATTEMPTS_TRACKED`] events; the one counted longest ago
/// makes room (its count would restart at 1 — only the log's number, never delivery).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempts {
    list: crate::fifo::Fifo<(u32, u32), ATTEMPTS_TRACKED>,
}

impl Attempts {
    /// None counted.
    pub const fn new() -> Self {
        Self {
            list: crate::fifo::Fifo::new((0, 0)),
        }
    }

    /// One more transmission of `seq`: its attempt number (1 = first).
    pub fn bump(&mut self, seq: u32) -> u32 {
        if let Some(i) = self.list.position(|&(s, _)| s == seq) {
            if let Some((_, n)) = self.list.as_mut_slice().get_mut(i) {
                *n = n.saturating_add(1);
                return *n;
            }
        }
        if self.list.is_full() {
            self.list.pop();
        }
        let _fits = self.list.push((seq, 1));
        1
    }

    /// `seq` left the queue.
    pub fn forget(&mut self, seq: u32) {
        if let Some(i) = self.list.position(|&(s, _)| s == seq) {
            self.list.remove(i);
        }
    }
}

impl Default for Attempts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn fill(q: &mut EventQueue, kinds: &[EventKind]) -> Vec<Option<QueuedEvent>> {
        kinds
            .iter()
            .map(|&k| q.push(4, k, 0, 0, Payload::EMPTY).unwrap().dropped)
            .collect()
    }

    fn seqs(q: &EventQueue) -> Vec<u32> {
        q.events().iter().map(|e| e.seq).collect()
    }

    #[test]
    fn full_queue_coalesces_battery_reports_first() {
        use EventKind::*;
        let mut q = EventQueue::new();
        fill(&mut q, &[Single, LowBattery, Double, LowBattery]);
        let d = fill(&mut q, &[Fall]);
        assert_eq!(
            d[0].map(|e| e.seq),
            Some(2),
            "the oldest battery report goes"
        );
        assert_eq!(seqs(&q), [1, 3, 4, 5]);
        let d = fill(&mut q, &[LowBattery]);
        assert_eq!(
            d[0].map(|e| e.seq),
            Some(4),
            "coalesced with the queued one"
        );
        assert_eq!(seqs(&q), [1, 3, 5, 6]);
        assert_eq!(q.dropped(), 2);
    }

    #[test]
    fn full_queue_of_alerts_keeps_the_first_and_the_latest() {
        use EventKind::*;
        let mut q = EventQueue::new();
        fill(&mut q, &[Single, Double, Long, Fall]);
        let d = fill(&mut q, &[LowBattery]);
        assert_eq!(
            d[0].map(|e| e.seq),
            Some(5),
            "a battery report never evicts an alert"
        );
        assert_eq!(seqs(&q), [1, 2, 3, 4]);
        let d = fill(&mut q, &[Single, Single]);
        assert_eq!(d[0].map(|e| e.seq), Some(2));
        assert_eq!(d[1].map(|e| e.seq), Some(3));
        assert_eq!(
            seqs(&q),
            [1, 4, 6, 7],
            "the first alert stays, the latest too"
        );
        assert_eq!(q.dropped(), 3, "every event that went is counted");
    }

    #[test]
    fn capacity_at_least_64_and_never_more_than_the_slots() {
        let mut q = EventQueue::new();
        for _ in 0..QUEUE_CAPACITY + 10 {
            q.push(usize::MAX, EventKind::Single, 0, 0, Payload::EMPTY)
                .unwrap();
        }
        assert_eq!(q.len(), QUEUE_CAPACITY);
        const { assert!(QUEUE_CAPACITY >= 64 && MIN_QUEUE_CAPACITY >= 64) };
        assert_eq!(q.events()[0].seq, 1);
        assert_eq!(q.dropped(), 10);
    }

    #[test]
    fn a_stuck_head_does_not_block_the_rest() {
        let mut q = EventQueue::new();
        fill(
            &mut q,
            &[EventKind::Single, EventKind::Double, EventKind::Fall],
        );
        assert_eq!(q.next_to_send().map(|e| e.seq), Some(1));
        q.skip(1);
        assert_eq!(q.next_to_send().map(|e| e.seq), Some(2));
        assert!(q.ack(2));
        assert_eq!(q.next_to_send().map(|e| e.seq), Some(3));
        q.skip(3);
        assert_eq!(
            q.next_to_send().map(|e| e.seq),
            Some(1),
            "wraps to the oldest"
        );
        q.skip(1);
        q.rewind();
        assert_eq!(q.next_to_send().map(|e| e.seq), Some(1));
    }

    #[test]
    fn sequence_numbers_never_wrap() {
        let mut q = EventQueue::new();
        q.set_seq_next(u32::MAX - 2);
        let a = q.push(64, EventKind::Single, 0, 0, Payload::EMPTY).unwrap();
        assert_eq!(a.seq, u32::MAX - 2);
        let b = q.push(64, EventKind::Single, 0, 0, Payload::EMPTY);
        assert_eq!(b.map(|p| p.seq), Ok(u32::MAX - 1));
        for _ in 0..3 {
            assert_eq!(
                q.push(64, EventKind::Single, 0, 0, Payload::EMPTY),
                Err(Refused::SeqExhausted)
            );
        }
        assert_eq!(q.seq_next(), u32::MAX);
        assert!(q.events().iter().all(|e| e.seq != 0 && e.seq < u32::MAX));
    }

    #[test]
    fn attempts_count_per_event() {
        let mut a = Attempts::new();
        assert_eq!(a.bump(5), 1);
        assert_eq!(a.bump(5), 2);
        assert_eq!(a.bump(6), 1);
        a.forget(5);
        assert_eq!(a.bump(5), 1);
        for s in 100..100 + QUEUE_CAPACITY as u32 * 2 {
            assert_eq!(a.bump(s), 1);
        }
    }

    #[test]
    fn payloads_are_bounded() {
        assert_eq!(Payload::new(&[1, 2]).unwrap().as_slice(), &[1, 2]);
        assert!(Payload::new(&[0; EVENT_PAYLOAD_MAX + 1]).is_none());
    }
}
