//! Pairing without the key on the air: X25519 key agreement, a six-digit confirmation
//! value the wearer compares, and key confirmation.
//!
//! 1. The phone writes [`crate::wire::ToButton::PairRequest`] with its ephemeral public
//!    key. A button accepts it only in pairing mode: unbonded from the factory, or after
//!    the physical pairing action (the firmware decides; see `device-model`).
//! 2. The button indicates [`crate::wire::ToPhone::PairResponse`] with its ephemeral
//!    public key. Both sides now compute the same [`Pairing`]: the long-term
//!    [`BondKey`] = HKDF-SHA256(salt `"alarm-button pairing v2"`, ikm = the X25519
//!    shared secret, info = phone public ‖ button public), and the [`ConfirmCode`].
//! 3. The wearer compares the code the phone shows with the one the button signals (a
//!    man in the middle would have two different shared secrets, hence two codes) and
//!    confirms on the phone, which then writes [`crate::wire::ToButton::PairConfirm`]
//!    with [`Pairing::phone_confirm`]; the button checks it, stores the bond and answers
//!    [`crate::wire::ToPhone::PairDone`] with [`Pairing::button_confirm`], which the
//!    phone checks before storing the bond.
//!
//! Someone who records every byte sees two public keys and two tags: without one of the
//! two private keys the shared secret, hence the bond, cannot be computed. Each pairing
//! uses fresh ephemeral keys (entropy from the host), so a new bond means new keys.

use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::keys::ct_eq;
use crate::keys::BondKey;
use crate::ProtocolError;

/// Length of an X25519 public key.
pub const PUBLIC_LEN: usize = 32;
/// Length of a key-confirmation tag.
pub const CONFIRM_TAG_LEN: usize = 16;

const SALT: &[u8] = b"alarm-button pairing v2";

/// One side's ephemeral key pair for one pairing.
pub struct PairingKeyPair {
    secret: StaticSecret,
    public: [u8; PUBLIC_LEN],
}

impl core::fmt::Debug for PairingKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PairingKeyPair(public {:02x?}..)", &self.public[..4])
    }
}

impl PairingKeyPair {
    /// A key pair from 32 bytes of the host's entropy (a hardware RNG on the button, the
    /// OS on the phone, a seeded stream in the simulator).
    pub fn from_entropy(entropy: [u8; 32]) -> Self {
        let secret = StaticSecret::from(entropy);
        let public = PublicKey::from(&secret).to_bytes();
        PairingKeyPair { secret, public }
    }

    /// The public key to send.
    pub fn public(&self) -> [u8; PUBLIC_LEN] {
        self.public
    }

    /// Agree with the other side's public key. `phone_public` and `button_public` name
    /// the two keys by role (one of them is this pair's own). Refuses a public key that
    /// gives an all-zero shared secret (a low-order point: the "secret" would be known).
    pub fn agree(
        &self,
        phone_public: &[u8; PUBLIC_LEN],
        button_public: &[u8; PUBLIC_LEN],
    ) -> Result<Pairing, ProtocolError> {
        let theirs = if *phone_public == self.public {
            button_public
        } else {
            phone_public
        };
        let shared = self.secret.diffie_hellman(&PublicKey::from(*theirs));
        if !shared.was_contributory() {
            return Err(ProtocolError::WeakKey);
        }
        let mut info = [0u8; 2 * PUBLIC_LEN];
        info[..PUBLIC_LEN].copy_from_slice(phone_public);
        info[PUBLIC_LEN..].copy_from_slice(button_public);
        let hk = Hkdf::<Sha256>::new(Some(SALT), shared.as_bytes());
        let mut key = [0u8; 16];
        let mut code = [0u8; 4];
        let ok = hk
            .expand_multi_info(&[&info[..], b"bond"], &mut key)
            .is_ok()
            && hk
                .expand_multi_info(&[&info[..], b"code"], &mut code)
                .is_ok();
        debug_assert!(ok, "HKDF output lengths are constants below the limit");
        Ok(Pairing {
            key: BondKey(key),
            code: ConfirmCode(u32::from_le_bytes(code) % 1_000_000),
            phone_public: *phone_public,
            button_public: *button_public,
        })
    }
}

/// The six-digit value both sides show for the wearer to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfirmCode(pub u32);

impl core::fmt::Display for ConfirmCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:06}", self.0 % 1_000_000)
    }
}

/// What one pairing established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    /// The new long-term key.
    pub key: BondKey,
    /// The value the wearer compares.
    pub code: ConfirmCode,
    phone_public: [u8; PUBLIC_LEN],
    button_public: [u8; PUBLIC_LEN],
}

impl Pairing {
    fn tag(&self, label: &[u8]) -> [u8; CONFIRM_TAG_LEN] {
        let keys = self.key.keys();
        keys.command_tag(&[label, &self.phone_public, &self.button_public])
    }

    /// The phone's key confirmation (sent once the wearer confirmed the code).
    pub fn phone_confirm(&self) -> [u8; CONFIRM_TAG_LEN] {
        self.tag(b"pair-confirm phone")
    }

    /// The button's key confirmation.
    pub fn button_confirm(&self) -> [u8; CONFIRM_TAG_LEN] {
        self.tag(b"pair-confirm button")
    }

    /// Whether `tag` is the phone's confirmation (constant-time).
    pub fn check_phone_confirm(&self, tag: &[u8]) -> bool {
        ct_eq(&self.phone_confirm(), tag)
    }

    /// Whether `tag` is the button's confirmation (constant-time).
    pub fn check_button_confirm(&self, tag: &[u8]) -> bool {
        ct_eq(&self.button_confirm(), tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u8, b: u8) -> (Pairing, Pairing) {
        let phone = PairingKeyPair::from_entropy([a; 32]);
        let button = PairingKeyPair::from_entropy([b; 32]);
        let (pp, bp) = (phone.public(), button.public());
        let on_phone = phone.agree(&pp, &bp).unwrap_or_else(|e| panic!("{e}"));
        let on_button = button.agree(&pp, &bp).unwrap_or_else(|e| panic!("{e}"));
        (on_phone, on_button)
    }

    #[test]
    fn both_sides_agree_and_confirm_each_other() {
        let (p, b) = pair(1, 2);
        assert_eq!(p, b);
        assert!(b.check_phone_confirm(&p.phone_confirm()));
        assert!(p.check_button_confirm(&b.button_confirm()));
        assert!(!p.check_button_confirm(&p.phone_confirm()));
        assert_eq!(p.code.to_string().len(), 6);
    }

    #[test]
    fn a_man_in_the_middle_gets_other_keys_and_codes() {
        let phone = PairingKeyPair::from_entropy([1; 32]);
        let button = PairingKeyPair::from_entropy([2; 32]);
        let mitm = PairingKeyPair::from_entropy([3; 32]);
        let with_phone = phone
            .agree(&phone.public(), &mitm.public())
            .unwrap_or_else(|e| panic!("{e}"));
        let with_button = button
            .agree(&mitm.public(), &button.public())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(with_phone.key, with_button.key);
        assert_ne!(with_phone.code, with_button.code);
    }

    #[test]
    fn fresh_entropy_means_a_fresh_bond() {
        assert_ne!(pair(1, 2).0.key, pair(1, 4).0.key);
    }

    #[test]
    fn low_order_public_keys_are_refused() {
        let phone = PairingKeyPair::from_entropy([1; 32]);
        assert_eq!(
            phone.agree(&phone.public(), &[0; 32]),
            Err(ProtocolError::WeakKey)
        );
    }
}
