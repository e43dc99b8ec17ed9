//! Bytes without a heap: a bounds-checked [`Reader`] over untrusted input, a sink that
//! encoders write to (a caller's slice, or a `Vec` with `std`), and [`Bytes`], the
//! fixed-capacity byte string that frames and messages carry their variable parts in.
//!
//! Every encoder of the crate writes through [`Sink`]: `encode_into(&mut [u8])` is the
//! allocation-free entry point (an error, never a panic, when the caller's buffer is
//! short), and with `std` the `Vec`-returning `encode` is the same code on a sink that
//! cannot fail.

#[cfg(feature = "std")]
use core::convert::Infallible;

use crate::{ProtocolError, COMMAND_VERSION};

/// Where an encoder writes.
pub(crate) trait Sink {
    /// What a write can fail with.
    type Error;
    /// Append `bytes`.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// A caller's buffer, filled from the start.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }
}

impl Sink for Writer<'_> {
    type Error = ProtocolError;
    fn put(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        let got = self.buf.len();
        let end = self.pos.checked_add(bytes.len());
        let dst = end.and_then(|end| self.buf.get_mut(self.pos..end)).ok_or(
            ProtocolError::BufferTooSmall {
                needed: self.pos.saturating_add(bytes.len()),
                got,
            },
        )?;
        dst.copy_from_slice(bytes);
        self.pos = self.pos.saturating_add(bytes.len());
        Ok(())
    }
}

#[cfg(feature = "std")]
impl Sink for Vec<u8> {
    type Error = Infallible;
    fn put(&mut self, bytes: &[u8]) -> Result<(), Infallible> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// Inline bytes: a refusal past the capacity ([`ProtocolError::TooLong`]).
impl<const N: usize> Sink for Bytes<N> {
    type Error = ProtocolError;
    fn put(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.extend_from_slice(bytes)
    }
}

/// Run `write` on the first `len` bytes of `out` (the encoded length, known up front):
/// `Ok(len)`, or [`ProtocolError::BufferTooSmall`] naming the whole length.
pub(crate) fn encode_into(
    out: &mut [u8],
    len: usize,
    write: impl FnOnce(&mut Writer<'_>) -> Result<(), ProtocolError>,
) -> Result<usize, ProtocolError> {
    let got = out.len();
    let dst = out
        .get_mut(..len)
        .ok_or(ProtocolError::BufferTooSmall { needed: len, got })?;
    write(&mut Writer::new(dst))?;
    Ok(len)
}

/// A `Vec` filled by `write`, which cannot fail on it.
#[cfg(feature = "std")]
pub(crate) fn encode_vec(
    len: usize,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), Infallible>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    match write(&mut out) {
        Ok(()) => out,
        Err(never) => match never {},
    }
}

/// At most `N` bytes, inline (no heap): a frame's payload, a sealed body. Compares,
/// hashes and prints as the slice it holds (`[1, 2, 3]`, as a `Vec` would).
#[derive(Clone, Copy)]
pub struct Bytes<const N: usize> {
    len: usize,
    buf: [u8; N],
}

impl<const N: usize> Bytes<N> {
    /// The capacity.
    pub const CAPACITY: usize = N;

    /// Empty.
    pub const fn new() -> Self {
        Bytes {
            len: 0,
            buf: [0; N],
        }
    }

    /// A copy of `bytes`, or [`ProtocolError::TooLong`] past the capacity.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut b = Self::new();
        b.extend_from_slice(bytes)?;
        Ok(b)
    }

    /// Append `bytes`; [`ProtocolError::TooLong`] (and nothing appended) past the
    /// capacity.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        let too_long = ProtocolError::TooLong {
            max: N,
            got: self.len.saturating_add(bytes.len()),
        };
        let end = self.len.checked_add(bytes.len()).ok_or(too_long.clone())?;
        let dst = self.buf.get_mut(self.len..end).ok_or(too_long)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// The bytes held.
    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The bytes held, to change in place (their number stays).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or(&mut [])
    }
}

impl<const N: usize> Default for Bytes<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::ops::Deref for Bytes<N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> AsRef<[u8]> for Bytes<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> TryFrom<&[u8]> for Bytes<N> {
    type Error = ProtocolError;
    fn try_from(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Self::from_slice(bytes)
    }
}

impl<const N: usize> PartialEq for Bytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for Bytes<N> {}

impl<const N: usize> PartialEq<[u8]> for Bytes<N> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize, const M: usize> PartialEq<[u8; M]> for Bytes<N> {
    fn eq(&self, other: &[u8; M]) -> bool {
        self.as_slice() == other
    }
}

#[cfg(feature = "std")]
impl<const N: usize> PartialEq<Vec<u8>> for Bytes<N> {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> core::hash::Hash for Bytes<N> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<const N: usize> core::fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// Little-endian reader over untrusted bytes: every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let s = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or(ProtocolError::Truncated {
                needed: self.pos.saturating_add(n),
                got: self.buf.len(),
            })?;
        self.pos = self.pos.saturating_add(n);
        Ok(s)
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, ProtocolError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }
    pub(crate) fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn finish(&self) -> Result<(), ProtocolError> {
        match self.buf.len().saturating_sub(self.pos) {
            0 => Ok(()),
            extra => Err(ProtocolError::TrailingBytes { extra }),
        }
    }
    pub(crate) fn version(&mut self) -> Result<(), ProtocolError> {
        self.expect_version(COMMAND_VERSION)
    }
    pub(crate) fn expect_version(&mut self, want: u8) -> Result<(), ProtocolError> {
        match self.u8()? {
            v if v == want => Ok(()),
            v => Err(ProtocolError::UnsupportedVersion(v)),
        }
    }
    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_refuse_past_their_capacity_and_compare_as_slices() {
        let mut b = Bytes::<4>::from_slice(&[1, 2]).unwrap();
        assert_eq!(
            b.extend_from_slice(&[3, 4, 5]),
            Err(ProtocolError::TooLong { max: 4, got: 5 })
        );
        assert_eq!(b.as_slice(), &[1, 2], "nothing appended on refusal");
        b.extend_from_slice(&[3, 4]).unwrap();
        assert_eq!(&*b, &[1, 2, 3, 4]);
        assert_eq!(format!("{b:?}"), "[1, 2, 3, 4]");
        assert_eq!(Bytes::<4>::from_slice(&[1, 2, 3, 4]), Ok(b));
        assert_ne!(Bytes::<4>::from_slice(&[1, 2, 3]).unwrap(), b);
        assert!(Bytes::<0>::from_slice(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_short_buffer_is_an_error_naming_the_length() {
        let mut out = [0u8; 3];
        let r = encode_into(&mut out, 5, |w| w.put(&[1, 2, 3, 4, 5]));
        assert_eq!(r, Err(ProtocolError::BufferTooSmall { needed: 5, got: 3 }));
        let mut w = Writer::new(&mut out);
        assert_eq!(w.put(&[1, 2]), Ok(()));
        assert_eq!(
            w.put(&[3, 4]),
            Err(ProtocolError::BufferTooSmall { needed: 4, got: 3 })
        );
        assert_eq!(out, [1, 2, 0]);
    }
}
