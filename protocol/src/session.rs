//! Sessions: what makes every command and every event of protocol version 2 fresh.
//!
//! A session is opened on each connection: the phone writes [`ToButton::Hello`] with a
//! fresh 8-byte nonce; the button answers [`ToPhone::Offer`] with a session id it never
//! reuses (a counter kept in flash), its own nonce and a tag that proves it holds the
//! bond: one HMAC gives both ([`Session::begin`]; the nonce is keyed, so unpredictable
//! without the bond). Then:
//!
//! - every phone → button command is [`Session::sign`]ed: HMAC-SHA256 under the command
//!   key over both nonces, the session id, a counter that strictly increases within the
//!   session, and the command. The button refuses any other write, and a command of an
//!   earlier session (other nonces) or with a counter it has seen (replay);
//! - every event frame is [`Session::seal`]ed: AES-128-CCM (16-byte tag, 13-byte
//!   nonce; the cipher of BLE's own link layer, and AES is in hardware on the usual
//!   BLE SoCs) under the event key, nonce = session id ‖ frame index ‖ 0 (unique: the
//!   id is never reused and the index only grows within a session), associated data =
//!   version, index, both nonces and the id. The kind, flags, sequence number, time
//!   and payload are all encrypted. A frame captured in an earlier session does not
//!   open in a later one, whatever the phone remembers (an app reinstall or a restored
//!   backup cannot make it acceptable again).

use aes::Aes128Enc;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U13, U16};
use ccm::Ccm;

use crate::event::{EventFrame, MAX_PLAINTEXT_LEN};
use crate::keys::{ct_eq, Keys};
use crate::wire::{SealedBody, ToButton, ToPhone, MAX_SEALED_LEN, WIRE_VERSION};
use crate::{Command, ProtocolError};

/// Length of a session nonce.
pub const NONCE_LEN: usize = 8;
/// Length of the truncated HMAC of commands and offers.
pub const TAG_LEN: usize = 8;
/// Length of the CCM tag of sealed frames.
pub const SEALED_TAG_LEN: usize = 16;

/// Length of the CCM nonce (id ‖ index ‖ 0).
const AEAD_NONCE_LEN: usize = 13;

/// AES-128-CCM with a 16-byte tag and a 13-byte nonce.
type EventCipher = Ccm<Aes128Enc, U16, U13>;

/// Both halves of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// The button's session id.
    pub id: u32,
    /// The phone's nonce (from `Hello`).
    pub phone_nonce: [u8; NONCE_LEN],
    /// The button's nonce (from `Offer`).
    pub button_nonce: [u8; NONCE_LEN],
}

impl Session {
    /// The button's side: session `id` answering `phone_nonce`, and its offer. One
    /// HMAC under the command key over the phone's nonce and the id ([`offer_mac`])
    /// gives both the button's nonce (unpredictable without the bond, distinct for every
    /// id) and the offer's tag (proof of the bond, fresh for this `Hello`).
    pub fn begin(keys: &Keys, id: u32, phone_nonce: [u8; NONCE_LEN]) -> (Session, ToPhone) {
        let (button_nonce, tag) = offer_mac(keys, phone_nonce, id);
        let s = Session {
            id,
            phone_nonce,
            button_nonce,
        };
        let offer = ToPhone::Offer {
            session_id: id,
            button_nonce,
            tag,
        };
        (s, offer)
    }

    /// The phone's check of an offer answering its `phone_nonce`: the session, or `None`
    /// when the nonce and the tag are not the bonded button's (constant-time).
    pub fn accept_offer(
        keys: &Keys,
        phone_nonce: [u8; NONCE_LEN],
        session_id: u32,
        button_nonce: [u8; NONCE_LEN],
        tag: &[u8],
    ) -> Option<Session> {
        let (nonce, expected) = offer_mac(keys, phone_nonce, session_id);
        // Both compared, whatever the first gives (`&`, not `&&`).
        let ok = ct_eq(&nonce, &button_nonce) & ct_eq(&expected, tag);
        ok.then_some(Session {
            id: session_id,
            phone_nonce,
            button_nonce,
        })
    }

    fn command_tag(&self, keys: &Keys, counter: u32, command: &[u8]) -> [u8; TAG_LEN] {
        keys.command_tag(&[
            b"command",
            &self.phone_nonce,
            &self.button_nonce,
            &self.id.to_le_bytes(),
            &counter.to_le_bytes(),
            command,
        ])
    }

    /// The signed message carrying `command` with `counter`.
    pub fn sign(&self, keys: &Keys, counter: u32, command: Command) -> ToButton {
        let (buf, len) = command.encode_array();
        let tag = self.command_tag(keys, counter, buf.get(..len).unwrap_or(&buf));
        ToButton::Signed {
            counter,
            command,
            tag,
        }
    }

    /// Whether `tag` authenticates `command` with `counter` in this session
    /// (constant-time). The caller also checks that the counter is new.
    pub fn verify(&self, keys: &Keys, counter: u32, command: &Command, tag: &[u8]) -> bool {
        let (buf, len) = command.encode_array();
        let bytes = buf.get(..len).unwrap_or(&buf);
        ct_eq(&self.command_tag(keys, counter, bytes), tag)
    }

    /// The AEAD nonce (id ‖ index ‖ 0) and associated data (version, type, index, both
    /// nonces, id) of frame `index`.
    fn aead_parts(&self, index: u32) -> ([u8; AEAD_NONCE_LEN], [u8; AAD_LEN]) {
        let mut nonce = [0u8; AEAD_NONCE_LEN];
        let mut aad = [0u8; AAD_LEN];
        let (id, index) = (self.id.to_le_bytes(), index.to_le_bytes());
        let nonce_parts: [&[u8]; 2] = [&id, &index];
        let aad_parts: [&[u8]; 5] = [
            &[WIRE_VERSION, 0x41],
            &index,
            &self.phone_nonce,
            &self.button_nonce,
            &id,
        ];
        concat_into(&mut nonce, &nonce_parts);
        concat_into(&mut aad, &aad_parts);
        (nonce, aad)
    }

    /// Encrypt `frame` as the session's frame number `index` (the caller never uses an
    /// index twice in a session). No heap: the body is inline ([`SealedBody`]).
    pub fn seal(
        &self,
        keys: &Keys,
        index: u32,
        frame: &EventFrame,
    ) -> Result<ToPhone, ProtocolError> {
        // The plaintext is written into the body and encrypted there.
        let mut body = SealedBody::new();
        frame.write(&mut body)?;
        let (nonce, aad) = self.aead_parts(index);
        let cipher = EventCipher::new(&keys.event.into());
        let tag = cipher
            .encrypt_in_place_detached(&nonce.into(), &aad, body.as_mut_slice())
            .map_err(|_| ProtocolError::TooLong {
                max: MAX_PLAINTEXT_LEN,
                got: body.len(),
            })?;
        body.extend_from_slice(&tag)?;
        Ok(ToPhone::Sealed { index, body })
    }

    /// Decrypt a sealed frame of this session: `Ok(None)` when it does not authenticate
    /// (another key, another session, a changed byte); an error when the plaintext does
    /// not parse, or when `body` is longer than any frame ([`MAX_SEALED_LEN`]; the
    /// decoder of [`ToPhone`] already refuses such a message). No heap: the plaintext is
    /// decrypted into a buffer on the stack.
    pub fn open(
        &self,
        keys: &Keys,
        index: u32,
        body: &[u8],
    ) -> Result<Option<EventFrame>, ProtocolError> {
        let Some((ct, tag)) = body.split_last_chunk::<SEALED_TAG_LEN>() else {
            return Ok(None);
        };
        let mut buf = [0u8; MAX_PLAINTEXT_LEN];
        let plain = buf.get_mut(..ct.len()).ok_or(ProtocolError::TooLong {
            max: MAX_SEALED_LEN,
            got: body.len(),
        })?;
        plain.copy_from_slice(ct);
        let (nonce, aad) = self.aead_parts(index);
        let cipher = EventCipher::new(&keys.event.into());
        if cipher
            .decrypt_in_place_detached(&nonce.into(), &aad, plain, &(*tag).into())
            .is_err()
        {
            return Ok(None);
        }
        EventFrame::from_plaintext(plain).map(Some)
    }
}

/// HMAC-SHA256 under the command key over `"offer"`, the phone's nonce and the session
/// id: its first 8 bytes are the button's nonce, the next 8 the offer's tag.
fn offer_mac(
    keys: &Keys,
    phone_nonce: [u8; NONCE_LEN],
    id: u32,
) -> ([u8; NONCE_LEN], [u8; TAG_LEN]) {
    let mac: [u8; NONCE_LEN + TAG_LEN] =
        keys.command_tag(&[b"offer", &phone_nonce, &id.to_le_bytes()]);
    let mut nonce = [0u8; NONCE_LEN];
    let mut tag = [0u8; TAG_LEN];
    let (n, t) = mac.split_at(NONCE_LEN);
    nonce.copy_from_slice(n);
    tag.copy_from_slice(t);
    (nonce, tag)
}

/// Associated data of a sealed frame: version, type, index, both nonces, id.
const AAD_LEN: usize = 2 + 4 + NONCE_LEN + NONCE_LEN + 4;

/// Copy `parts` one after the other to the start of `out` (what does not fit is cut:
/// the callers size `out` to the sum).
fn concat_into(out: &mut [u8], parts: &[&[u8]]) {
    for (d, s) in out.iter_mut().zip(parts.iter().flat_map(|p| p.iter())) {
        *d = *s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FLAG_CLOCK_SYNCED;
    use crate::{BondKey, EventKind, VibrationPattern};

    fn session(keys: &Keys, id: u32) -> Session {
        Session::begin(keys, id, [id as u8; 8]).0
    }

    fn frame() -> EventFrame {
        EventFrame {
            kind: EventKind::Single,
            flags: FLAG_CLOCK_SYNCED,
            seq: 12,
            time_ms: 1_767_603_600_000,
            payload: Default::default(),
        }
    }

    fn sealed(m: ToPhone) -> (u32, Vec<u8>) {
        match m {
            ToPhone::Sealed { index, body } => (index, body.to_vec()),
            other => panic!("not sealed: {other:?}"),
        }
    }

    #[test]
    fn offer_proves_the_bond() {
        let keys = BondKey([1; 16]).keys();
        let (s, offer) = Session::begin(&keys, 5, [5; 8]);
        let ToPhone::Offer {
            session_id,
            button_nonce,
            tag,
        } = offer
        else {
            panic!("offer")
        };
        assert_eq!(
            Session::accept_offer(&keys, s.phone_nonce, session_id, button_nonce, &tag),
            Some(s)
        );
        let other = BondKey([2; 16]).keys();
        assert_eq!(
            Session::accept_offer(&other, s.phone_nonce, session_id, button_nonce, &tag),
            None
        );
        assert_eq!(
            Session::accept_offer(&keys, [9; 8], session_id, button_nonce, &tag),
            None,
            "an offer answers one phone nonce only"
        );
        let mut nonce = button_nonce;
        nonce[0] ^= 1;
        assert_eq!(
            Session::accept_offer(&keys, s.phone_nonce, session_id, nonce, &tag),
            None,
            "the button's nonce is part of the proof"
        );
        assert_eq!(
            Session::accept_offer(&keys, s.phone_nonce, 6, button_nonce, &tag),
            None,
            "and so is the id"
        );
        let nonces = [
            s.button_nonce,
            Session::begin(&keys, 6, [5; 8]).0.button_nonce,
            Session::begin(&keys, 5, [6; 8]).0.button_nonce,
            Session::begin(&other, 5, [5; 8]).0.button_nonce,
        ];
        for (i, a) in nonces.iter().enumerate() {
            for b in nonces.iter().skip(i + 1) {
                assert_ne!(a, b, "a new nonce for every id, phone nonce and bond");
            }
        }
    }

    #[test]
    fn commands_bind_to_session_counter_and_key() {
        let keys = BondKey([1; 16]).keys();
        let s = session(&keys, 5);
        let cmd = Command::Vibrate(VibrationPattern::Sent);
        let ToButton::Signed {
            counter,
            command,
            tag,
        } = s.sign(&keys, 3, cmd.clone())
        else {
            panic!("signed")
        };
        assert!(s.verify(&keys, counter, &command, &tag));
        assert!(!s.verify(&keys, 4, &command, &tag));
        assert!(!session(&keys, 6).verify(&keys, 3, &command, &tag));
        assert!(!s.verify(&BondKey([2; 16]).keys(), 3, &command, &tag));
        assert!(!s.verify(&keys, 3, &Command::Ack { seq: 1 }, &tag));
    }

    #[test]
    fn frames_open_only_in_their_session_and_hide_their_contents() {
        let keys = BondKey([1; 16]).keys();
        let s = session(&keys, 5);
        let (index, body) = sealed(s.seal(&keys, 0, &frame()).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(s.open(&keys, index, &body), Ok(Some(frame())));
        assert_eq!(session(&keys, 6).open(&keys, index, &body), Ok(None));
        assert_eq!(s.open(&keys, index + 1, &body), Ok(None));
        assert_eq!(s.open(&BondKey([2; 16]).keys(), index, &body), Ok(None));
        let mut bad = body.clone();
        bad[0] ^= 1;
        assert_eq!(s.open(&keys, index, &bad), Ok(None));
        assert_eq!(s.open(&keys, index, &body[..3]), Ok(None));
        // Kind, flags, sequence number and time are not in clear.
        let plain = frame().plaintext();
        assert_eq!(body.len(), plain.len() + SEALED_TAG_LEN);
        assert_ne!(&body[..plain.len()], &plain[..]);
    }

    #[test]
    fn a_new_index_gives_a_new_ciphertext() {
        let keys = BondKey([1; 16]).keys();
        let s = session(&keys, 5);
        let a = sealed(s.seal(&keys, 0, &frame()).unwrap_or_else(|e| panic!("{e}"))).1;
        let b = sealed(s.seal(&keys, 1, &frame()).unwrap_or_else(|e| panic!("{e}"))).1;
        assert_ne!(a, b);
    }
}
