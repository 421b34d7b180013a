//! Signing-key material: generation for every algorithm, the encoding/decoding keys
//! built from it, and the public JWK published in the tenant's JWKS.
use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair as RsaKeyPair, KeySize},
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
        Ed25519KeyPair,
    },
};
use jsonwebtoken::{DecodingKey, EncodingKey, jwk::Jwk};
use std::fmt;
use zeroize::Zeroizing;

use crate::{Error, Result, algorithm::SigningAlgorithm, master_key::fill_random};

/// Private key material: an HS secret, or a PKCS#8 PEM private key.
#[derive(Clone)]
pub struct KeyMaterial {
    /// The algorithm the key signs with.
    pub algorithm: SigningAlgorithm,
    /// Zeroed when dropped.
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial({}, bytes: <hidden>)", self.algorithm)
    }
}

/// Shortest HS secret accepted on import, bytes (RFC 7518 §3.2 asks for at least
/// the hash size; 256 bits is the least of them).
pub const MIN_IMPORTED_SECRET: usize = 32;
/// Largest RSA modulus accepted on import, bits (larger keys only make every
/// verification slower).
pub const MAX_RSA_BITS: usize = 4096;

/// The shortest secret an HS algorithm takes: its hash size (RFC 7518 §3.2).
pub fn min_secret_bytes(algorithm: SigningAlgorithm) -> usize {
    match algorithm {
        SigningAlgorithm::HS384 => 48,
        SigningAlgorithm::HS512 => 64,
        _ => MIN_IMPORTED_SECRET,
    }
}
/// Longest imported secret or PEM, bytes.
pub const MAX_IMPORTED_BYTES: usize = 16 * 1024;

fn crypto_err(what: &str) -> Error {
    Error::Internal(format!("key generation failed: {what}"))
}

fn to_pem(der: &[u8]) -> Vec<u8> {
    pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec())).into_bytes()
}

impl KeyMaterial {
    /// Generates a new key: 64-byte HS secrets, RSA-2048, P-256, P-384 or Ed25519.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self> {
        use SigningAlgorithm as A;
        let bytes = match algorithm {
            A::HS256 | A::HS384 | A::HS512 => {
                let mut secret = vec![0u8; 64];
                fill_random(&mut secret);
                secret
            }
            A::RS256 => {
                let kp = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| crypto_err("rsa"))?;
                let der = kp.as_der().map_err(|_| crypto_err("rsa der"))?;
                to_pem(der.as_ref())
            }
            A::ES256 | A::ES384 => {
                let alg = if algorithm == A::ES256 {
                    &ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &ECDSA_P384_SHA384_FIXED_SIGNING
                };
                let kp = EcdsaKeyPair::generate(alg).map_err(|_| crypto_err("ec"))?;
                let doc = kp.to_pkcs8v1().map_err(|_| crypto_err("ec pkcs8"))?;
                to_pem(doc.as_ref())
            }
            A::EdDSA => {
                let kp = Ed25519KeyPair::generate().map_err(|_| crypto_err("ed25519"))?;
                let doc = kp.to_pkcs8v1().map_err(|_| crypto_err("ed25519 pkcs8"))?;
                to_pem(doc.as_ref())
            }
        };
        Ok(Self {
            algorithm,
            bytes: bytes.into(),
        })
    }

    /// Rebuilds material from its stored bytes (after decryption) and checks it.
    pub fn from_bytes(
        algorithm: SigningAlgorithm,
        bytes: impl Into<Zeroizing<Vec<u8>>>,
    ) -> Result<Self> {
        let material = Self {
            algorithm,
            bytes: bytes.into(),
        };
        material.encoding_key()?;
        Ok(material)
    }

    /// Material an operator brings (e.g. a Django app's simplejwt `SIGNING_KEY`): an
    /// HS secret of at least [`MIN_IMPORTED_SECRET`] bytes, or a PEM private key of
    /// the algorithm's type, proven by signing a probe and verifying it with the
    /// public JWK derived from it. Errors name the request field, never the material.
    pub fn import(algorithm: SigningAlgorithm, bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        if algorithm.is_symmetric() {
            let min = min_secret_bytes(algorithm);
            if !(min..=MAX_IMPORTED_BYTES).contains(&bytes.len()) {
                return Err(Error::field(
                    "secret",
                    format!("must be {min} to {MAX_IMPORTED_BYTES} bytes for {algorithm}"),
                ));
            }
            return Ok(Self { algorithm, bytes });
        }
        let field = "private_key";
        let pem = pem::parse(&bytes)
            .ok()
            .filter(|_| bytes.len() <= MAX_IMPORTED_BYTES)
            .ok_or_else(|| Error::field(field, "must be a PEM-encoded private key"))?;
        if !pem.tag().ends_with("PRIVATE KEY") || pem.tag().contains("ENCRYPTED") {
            return Err(Error::field(
                field,
                "must be an unencrypted PEM private key (PKCS#8 \"PRIVATE KEY\")",
            ));
        }
        if algorithm == SigningAlgorithm::RS256
            && RsaKeyPair::from_pkcs8(pem.contents())
                .or_else(|_| RsaKeyPair::from_der(pem.contents()))
                .is_ok_and(|k| k.public_modulus_len() * 8 > MAX_RSA_BITS)
        {
            return Err(Error::field(
                field,
                format!("must be an RSA key of at most {MAX_RSA_BITS} bits"),
            ));
        }
        let material = Self { algorithm, bytes };
        material.probe().map_err(|_| {
            Error::field(
                field,
                format!("is not a {algorithm} private key in PKCS#8 PEM (openssl pkcs8 -topk8 -nocrypt converts one)"),
            )
        })?;
        Ok(material)
    }

    /// Signs a probe and verifies it the way resource servers will.
    fn probe(&self) -> Result<()> {
        let alg = self.algorithm.jwt();
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &serde_json::json!({"probe": true}),
            &self.encoding_key()?,
        )
        .map_err(|e| Error::Internal(format!("probe: {e}")))?;
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&token, &self.decoding_key()?, &validation)
            .map_err(|e| Error::Internal(format!("probe: {e}")))?;
        Ok(())
    }

    /// The raw bytes to encrypt and store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key that signs tokens.
    pub fn encoding_key(&self) -> Result<EncodingKey> {
        use SigningAlgorithm as A;
        let bad = |_| Error::Internal(format!("stored {} key is malformed", self.algorithm));
        match self.algorithm {
            A::HS256 | A::HS384 | A::HS512 => EncodingKey::from_secret(&self.bytes).map_err(bad),
            A::RS256 => EncodingKey::from_rsa_pem(&self.bytes).map_err(bad),
            A::ES256 | A::ES384 => EncodingKey::from_ec_pem(&self.bytes).map_err(bad),
            A::EdDSA => EncodingKey::from_ed_pem(&self.bytes).map_err(bad),
        }
    }

    /// The public JWK (with `kid`, `alg`, `use: sig`), or `None` for HS secrets, which
    /// are never published.
    pub fn public_jwk(&self, kid: &str) -> Result<Option<Jwk>> {
        if self.algorithm.is_symmetric() {
            return Ok(None);
        }
        let mut jwk = Jwk::from_encoding_key(&self.encoding_key()?, self.algorithm.jwt())
            .map_err(|e| Error::Internal(format!("public jwk: {e}")))?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        Ok(Some(jwk))
    }

    /// The key that verifies tokens: the secret for HS, the public key otherwise.
    pub fn decoding_key(&self) -> Result<DecodingKey> {
        if self.algorithm.is_symmetric() {
            return DecodingKey::from_secret(&self.bytes).map_err(|_| {
                Error::Internal(format!("stored {} key is malformed", self.algorithm))
            });
        }
        let jwk = self
            .public_jwk("")?
            .ok_or_else(|| Error::Internal("no public key".into()))?;
        decoding_key_from_jwk(&jwk)
    }
}

/// A verifying key from a published JWK (what a resource server does).
pub fn decoding_key_from_jwk(jwk: &Jwk) -> Result<DecodingKey> {
    DecodingKey::from_jwk(jwk).map_err(|e| Error::Internal(format!("jwk: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_and_reloads() {
        for alg in SigningAlgorithm::ALL {
            let m = KeyMaterial::generate(alg).unwrap_or_else(|e| panic!("{alg}: {e}"));
            let again = KeyMaterial::from_bytes(alg, m.as_bytes().to_vec());
            assert!(again.is_ok(), "{alg}");
            assert!(m.decoding_key().is_ok(), "{alg}");
            let jwk = m
                .public_jwk("key_1")
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(jwk.is_none(), alg.is_symmetric(), "{alg}");
            if let Some(jwk) = jwk {
                let text = serde_json::to_string(&jwk).unwrap_or_default();
                assert!(text.contains("\"kid\":\"key_1\""), "{text}");
                assert!(!text.contains("\"d\""), "private part leaked: {text}");
            }
        }
    }

    #[test]
    fn import_takes_pkcs8_pems_and_long_secrets_only() {
        for alg in SigningAlgorithm::ALL {
            let m = KeyMaterial::generate(alg).unwrap_or_else(|e| panic!("{alg}: {e}"));
            let again = KeyMaterial::import(alg, m.as_bytes().to_vec());
            assert!(again.is_ok(), "{alg}: {again:?}");
        }
        let ec = KeyMaterial::generate(SigningAlgorithm::ES256).unwrap_or_else(|e| panic!("{e}"));
        let field_of = |r: Result<KeyMaterial>| match r {
            Err(Error::Validation { errors, .. }) => errors.keys().cloned().collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        // A P-256 key is not an ES384 or RS256 key, garbage is no key, short secrets are weak.
        for alg in [
            SigningAlgorithm::ES384,
            SigningAlgorithm::RS256,
            SigningAlgorithm::EdDSA,
        ] {
            let r = KeyMaterial::import(alg, ec.as_bytes().to_vec());
            assert_eq!(field_of(r), vec!["private_key"], "{alg}");
        }
        let r = KeyMaterial::import(SigningAlgorithm::ES256, b"not a pem".to_vec());
        assert_eq!(field_of(r), vec!["private_key"]);
        let r = KeyMaterial::import(SigningAlgorithm::HS256, b"too short".to_vec());
        assert_eq!(field_of(r), vec!["secret"]);
        // RFC 7518 §3.2: at least the hash size.
        for (alg, min) in [
            (SigningAlgorithm::HS256, 32),
            (SigningAlgorithm::HS384, 48),
            (SigningAlgorithm::HS512, 64),
        ] {
            let r = KeyMaterial::import(alg, vec![b'k'; min - 1]);
            assert_eq!(field_of(r), vec!["secret"], "{alg}");
            assert!(KeyMaterial::import(alg, vec![b'k'; min]).is_ok(), "{alg}");
        }
        // An RSA key past 4096 bits is refused (made once with openssl genpkey), in
        // PKCS#8 and in PKCS#1 (`openssl rsa -traditional`), which jsonwebtoken also reads.
        for big in [
            &include_bytes!("rsa8192.test.pem")[..],
            &include_bytes!("rsa8192-pkcs1.test.pem")[..],
        ] {
            let r = KeyMaterial::import(SigningAlgorithm::RS256, big.to_vec());
            assert!(format!("{r:?}").contains("at most 4096 bits"), "{r:?}");
            assert_eq!(field_of(r), vec!["private_key"]);
        }
        let detail = format!(
            "{:?}",
            KeyMaterial::import(SigningAlgorithm::ES384, ec.as_bytes().to_vec())
        );
        assert!(
            !detail.contains("BEGIN"),
            "the material is never echoed: {detail}"
        );
    }

    #[test]
    fn debug_hides_material_and_garbage_is_rejected() {
        let m = KeyMaterial::generate(SigningAlgorithm::HS256).unwrap_or_else(|e| panic!("{e}"));
        assert!(format!("{m:?}").contains("<hidden>"));
        assert!(KeyMaterial::from_bytes(SigningAlgorithm::ES256, b"garbage".to_vec()).is_err());
        assert!(KeyMaterial::from_bytes(SigningAlgorithm::RS256, b"garbage".to_vec()).is_err());
    }
}
