//! Fast-forward over an idle connection (feature `fast-forward`, for simulators).
//!
//! A connected, idle button does one thing: every [`HEARTBEAT_US`] it seals a heartbeat
//! and notifies it, paying one radio pulse. Simulating each of them in full (seal, air,
//! open) made a simulated idle month cost 43,200 AEAD round trips. A host that knows
//! nothing else can happen before `limit` (no input, no other timer, no other traffic,
//! a lossless link) may instead call [`Button::idle_heartbeats`]: the button does
//! exactly the bookkeeping [`Button::heartbeat`] does for each one (the next deadline,
//! the session's frame index, the radio pulse and the level schedule, in the same order
//! with the same integer arithmetic), without building or sealing the frames, and
//! reports what went out so the host can tell the phone ([`HeartbeatRun`]).
//!
//! It declines (returns `None`, changing nothing) whenever the full path could do
//! anything else: no session, an event queued or in flight, a gesture settling, an
//! action not yet taken, or a heartbeat whose pulse would brown the cell out. The
//! simulator's equivalence test runs whole scenarios both ways and compares timelines.

use firmware::link::Link;

use super::{Button, HEARTBEAT_US};

/// Heartbeats a button sent in bulk: frame indices `first_index..first_index + count`,
/// the last at `last_at`, all carrying `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatRun {
    /// When the first one left the button (µs).
    pub first_at: u64,
    /// When the last one left the button (µs).
    pub last_at: u64,
    /// How many went out.
    pub count: u32,
    /// The session frame index of the first.
    pub first_index: u32,
    /// The battery level (%) they carried.
    pub level: u8,
}

impl Button {
    /// Whether the button is idle on a connection with a session: nothing queued, in
    /// flight, settling or waiting to be taken.
    fn idle_connected(&self) -> bool {
        let c = &self.core;
        !c.dead
            && c.session.is_some()
            && c.keys.is_some()
            && self.actions.is_empty()
            && c.flash.queue.is_empty()
            // A heartbeat then also carries the drop count: the full path builds it.
            && c.flash.queue.dropped() == 0
            && c.gestures.poll_timeout().is_none()
            && c.pairing.is_none()
            && matches!(c.link, Link::Connected { inflight: None, .. })
    }

    /// Send, in bulk, every heartbeat due strictly before `limit` and before any other
    /// deadline of the button (the level's next drop included), at most `through` of
    /// them (the host's link model: how many frames cross the air at once before the
    /// first one it loses); `None` (and nothing changed) when there is none or the
    /// button is not idle. See the module documentation.
    pub fn idle_heartbeats(&mut self, limit: u64, through: u64) -> Option<HeartbeatRun> {
        if !self.idle_connected() {
            return None;
        }
        let pulse = self.profile.power.radio_pulse();
        let first = self.core.next_heartbeat_at?;
        let level = self.core.level;
        // The run ends before the level drops, and no pulse in this level band browns
        // out: one check for the whole run.
        if first >= limit
            || self.core.next_level_at.is_some_and(|t| first >= t)
            || self.battery.browns_out_in_band(first, pulse)
            || self.battery.level_percent(first) != level
            || level == 0
        {
            return None;
        }
        let period = HEARTBEAT_US;
        let by_limit = (limit - 1 - first) / period + 1;
        let target = u16::from(level - 1) * 10;
        let by_level = self.battery.pulses_above(first, period, pulse, target);
        let sess = self.core.session.as_ref()?;
        let by_index = u64::from(u32::MAX - sess.next_index);
        let count = by_limit.min(by_level).min(by_index).min(through);
        if count == 0 {
            return None;
        }
        let last = first + (count - 1) * period;
        let first_index = sess.next_index;
        // What `heartbeat` does `count` times: the next deadline, the frame index, the
        // radio pulse (its brown-out check done above for the band) and the level
        // schedule after the last one (the ones before it are overwritten unread:
        // `pulses_above` kept every heartbeat before them).
        self.core.next_heartbeat_at = Some(last.saturating_add(period));
        if let Some(s) = self.core.session.as_mut() {
            s.next_index = first_index + count as u32;
        }
        self.battery
            .periodic_pulses_unchecked(first, period, count, pulse);
        self.schedule_level(last);
        Some(HeartbeatRun {
            first_at: first,
            last_at: last,
            count: count as u32,
            first_index,
            level,
        })
    }
}
