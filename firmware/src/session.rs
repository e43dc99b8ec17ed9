//! A session on the button: a command is accepted only if its tag authenticates it in
//! this session (HMAC-SHA256 under the bond's command key over both nonces, the id, the
//! counter and the command — `protocol::Session::verify`, which needs no heap) and its
//! counter strictly increases within the session; every sealed frame takes a new index.

use protocol::keys::Keys;
use protocol::session::NONCE_LEN;
use protocol::{Command, Session, ToPhone};

/// The session of the current connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionState {
    /// The id (never reused: a counter kept in flash) and both nonces (the button's
    /// keyed by the bond: unpredictable without it).
    pub session: Session,
    /// Highest command counter accepted in this session.
    pub last_counter: Option<u32>,
    /// Index of the next sealed frame.
    pub next_index: u32,
}

/// Why a signed command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandRefusal {
    /// The tag does not authenticate it in this session (another key, another session,
    /// a changed byte).
    NotSigned,
    /// Its counter is not above the last accepted (a replay).
    Stale(u32),
}

impl SessionState {
    /// Accept a signed command: authenticated in this session, with a new counter.
    pub fn accept(
        &mut self,
        keys: &Keys,
        counter: u32,
        command: &Command,
        tag: &[u8],
    ) -> Result<(), CommandRefusal> {
        if !self.session.verify(keys, counter, command, tag) {
            return Err(CommandRefusal::NotSigned);
        }
        if !self.accept_counter(counter) {
            return Err(CommandRefusal::Stale(counter));
        }
        Ok(())
    }

    /// A new session `id` answering `phone_nonce`, and the offer that opens it
    /// ([`Session::begin`]).
    pub fn open(keys: &Keys, id: u32, phone_nonce: [u8; NONCE_LEN]) -> (Self, ToPhone) {
        let (session, offer) = Session::begin(keys, id, phone_nonce);
        let state = Self {
            session,
            last_counter: None,
            next_index: 0,
        };
        (state, offer)
    }

    /// Accept an authenticated command's `counter` if it is new in this session.
    pub fn accept_counter(&mut self, counter: u32) -> bool {
        if self.last_counter.is_some_and(|c| counter <= c) {
            return false;
        }
        self.last_counter = Some(counter);
        true
    }

    /// The index for the next sealed frame (`None` once 2^32 frames went out in one
    /// connection, which cannot happen: an index is never reused anyway).
    pub fn take_index(&mut self) -> Option<u32> {
        let index = self.next_index;
        self.next_index = index.checked_add(1)?;
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::BondKey;

    #[test]
    fn only_commands_signed_in_this_session_with_a_new_counter_pass() {
        let keys = BondKey([7; 16]).keys();
        let mut s = SessionState::open(&keys, 3, [1; 8]).0;
        let ack = Command::Ack { seq: 9 };
        let tag = |s: &SessionState, keys: &Keys, counter: u32| match s.session.sign(
            keys,
            counter,
            ack.clone(),
        ) {
            protocol::ToButton::Signed { tag, .. } => tag,
            _ => unreachable!(),
        };
        let good = tag(&s, &keys, 1);
        assert_eq!(s.accept(&keys, 1, &ack, &good), Ok(()));
        assert_eq!(
            s.accept(&keys, 1, &ack, &good),
            Err(CommandRefusal::Stale(1))
        );
        let other = BondKey([8; 16]).keys();
        let forged = tag(&s, &other, 2);
        assert_eq!(
            s.accept(&keys, 2, &ack, &forged),
            Err(CommandRefusal::NotSigned)
        );
        let mut next = SessionState::open(&keys, 4, [1; 8]).0;
        let old = tag(&s, &keys, 5);
        assert_eq!(
            next.accept(&keys, 5, &ack, &old),
            Err(CommandRefusal::NotSigned)
        );
        let mut changed = good;
        changed[0] ^= 1;
        assert_eq!(
            s.accept(&keys, 3, &ack, &changed),
            Err(CommandRefusal::NotSigned)
        );
    }

    #[test]
    fn counters_only_grow_and_indices_never_repeat() {
        let keys = BondKey([7; 16]).keys();
        let mut s = SessionState::open(&keys, 3, [1; 8]).0;
        assert!(s.accept_counter(5));
        assert!(!s.accept_counter(5));
        assert!(!s.accept_counter(4));
        assert!(s.accept_counter(6));
        assert_eq!(s.take_index(), Some(0));
        assert_eq!(s.take_index(), Some(1));
        s.next_index = u32::MAX;
        assert_eq!(s.take_index(), None);
        assert_eq!(s.take_index(), None);
    }
}
