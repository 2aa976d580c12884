//! Secrets at rest: XChaCha20-Poly1305 (RustCrypto) under `security.sealing_key`, a
//! fresh random nonce per seal, and the record's identity as associated data, so a
//! sealed value copied onto another record does not open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::SecretString;
use std::fmt;

const NONCE_LEN: usize = 24;

pub struct Sealer {
    cipher: XChaCha20Poly1305,
    /// `security.previous_sealing_key`: opens what is not yet re-sealed; never seals.
    previous: Option<XChaCha20Poly1305>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "a sealed value could not be opened: it was sealed under another key or for another record"
    )]
    Open,
    #[error("sealing failed")]
    Seal,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            previous: None,
        }
    }

    /// Also opens what was sealed under `key`, while secrets are being re-sealed.
    pub fn with_previous(self, key: &[u8; 32]) -> Self {
        Self {
            previous: Some(XChaCha20Poly1305::new(key.into())),
            ..self
        }
    }

    /// A fresh random key, base64-encoded, as `cutover keygen` prints it.
    pub fn generate_key() -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// `nonce || ciphertext+tag`.
    pub fn seal(&self, plaintext: &str, identity: &str) -> Result<Vec<u8>, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: identity.as_bytes(),
                },
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], identity: &str) -> Result<SecretString, SealError> {
        open_with(&self.cipher, sealed, identity).or_else(|e| match &self.previous {
            Some(previous) => open_with(previous, sealed, identity),
            None => Err(e),
        })
    }
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    sealed: &[u8],
    identity: &str,
) -> Result<SecretString, SealError> {
    if sealed.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let plain = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: identity.as_bytes(),
            },
        )
        .map_err(|_| SealError::Open)?;
    String::from_utf8(plain)
        .map(SecretString::from)
        .map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn opens_what_it_sealed_for_the_same_record_only() {
        let sealer = Sealer::new(&[1u8; 32]);
        let sealed = sealer
            .seal("client-secret", "attempt:1:client_secret")
            .expect("seal");
        assert!(
            !sealed.windows(6).any(|w| w == b"client"),
            "no plaintext at rest"
        );
        let opened = sealer
            .open(&sealed, "attempt:1:client_secret")
            .expect("open");
        assert_eq!(opened.expose_secret(), "client-secret");
        assert_eq!(
            sealer.open(&sealed, "attempt:2:client_secret").err(),
            Some(SealError::Open)
        );
        assert_eq!(
            Sealer::new(&[2u8; 32])
                .open(&sealed, "attempt:1:client_secret")
                .err(),
            Some(SealError::Open)
        );
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert_eq!(
            sealer.open(&tampered, "attempt:1:client_secret").err(),
            Some(SealError::Open)
        );
        assert_eq!(sealer.open(&[0u8; 5], "x").err(), Some(SealError::Open));
    }

    #[test]
    fn with_a_previous_key_both_open_and_only_the_new_one_seals() {
        let old = Sealer::new(&[1u8; 32]);
        let sealed_before = old.seal("secret", "id").expect("seal");
        let both = Sealer::new(&[2u8; 32]).with_previous(&[1u8; 32]);
        assert_eq!(
            both.open(&sealed_before, "id")
                .expect("open")
                .expose_secret(),
            "secret"
        );
        let sealed_now = both.seal("secret", "id").expect("seal");
        assert_eq!(old.open(&sealed_now, "id").err(), Some(SealError::Open));
        assert!(Sealer::new(&[2u8; 32]).open(&sealed_now, "id").is_ok());
        assert_eq!(
            both.open(&sealed_before, "other").err(),
            Some(SealError::Open)
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = Sealer::new(&[1u8; 32]);
        assert_ne!(
            sealer.seal("same", "id").ok(),
            sealer.seal("same", "id").ok()
        );
    }

    #[test]
    fn generated_keys_are_32_random_bytes() {
        use base64::Engine;
        let a = Sealer::generate_key();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .expect("base64");
        assert_eq!(bytes.len(), 32);
        assert_ne!(a, Sealer::generate_key());
        assert!(!format!("{:?}", Sealer::new(&[1u8; 32])).contains('1'));
    }
}
