//! Minting and verifying tokens against a tenant's key ring, following RFC 8725: the
//! algorithm comes from the key named by `kid` (never from the header alone), `none`
//! and mismatched algorithms fail, `iss`/`aud`/`exp`/`nbf`/`typ`/`token_type` are
//! checked with the tenant's bounded leeway. A tenant that moved from simplejwt may
//! also hold a legacy key, which alone verifies the kid-less tokens issued before.
use jsonwebtoken::{DecodingKey, Header, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use std::collections::HashMap;

use self::signing::SigningKey;
use crate::{
    Error, Result,
    claims::{LegacyClaims, MintClaims, TokenType, VerifiedClaims},
    ids::{SessionId, TokenId, UserId},
    key_material::KeyMaterial,
    settings::MAX_LEEWAY,
};

/// Longest token accepted for verification, in bytes; larger input is rejected unread.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// What every token of a tenant must say about where it comes from.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    /// Expected and written `iss`.
    pub issuer: String,
    /// Expected and written `aud` of access tokens, when set.
    pub audience: Option<String>,
    /// The `aud` of refresh tokens: the tenant's token endpoint URL, which no
    /// resource server is configured for, so none takes a refresh token for an
    /// access token.
    pub refresh_audience: String,
    /// Allowed clock skew, seconds (bounded by [`MAX_LEEWAY`]).
    pub leeway: u64,
}

struct Signer {
    kid: String,
    key: SigningKey,
}

struct Verifier {
    alg: jsonwebtoken::Algorithm,
    key: DecodingKey,
    /// For access tokens: the tenant's audience, when it has one.
    access: Validation,
    /// For refresh tokens: the refresh audience (or, for those minted before
    /// refresh tokens had one of their own, the tenant's audience or none).
    refresh: Validation,
}

/// The key that verifies tokens without a `kid` (those of the system a tenant moved
/// from), until a time.
struct Legacy {
    key: DecodingKey,
    validation: Validation,
    until: i64,
}

/// A tenant's keys ready for use: the active signer and every key that may still
/// verify, by kid. Built once per tenant load and shared behind an `Arc`.
pub struct KeyRing {
    policy: TokenPolicy,
    signer: Option<Signer>,
    verifiers: HashMap<String, Verifier>,
    legacy: Option<Legacy>,
}

/// What a verified token is: one of Tessera's, or a kid-less one of the system the
/// tenant moved from (its user is named by `user_id`, an external id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A Tessera token.
    Tessera(VerifiedClaims),
    /// A legacy (simplejwt) token, verified with the tenant's legacy key.
    Legacy(LegacyClaims),
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("issuer", &self.policy.issuer)
            .field("active", &self.signer.as_ref().map(|s| &s.kid))
            .field("kids", &self.verifiers.keys().collect::<Vec<_>>())
            .field("legacy_until", &self.legacy.as_ref().map(|l| l.until))
            .finish()
    }
}

/// What a new token says about its user and session.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// User id.
    pub user_id: &'a UserId,
    /// The user's id where they were imported from (a Django primary key): the
    /// `user_id` claim instead of the user id, when set.
    pub external_id: Option<&'a str>,
    /// The user's roles now.
    pub roles: &'a [String],
    /// Session id.
    pub sid: &'a SessionId,
    /// Tenant custom claims.
    pub custom: &'a Map<String, Value>,
}

impl KeyRing {
    /// An empty ring with a policy; add keys with [`KeyRing::add`].
    pub fn new(mut policy: TokenPolicy) -> Self {
        policy.leeway = policy.leeway.min(MAX_LEEWAY as u64);
        Self {
            policy,
            signer: None,
            verifiers: HashMap::new(),
            legacy: None,
        }
    }

    /// Adds a key that verifies; `active` also makes it the signer.
    pub fn add(&mut self, kid: &str, material: &KeyMaterial, active: bool) -> Result<()> {
        let alg = material.algorithm.jwt();
        let mut access = Validation::new(alg);
        access.algorithms = vec![alg];
        access.leeway = self.policy.leeway;
        access.validate_nbf = true;
        access.set_issuer(&[&self.policy.issuer]);
        let mut refresh = access.clone();
        match &self.policy.audience {
            Some(aud) => {
                access.set_audience(&[aud]);
                access.set_required_spec_claims(&["exp", "nbf", "iss", "sub", "aud"]);
                refresh.set_audience(&[aud, &self.policy.refresh_audience]);
            }
            None => {
                access.validate_aud = false;
                access.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
                refresh.set_audience(&[&self.policy.refresh_audience]);
            }
        }
        refresh.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
        self.verifiers.insert(
            kid.to_owned(),
            Verifier {
                alg,
                key: material.decoding_key()?,
                access,
                refresh,
            },
        );
        if active {
            self.signer = Some(Signer {
                kid: kid.to_owned(),
                key: SigningKey::new(material)?,
            });
        }
        Ok(())
    }

    /// Makes `material` the legacy key: until `until` it verifies tokens without a
    /// `kid` (and only it does). Their `iss` and `aud` are not checked (simplejwt
    /// writes neither by default); `exp` is, with the tenant's leeway.
    pub fn set_legacy(&mut self, material: &KeyMaterial, until: i64) -> Result<()> {
        let alg = material.algorithm.jwt();
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.leeway = self.policy.leeway;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        self.legacy = Some(Legacy {
            key: material.decoding_key()?,
            validation,
            until,
        });
        Ok(())
    }

    /// The policy this ring enforces.
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// The kid of the signing key, if the tenant has one.
    pub fn active_kid(&self) -> Option<&str> {
        self.signer.as_ref().map(|s| s.kid.as_str())
    }

    /// Signs a token for `subject`, valid from `now` for `ttl` seconds (never past
    /// `not_after` when given); returns the compact JWS and its `exp`.
    pub fn mint(
        &self,
        token_type: TokenType,
        subject: Subject<'_>,
        jti: &TokenId,
        now: i64,
        ttl: i64,
        not_after: Option<i64>,
    ) -> Result<(String, i64)> {
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| Error::Unavailable("tenant has no active signing key".into()))?;
        let exp = not_after.map_or(now + ttl, |na| (now + ttl).min(na));
        let no_claims = Map::new();
        // A refresh token says only what its exchange needs: no roles, no custom
        // claims, and an audience of its own.
        let (aud, roles, custom) = match token_type {
            TokenType::Access => (
                self.policy.audience.as_deref(),
                Some(subject.roles),
                subject.custom,
            ),
            TokenType::Refresh => (
                Some(self.policy.refresh_audience.as_str()),
                None,
                &no_claims,
            ),
        };
        let claims = MintClaims {
            iss: &self.policy.issuer,
            aud,
            sub: subject.user_id.as_str(),
            exp,
            iat: now,
            nbf: now,
            jti: jti.as_str(),
            sid: subject.sid.as_str(),
            token_type,
            user_id: subject.external_id.unwrap_or(subject.user_id.as_str()),
            roles,
            custom,
        };
        let mut header = Header::new(signer.key.algorithm());
        header.kid = Some(signer.kid.clone());
        header.typ = Some(token_type.typ().to_owned());
        let token = signer.key.sign(&header, &claims)?;
        Ok((token, exp))
    }

    /// Verifies a Tessera token of this tenant; `expected` restricts the token type.
    /// A legacy token is refused here (see [`KeyRing::check`]).
    pub fn verify(&self, token: &str, expected: Option<TokenType>) -> Result<VerifiedClaims> {
        match self.check(token, expected)? {
            Checked::Tessera(claims) => Ok(claims),
            Checked::Legacy(_) => Err(INVALID),
        }
    }

    /// Verifies a token of this tenant: a Tessera token by its `kid`, or a token
    /// without one by the legacy key while it lasts; `expected` restricts the type.
    pub fn check(&self, token: &str, expected: Option<TokenType>) -> Result<Checked> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::TokenNotValid("Token is too large"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        let Some(kid) = header.kid.as_deref() else {
            return self
                .check_legacy(token, &header, expected)
                .map(Checked::Legacy);
        };
        let verifier = self.verifiers.get(kid).ok_or(INVALID)?;
        if header.alg != verifier.alg {
            return Err(INVALID);
        }
        // The header's `typ` picks the rules; the claims must then say the same.
        let validation = match header.typ.as_deref() {
            Some(t) if t.eq_ignore_ascii_case(TokenType::Refresh.typ()) => &verifier.refresh,
            _ => &verifier.access,
        };
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, &verifier.key, validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Error::TokenNotValid("Token is expired"),
                ErrorKind::ImmatureSignature => Error::TokenNotValid("Token is not yet valid"),
                _ => INVALID,
            })?;
        let claims = data.claims;
        let typ_ok = data
            .header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(claims.token_type.typ()));
        if !typ_ok {
            return Err(INVALID);
        }
        if expected.is_some_and(|t| t != claims.token_type) {
            return Err(Error::TokenNotValid("Token has wrong type"));
        }
        Ok(Checked::Tessera(claims))
    }

    fn check_legacy(
        &self,
        token: &str,
        header: &Header,
        expected: Option<TokenType>,
    ) -> Result<LegacyClaims> {
        let legacy = self.legacy.as_ref().ok_or(INVALID)?;
        if crate::time::now() >= legacy.until || !legacy.validation.algorithms.contains(&header.alg)
        {
            return Err(INVALID);
        }
        let claims = jsonwebtoken::decode::<LegacyClaims>(token, &legacy.key, &legacy.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Error::TokenNotValid("Token is expired"),
                ErrorKind::ImmatureSignature => Error::TokenNotValid("Token is not yet valid"),
                _ => INVALID,
            })?
            .claims;
        // Its jti also stands for its session: it must have a session id's shape.
        if TokenId::parse(claims.jti.as_str()).is_none() || claims.user_id.is_empty() {
            return Err(INVALID);
        }
        if expected.is_some_and(|t| t != claims.token_type) {
            return Err(Error::TokenNotValid("Token has wrong type"));
        }
        Ok(claims)
    }
}

const INVALID: Error = Error::TokenNotValid("Token is invalid");

mod signing;
#[cfg(test)]
mod tests;

/// The client id and secret of an `Authorization: Basic …` header (RFC 7617; each
/// part form-urlencoded first, as RFC 6749 §2.3.1 says), if it holds them.
pub fn from_basic(header: &str) -> Option<(String, String)> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((form(id)?, form(secret)?))
}

/// The token of an `Authorization` header whose scheme is one of `allowed`
/// (`Bearer`, `JWT`), compared case-sensitively as simplejwt does.
pub fn from_authorization<'a>(header: &'a str, allowed: &[String]) -> Option<&'a str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (allowed.iter().any(|a| a == scheme) && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}
