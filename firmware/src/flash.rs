//! Non-volatile state: all that survives a reset or a brown-out, and its serialized
//! image (a fixed little-endian layout, at most [`IMAGE_MAX`] bytes, read back as
//! untrusted bytes: a bad image is an error, never a panic).
//!
//! Image layout: version (1), `seq_next` u32, `dropped` u32, `boots` u32,
//! `session_next` u32, `rejected_commands` u32, clock (flag u8, offset i64), bond (flag
//! u8, key 16), queue length u8, then per event: seq u32, kind u8, time u64, flags u8,
//! payload length u8, payload ([`EVENT_PAYLOAD_MAX`] bytes).

use protocol::{BondKey, EventKind};

use crate::clock::Rtc;
use crate::queue::{EventQueue, Payload, QueuedEvent, EVENT_PAYLOAD_MAX, QUEUE_CAPACITY};

/// Version byte of the image layout.
pub const IMAGE_VERSION: u8 = 1;
/// Bytes of one queued event in the image.
pub const IMAGE_EVENT_LEN: usize = 4 + 1 + 8 + 1 + 1 + EVENT_PAYLOAD_MAX;
/// Bytes of the image's fixed part.
pub const IMAGE_HEAD_LEN: usize = 1 + 5 * 4 + 9 + 17 + 1;
/// The largest image (a full queue).
pub const IMAGE_MAX: usize = IMAGE_HEAD_LEN + QUEUE_CAPACITY * IMAGE_EVENT_LEN;

/// Non-volatile state: all that survives a reset or a brown-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// Events not yet acknowledged, with the sequence counter and the drop count.
    pub queue: EventQueue,
    /// Bond key, once bonded.
    pub bond: Option<BondKey>,
    /// The real-time clock (battery-backed; it keeps counting across resets).
    pub rtc: Rtc,
    /// Number of boots.
    pub boots: u32,
    /// Next session id to give (never reused).
    pub session_next: u32,
    /// Writes refused: unauthenticated, stale, out of bounds, undecodable, unknown.
    pub rejected_commands: u32,
}

/// Why an image does not read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than its layout says.
    Truncated,
    /// A version this firmware does not know.
    Version(u8),
    /// An unknown event kind or a field out of range.
    Corrupt,
}

impl Flash {
    /// Factory state: unbonded, clock unset, empty queue.
    pub const fn factory() -> Self {
        Flash {
            queue: EventQueue::new(),
            bond: None,
            rtc: Rtc::UNSET,
            boots: 0,
            session_next: 1,
            rejected_commands: 0,
        }
    }

    /// Factory state already bonded with `key`.
    pub fn bonded(key: BondKey) -> Self {
        Flash {
            bond: Some(key),
            ..Flash::factory()
        }
    }

    /// Write the image into `out`; returns its length.
    pub fn write_image(&self, out: &mut [u8; IMAGE_MAX]) -> usize {
        let mut w = Writer { out, pos: 0 };
        w.put(&[IMAGE_VERSION]);
        for v in [
            self.queue.seq_next(),
            self.queue.dropped(),
            self.boots,
            self.session_next,
            self.rejected_commands,
        ] {
            w.put(&v.to_le_bytes());
        }
        w.put(&[u8::from(self.rtc.utc_offset_ms.is_some())]);
        w.put(&self.rtc.utc_offset_ms.unwrap_or(0).to_le_bytes());
        w.put(&[u8::from(self.bond.is_some())]);
        w.put(&self.bond.map_or([0; 16], |k| k.0));
        let events = self.queue.events();
        w.put(&[events.len() as u8]);
        for e in events {
            w.put(&e.seq.to_le_bytes());
            w.put(&[e.kind.code()]);
            w.put(&e.time_ms().to_le_bytes());
            w.put(&[e.flags, e.payload.as_slice().len() as u8]);
            let mut p = [0u8; EVENT_PAYLOAD_MAX];
            for (d, s) in p.iter_mut().zip(e.payload.as_slice()) {
                *d = *s;
            }
            w.put(&p);
        }
        w.pos
    }

    /// Read an image back (untrusted bytes).
    pub fn read_image(bytes: &[u8]) -> Result<Flash, ImageError> {
        let mut r = Reader { buf: bytes };
        let version = r.u8()?;
        if version != IMAGE_VERSION {
            return Err(ImageError::Version(version));
        }
        let (seq_next, dropped) = (r.u32()?, r.u32()?);
        let (boots, session_next, rejected_commands) = (r.u32()?, r.u32()?, r.u32()?);
        let rtc_set = r.u8()? != 0;
        let off = i64::from_le_bytes(r.array()?);
        let bonded = r.u8()? != 0;
        let key: [u8; 16] = r.array()?;
        let n = usize::from(r.u8()?);
        if n > QUEUE_CAPACITY {
            return Err(ImageError::Corrupt);
        }
        let mut queue = EventQueue::restore(seq_next, dropped, &[]).ok_or(ImageError::Corrupt)?;
        for _ in 0..n {
            let seq = r.u32()?;
            let kind = EventKind::from_code(r.u8()?).map_err(|_| ImageError::Corrupt)?;
            let time_ms = r.u64()?;
            let flags = r.u8()?;
            let len = usize::from(r.u8()?);
            let raw: [u8; EVENT_PAYLOAD_MAX] = r.array()?;
            let payload = raw
                .get(..len)
                .and_then(Payload::new)
                .ok_or(ImageError::Corrupt)?;
            let e = QueuedEvent::new(seq, kind, time_ms, flags, payload);
            if !queue.restore_event(e) {
                return Err(ImageError::Corrupt);
            }
        }
        if !r.buf.is_empty() {
            return Err(ImageError::Corrupt);
        }
        Ok(Flash {
            queue,
            bond: bonded.then_some(BondKey(key)),
            rtc: Rtc {
                utc_offset_ms: rtc_set.then_some(off),
            },
            boots,
            session_next,
            rejected_commands,
        })
    }
}

struct Writer<'a> {
    out: &'a mut [u8; IMAGE_MAX],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        if let Some(d) = self.out.get_mut(self.pos..end) {
            d.copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ImageError> {
        let (head, rest) = self.buf.split_at_checked(N).ok_or(ImageError::Truncated)?;
        self.buf = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ImageError> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ImageError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, ImageError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_and_refuses_damage() {
        let mut f = Flash::bonded(BondKey([9; 16]));
        f.boots = 3;
        f.rtc.utc_offset_ms = Some(-5);
        for k in [EventKind::Single, EventKind::Fall, EventKind::LowBattery] {
            f.queue
                .push(64, k, 1234, 1, Payload::new(&[1, 2]).unwrap())
                .unwrap();
        }
        let mut buf = [0u8; IMAGE_MAX];
        let n = f.write_image(&mut buf);
        assert_eq!(n, IMAGE_HEAD_LEN + 3 * IMAGE_EVENT_LEN);
        assert_eq!(Flash::read_image(&buf[..n]), Ok(f.clone()));
        for cut in 0..n {
            assert!(Flash::read_image(&buf[..cut]).is_err(), "{cut}");
        }
        let mut bad = buf;
        bad[0] = 9;
        assert_eq!(Flash::read_image(&bad[..n]), Err(ImageError::Version(9)));
        let full = {
            let mut f = Flash::factory();
            for _ in 0..QUEUE_CAPACITY {
                f.queue
                    .push(QUEUE_CAPACITY, EventKind::Single, 0, 0, Payload::EMPTY)
                    .unwrap();
            }
            f
        };
        assert_eq!(full.write_image(&mut buf), IMAGE_MAX);
        assert_eq!(Flash::read_image(&buf), Ok(full));
    }
}
