//! A session's freshness on the button: the command counter must strictly increase
//! within the session, and every sealed frame takes a new index. The keys, tags and
//! encryption are `protocol`'s (its keyed nonce and HMAC need no heap).

use protocol::keys::Keys;

/// Length of a session nonce.
pub const NONCE_LEN: usize = 8;

/// The session of the current connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionState {
    /// The session id (never reused: a counter kept in flash).
    pub id: u32,
    /// The phone's nonce (from `Hello`).
    pub phone_nonce: [u8; NONCE_LEN],
    /// The button's nonce (keyed by the bond: unpredictable without it).
    pub button_nonce: [u8; NONCE_LEN],
    /// Highest command counter accepted in this session.
    pub last_counter: Option<u32>,
    /// Index of the next sealed frame.
    pub next_index: u32,
}

impl SessionState {
    /// A new session `id` answering `phone_nonce`.
    pub fn open(keys: &Keys, id: u32, phone_nonce: [u8; NONCE_LEN]) -> Self {
        Self {
            id,
            phone_nonce,
            button_nonce: protocol::keys::button_nonce(keys, id),
            last_counter: None,
            next_index: 0,
        }
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
    fn counters_only_grow_and_indices_never_repeat() {
        let keys = BondKey([7; 16]).keys();
        let mut s = SessionState::open(&keys, 3, [1; 8]);
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
