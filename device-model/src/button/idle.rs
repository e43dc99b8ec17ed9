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

use super::{Button, Link, HEARTBEAT_US};

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
        !self.dead
            && self.session.is_some()
            && self.keys.is_some()
            && self.actions.is_empty()
            && self.flash.queue.is_empty()
            && self.gestures.poll_timeout().is_none()
            && self.pairing.is_none()
            && matches!(self.link, Link::Connected { inflight: None, .. })
    }

    /// The next deadline other than the heartbeat's.
    fn other_deadline(&self) -> Option<u64> {
        let rotate = match self.link {
            Link::Advertising { .. } => self
                .address_since
                .map(|t| t.saturating_add(super::ADDRESS_ROTATION_US)),
            Link::Connected { .. } => None,
        };
        super::earliest(rotate, self.next_level_at)
    }

    /// Send, in bulk, every heartbeat due strictly before `limit` and before any other
    /// deadline of the button, as long as `gets_through(at)` says the one sent at `at`
    /// crosses the air at once (the host's link model; it is asked once per heartbeat,
    /// in order, and the run stops at the first `false`); `None` (and nothing changed)
    /// when there is none or the button is not idle. See the module documentation.
    pub fn idle_heartbeats(
        &mut self,
        limit: u64,
        gets_through: &mut dyn FnMut(u64) -> bool,
    ) -> Option<HeartbeatRun> {
        if !self.idle_connected() {
            return None;
        }
        let pulse = self.profile.power.radio_pulse();
        let first = self.next_heartbeat_at?;
        // One check for the whole run: it ends before the level drops (the level
        // schedule is a deadline), and no pulse in this level band browns out.
        if self.battery.browns_out_in_band(first, pulse)
            || self.battery.level_percent(first) != self.level
        {
            return None;
        }
        let mut run: Option<HeartbeatRun> = None;
        while let Some(at) = self.next_heartbeat_at {
            let before_other = self.other_deadline().is_none_or(|o| at < o);
            if at >= limit || !before_other {
                break;
            }
            if !gets_through(at) {
                break;
            }
            let Some(index) = self.session.as_ref().map(|s| s.next_index) else {
                break;
            };
            let Some(next) = index.checked_add(1) else {
                break;
            };
            // The same steps, in the same order, as `heartbeat` for one that is sealed
            // and carried (`load` without its brown-out check: done above for the band).
            self.next_heartbeat_at = Some(at.saturating_add(HEARTBEAT_US));
            if let Some(s) = self.session.as_mut() {
                s.next_index = next;
            }
            self.battery.pulse_unchecked(at, pulse);
            self.schedule_level(at);
            let r = run.get_or_insert(HeartbeatRun {
                first_at: at,
                last_at: at,
                count: 0,
                first_index: index,
                level: self.level,
            });
            r.last_at = at;
            r.count += 1;
        }
        run
    }
}
