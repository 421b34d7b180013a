//! A tenant's signing key, parsed once. `jsonwebtoken::encode` parses an asymmetric
//! key pair from its DER bytes again for every token it signs, which is a third of an
//! ES256 signature's cost (`bench-sign` in tests/bench measures both ways). So the
//! asymmetric keys are parsed here once, from the very bytes jsonwebtoken would parse,
//! and sign the same compact JWS jsonwebtoken writes (base64url of the header's and
//! the claims' JSON, then of the signature); HMAC keys, which need no parsing, still
//! sign through jsonwebtoken.
use aws_lc_rs::{
    error::Unspecified,
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
        Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

use crate::{Error, Result, algorithm::SigningAlgorithm, key_material::KeyMaterial};

/// The key that signs a tenant's tokens, ready to sign without parsing, and the one
/// algorithm it signs with.
pub(crate) struct SigningKey {
    /// The algorithm, which every header it signs must name.
    alg: jsonwebtoken::Algorithm,
    /// The key.
    pair: Pair,
}

/// A key in the form that signs.
enum Pair {
    /// An HS secret, signed through jsonwebtoken.
    Hmac(EncodingKey),
    /// An ES256 or ES384 key pair.
    Ecdsa(EcdsaKeyPair),
    /// An Ed25519 key pair.
    Ed25519(Ed25519KeyPair),
    /// An RS256 key pair.
    Rsa(RsaKeyPair),
}

impl SigningKey {
    /// Parses `material` once, as jsonwebtoken would for each signature.
    pub(crate) fn new(material: &KeyMaterial) -> Result<Self> {
        use SigningAlgorithm as A;
        let key = material.encoding_key()?;
        let bad = || Error::Internal(format!("stored {} key is malformed", material.algorithm));
        let der = key.as_bytes();
        let pair = match material.algorithm {
            A::ES256 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| bad())?,
            ),
            A::ES384 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, der)
                    .map_err(|_| bad())?,
            ),
            A::EdDSA => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(|_| bad())?),
            A::RS256 => Pair::Rsa(RsaKeyPair::from_der(der).map_err(|_| bad())?),
            A::HS256 | A::HS384 | A::HS512 => Pair::Hmac(key),
        };
        Ok(Self {
            alg: material.algorithm.jwt(),
            pair,
        })
    }

    /// The algorithm every header it signs names.
    pub(crate) fn algorithm(&self) -> jsonwebtoken::Algorithm {
        self.alg
    }

    /// The compact JWS of `header` and `claims`; a header naming another algorithm
    /// than the key's is refused, as jsonwebtoken refuses it.
    pub(crate) fn sign<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String> {
        if header.alg != self.alg {
            return Err(failed("the header names another algorithm than the key's"));
        }
        match &self.pair {
            Pair::Hmac(key) => jsonwebtoken::encode(header, claims, key).map_err(failed),
            Pair::Ecdsa(pair) => compact(header, claims, |m| {
                Ok(pair.sign(&SystemRandom::new(), m)?.as_ref().to_vec())
            }),
            Pair::Ed25519(pair) => {
                compact(header, claims, |m| Ok(pair.try_sign(m)?.as_ref().to_vec()))
            }
            Pair::Rsa(pair) => compact(header, claims, |m| {
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), m, &mut out)?;
                Ok(out)
            }),
        }
    }
}

/// The error of a signature that could not be made.
fn failed(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("signing failed: {e}"))
}

/// `header.claims.signature`, each part base64url without padding, as RFC 7515's
/// compact serialization and jsonwebtoken write it.
fn compact<T: Serialize>(
    header: &Header,
    claims: &T,
    sign: impl FnOnce(&[u8]) -> std::result::Result<Vec<u8>, Unspecified>,
) -> Result<String> {
    let header = serde_json::to_vec(header).map_err(failed)?;
    let claims = serde_json::to_vec(claims).map_err(failed)?;
    // Base64 grows by 4/3; an RSA signature of 8192 bits is 1 KiB.
    let mut token = String::with_capacity((header.len() + claims.len()) * 4 / 3 + 1400);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
    let signature = sign(token.as_bytes()).map_err(failed)?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}
