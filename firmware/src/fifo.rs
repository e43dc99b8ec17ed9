//! A fixed-capacity first-in first-out list on an array: no heap, no panic. Entries stay
//! in order at the front of the array; taking the oldest shifts the rest (capacities
//! here are a few dozen entries, so the shift is cheaper than a ring's bookkeeping and
//! keeps removal from the middle — an acknowledged event — just as simple).

/// Up to `N` values of `T`, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fifo<T: Copy, const N: usize> {
    slots: [T; N],
    len: usize,
}

impl<T: Copy, const N: usize> Fifo<T, N> {
    /// An empty list; `filler` fills the unused slots (never read).
    pub const fn new(filler: T) -> Self {
        Self {
            slots: [filler; N],
            len: 0,
        }
    }

    /// The values, oldest first.
    pub fn as_slice(&self) -> &[T] {
        self.slots.get(..self.len).unwrap_or(&[])
    }

    /// The values, oldest first, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.slots.get_mut(..self.len).unwrap_or(&mut [])
    }

    /// How many values are held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no other value fits.
    pub fn is_full(&self) -> bool {
        self.len >= N
    }

    /// Append `v`; when full, `v` comes back as the error.
    pub fn push(&mut self, v: T) -> Result<(), T> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = v;
                self.len += 1;
                Ok(())
            }
            None => Err(v),
        }
    }

    /// Take the oldest value.
    pub fn pop(&mut self) -> Option<T> {
        self.remove(0)
    }

    /// The oldest value.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    /// Take the value at `i` (0 = oldest); the later ones move up.
    pub fn remove(&mut self, i: usize) -> Option<T> {
        let live = self.slots.get_mut(i..self.len)?;
        let v = *live.first()?;
        live.rotate_left(1);
        self.len -= 1;
        Some(v)
    }

    /// Index of the first value matching `f`.
    pub fn position(&self, f: impl FnMut(&T) -> bool) -> Option<usize> {
        self.as_slice().iter().position(f)
    }

    /// Remove every value.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Fifo;

    #[test]
    fn keeps_order_and_refuses_past_capacity() {
        let mut f: Fifo<u8, 3> = Fifo::new(0);
        assert_eq!(f.pop(), None);
        for v in 1..=3 {
            assert_eq!(f.push(v), Ok(()));
        }
        assert!(f.is_full());
        assert_eq!(f.push(4), Err(4));
        assert_eq!(f.remove(1), Some(2));
        assert_eq!(f.as_slice(), &[1, 3]);
        assert_eq!(f.remove(2), None);
        assert_eq!(f.pop(), Some(1));
        assert_eq!(f.pop(), Some(3));
        assert!(f.is_empty());
    }
}
