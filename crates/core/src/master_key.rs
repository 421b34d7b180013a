//! The master key: encrypts private signing-key material at rest with AES-256-GCM.
//! Each ciphertext is bound to its key id (as associated data), so a row's
//! ciphertext cannot be swapped onto another key.
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::{Engine, engine::general_purpose::STANDARD};
use std::fmt;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The 32-byte key that encrypts every private key Tessera stores.
pub struct MasterKey(RandomizedNonceKey);

impl MasterKey {
    /// Parses the configured master key: 32 bytes in standard base64.
    pub fn from_base64(text: &str) -> std::result::Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map(Zeroizing::new)
            .map_err(|_| "is not valid base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!("must decode to 32 bytes, not {}", bytes.len()));
        }
        RandomizedNonceKey::new(&AES_256_GCM, &bytes)
            .map(MasterKey)
            .map_err(|_| "was rejected by AES-256-GCM".to_owned())
    }

    /// A fresh random master key, base64-encoded (for `tessera` set-up and tests).
    pub fn generate_base64() -> String {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(bytes.as_mut());
        STANDARD.encode(bytes.as_ref())
    }

    /// Encrypts `plaintext`, bound to `context` (the kid); returns base64(nonce ‖ ct ‖ tag).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| Error::Internal("master key seal failed".into()))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buf);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] produced for the same `context`; the
    /// plaintext is zeroed when dropped.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        let fail = || {
            Error::Internal(format!(
                "key {context} cannot be decrypted with the master key"
            ))
        };
        let raw = STANDARD.decode(sealed).map_err(|_| fail())?;
        if raw.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let len = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| fail())?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<hidden>)")
    }
}

/// Fills `buf` from the system CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    // SystemRandom only fails when the OS has no entropy source at all.
    if SystemRandom::new().fill(buf).is_err() {
        panic_free_abort();
    }
}

fn panic_free_abort() {
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = key();
        let sealed = k.seal("key_a", b"private").unwrap_or_default();
        assert!(!sealed.contains("private"));
        assert_eq!(
            k.open("key_a", &sealed).ok().as_deref().map(Vec::as_slice),
            Some(&b"private"[..])
        );
        // bound to its kid
        assert!(k.open("key_b", &sealed).is_err());
        // another master key cannot open it
        assert!(key().open("key_a", &sealed).is_err());
        // two seals of the same text differ (random nonce)
        assert_ne!(sealed, k.seal("key_a", b"private").unwrap_or_default());
    }

    #[test]
    fn rejects_bad_master_keys() {
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(MasterKey::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(format!("{:?}", key()).contains("hidden"));
    }
}
