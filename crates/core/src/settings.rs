//! A tenant's settings (API.md's flat object), their defaults, and validated patches.
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{
    Result,
    algorithm::SigningAlgorithm,
    error::{Error, FieldErrors, push_field},
    password::{MAX_PASSWORD_CHARS, has_control, has_visible},
};

/// Longest leeway accepted, in seconds: clock skew is bounded (RFC 8725).
pub const MAX_LEEWAY: i64 = 300;
/// Longest time resource servers may cache a JWKS, seconds.
pub const JWKS_MAX_AGE: i64 = 300;
/// Longest lifetime of any kind accepted, in seconds (one year).
pub const MAX_LIFETIME: i64 = 366 * 86_400;
/// Longest `refresh_reuse_interval`, seconds.
pub const MAX_REUSE_INTERVAL: i64 = 60;
/// Longest `key_rotation_interval`, seconds (ten years).
pub const MAX_ROTATION_INTERVAL: i64 = 10 * MAX_LIFETIME;
/// Longest `display_name`, characters.
pub const MAX_DISPLAY_NAME: usize = 200;
/// Longest `issuer` or `audience`, characters.
pub const MAX_URL: usize = 2048;
/// Most `allowed_origins`.
pub const MAX_ALLOWED_ORIGINS: usize = 32;
/// Longest origin in `allowed_origins`, characters.
pub const MAX_ORIGIN: usize = 256;
/// Highest `login_rate_limit`, attempts per minute.
pub const MAX_LOGIN_RATE_LIMIT: i32 = 100_000;

/// Whether `o` is a serialized origin: `http(s)://host[:port]`, nothing after.
pub fn is_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && o.chars().count() <= MAX_ORIGIN
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// Most roles a user may have.
pub const MAX_ROLES: usize = 64;
/// Longest role, bytes.
pub const MAX_ROLE_BYTES: usize = 64;
/// Bytes of `issuer`, `audience` and `custom_claims` (as JSON) together that an
/// access token can carry and still stay under [`crate::token::MAX_TOKEN_BYTES`]
/// whatever the user: the token's budget (8192) less the largest header (160
/// base64 bytes), signature (RSA-4096: 683) and two dots, as JSON bytes (× 3/4),
/// less the fixed claims (512) and the most roles a user may have (64 quoted roles
/// of 64 bytes, 4290). An unset issuer counts as [`DEFAULT_ISSUER_BYTES`].
pub const TOKEN_CLAIMS_ALLOWANCE: usize = (crate::token::MAX_TOKEN_BYTES - 160 - 683 - 2) * 3 / 4
    - 512
    - (MAX_ROLES * (MAX_ROLE_BYTES + 3) + 2);
/// What an unset issuer (the public URL and the tenant's path) is counted as.
pub const DEFAULT_ISSUER_BYTES: usize = 256;
/// Claims Tessera sets itself, which custom claims may not override.
pub const RESERVED_CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "sid",
    "token_type",
    "user_id",
    "roles",
    "typ",
];

/// Every setting of a tenant, with API.md's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenantSettings {
    /// Name shown to people.
    pub display_name: String,
    /// `iss` of its tokens; null means `{public_url}/v1/tenants/{slug}`.
    pub issuer: Option<String>,
    /// `aud` of its tokens, checked on verify when set.
    pub audience: Option<String>,
    /// Signing algorithm of its keys.
    pub algorithm: SigningAlgorithm,
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// Longest a session may live through rotations, seconds.
    pub session_max_lifetime: i64,
    /// Whether each refresh returns a new refresh token and retires the old one.
    pub rotate_refresh_tokens: bool,
    /// Seconds after a rotation within which the rotated-out refresh token, presented
    /// again, returns its successor again instead of counting as reuse (a lost
    /// answer, two tabs refreshing at once); 0 (the default) is strict rotation.
    pub refresh_reuse_interval: i64,
    /// Clock skew allowed on `exp`/`nbf`, seconds.
    pub leeway: i64,
    /// Accepted `Authorization` prefixes: `Bearer` and/or `JWT`.
    pub auth_header_types: Vec<String>,
    /// Whether end users may sign up at `POST /users`.
    pub allow_signup: bool,
    /// Minimum password length, characters.
    pub password_min_length: i32,
    /// Browser mode: refresh token in an HttpOnly cookie.
    pub refresh_cookie: bool,
    /// Browser mode: origins (`https://app.example.com`) besides this service's own host that
    /// may call `/token`, `/token/refresh` and `/token/revoke`.
    pub allowed_origins: Vec<String>,
    /// Login attempts per minute per user and per client address.
    pub login_rate_limit: i32,
    /// Claims merged into every token.
    #[schema(value_type = Object)]
    pub custom_claims: Map<String, Value>,
    /// Scheduled key rotation interval, seconds; null is off.
    pub key_rotation_interval: Option<i64>,
    /// A disabled tenant answers like an unknown one.
    pub disabled: bool,
}

impl TenantSettings {
    /// Defaults for a new tenant with this display name.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            issuer: None,
            audience: None,
            algorithm: SigningAlgorithm::ES256,
            access_token_ttl: 900,
            refresh_token_ttl: 86_400,
            session_max_lifetime: 30 * 86_400,
            rotate_refresh_tokens: true,
            refresh_reuse_interval: 0,
            leeway: 0,
            auth_header_types: vec!["Bearer".into()],
            allow_signup: false,
            password_min_length: 8,
            refresh_cookie: false,
            allowed_origins: Vec::new(),
            login_rate_limit: 10,
            custom_claims: Map::new(),
            key_rotation_interval: None,
            disabled: false,
        }
    }

    /// Seconds any token issued under these settings can stay acceptable (the longest
    /// lifetime plus leeway): how long a revocation or a retiring key must last.
    pub fn longest_token_life(&self) -> i64 {
        self.session_max_lifetime
            .max(self.refresh_token_ttl)
            .max(self.access_token_ttl)
            + self.leeway
    }

    /// Seconds a key keeps verifying after it stops signing: the longest life of a
    /// single token it signed (a refresh token, whose lifetime is the longest) plus
    /// leeway. A rotated-out key leaves the JWKS after that.
    pub fn key_overlap(&self) -> i64 {
        self.refresh_token_ttl.max(self.access_token_ttl) + self.leeway
    }

    /// Seconds resource servers may cache the JWKS (`Cache-Control: max-age`). With
    /// scheduled rotation it is at most half the interval, so that the next key can
    /// be published a whole cache lifetime before it signs.
    pub fn jwks_max_age(&self) -> i64 {
        match self.key_rotation_interval {
            Some(i) => (i / 2).min(JWKS_MAX_AGE),
            None => JWKS_MAX_AGE,
        }
    }

    /// Seconds ahead of its first signature that a scheduled next key is published:
    /// one JWKS cache lifetime plus a second for every node to hear of it.
    pub fn rotation_lead(&self) -> i64 {
        self.jwks_max_age() + 1
    }

    /// Applies a patch, then checks the whole result; on error `self` is unchanged.
    pub fn apply(&mut self, patch: SettingsPatch) -> Result<()> {
        let mut next = self.clone();
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = patch.$f { next.$f = v; } )* };
        }
        set!(
            display_name,
            issuer,
            audience,
            algorithm,
            access_token_ttl,
            refresh_token_ttl,
            session_max_lifetime,
            rotate_refresh_tokens,
            refresh_reuse_interval,
            leeway,
            auth_header_types,
            allow_signup,
            password_min_length,
            refresh_cookie,
            allowed_origins,
            login_rate_limit,
            custom_claims,
            key_rotation_interval,
            disabled
        );
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Checks every rule between settings, reporting all broken ones by field.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        let n = self.display_name.trim().chars().count();
        let name = &self.display_name;
        if !has_visible(name) || has_control(name) || n > MAX_DISPLAY_NAME {
            push_field(
                &mut e,
                "display_name",
                format!("must be 1 to {MAX_DISPLAY_NAME} characters, without control characters"),
            );
        }
        if let Some(iss) = &self.issuer
            && (!(iss.starts_with("https://") || iss.starts_with("http://"))
                || iss.chars().count() > MAX_URL
                || has_control(iss))
        {
            push_field(
                &mut e,
                "issuer",
                format!("must be an http(s) URL of at most {MAX_URL} characters"),
            );
        }
        if let Some(aud) = &self.audience
            && (aud.is_empty() || aud.chars().count() > MAX_URL || has_control(aud))
        {
            push_field(
                &mut e,
                "audience",
                format!("must be 1 to {MAX_URL} characters"),
            );
        }
        for (field, v) in [
            ("access_token_ttl", self.access_token_ttl),
            ("refresh_token_ttl", self.refresh_token_ttl),
            ("session_max_lifetime", self.session_max_lifetime),
        ] {
            if !(1..=MAX_LIFETIME).contains(&v) {
                push_field(
                    &mut e,
                    field,
                    format!("must be between 1 and {MAX_LIFETIME} seconds"),
                );
            }
        }
        if self.refresh_token_ttl < self.access_token_ttl {
            push_field(
                &mut e,
                "refresh_token_ttl",
                "must be at least access_token_ttl",
            );
        }
        if self.session_max_lifetime < self.refresh_token_ttl {
            push_field(
                &mut e,
                "session_max_lifetime",
                "must be at least refresh_token_ttl",
            );
        }
        if !(0..=MAX_REUSE_INTERVAL).contains(&self.refresh_reuse_interval) {
            push_field(
                &mut e,
                "refresh_reuse_interval",
                format!("must be between 0 and {MAX_REUSE_INTERVAL} seconds"),
            );
        }
        if self.allowed_origins.len() > MAX_ALLOWED_ORIGINS
            || self.allowed_origins.iter().any(|o| !is_origin(o))
        {
            push_field(
                &mut e,
                "allowed_origins",
                "must be at most 32 origins like \"https://app.example.com\" (scheme, host and optional port; no path)",
            );
        }
        if !(0..=MAX_LEEWAY).contains(&self.leeway) {
            push_field(
                &mut e,
                "leeway",
                format!("must be between 0 and {MAX_LEEWAY} seconds"),
            );
        }
        if self.auth_header_types.is_empty()
            || self
                .auth_header_types
                .iter()
                .any(|t| t != "Bearer" && t != "JWT")
        {
            push_field(
                &mut e,
                "auth_header_types",
                "must be a non-empty list of \"Bearer\" and \"JWT\"",
            );
        }
        if !(1..=MAX_PASSWORD_CHARS as i32).contains(&self.password_min_length) {
            push_field(
                &mut e,
                "password_min_length",
                format!("must be between 1 and {MAX_PASSWORD_CHARS}"),
            );
        }
        if !(1..=MAX_LOGIN_RATE_LIMIT).contains(&self.login_rate_limit) {
            push_field(
                &mut e,
                "login_rate_limit",
                "must be between 1 and 100000 attempts per minute",
            );
        }
        if let Some(i) = self.key_rotation_interval
            && !(1..=MAX_ROTATION_INTERVAL).contains(&i)
        {
            push_field(
                &mut e,
                "key_rotation_interval",
                "must be a positive number of seconds or null",
            );
        } else if let Some(i) = self.key_rotation_interval
            && i * 10 < self.refresh_token_ttl
        {
            push_field(
                &mut e,
                "key_rotation_interval",
                "must be at least a tenth of refresh_token_ttl (at most ten keys verify at once)",
            );
        }
        if let Some(k) = self
            .custom_claims
            .keys()
            .find(|k| RESERVED_CLAIMS.contains(&k.as_str()))
        {
            push_field(
                &mut e,
                "custom_claims",
                format!("may not set the reserved claim {k:?}"),
            );
        }
        let custom = serde_json::to_vec(&self.custom_claims).map_or(0, |v| v.len());
        let iss = self
            .issuer
            .as_ref()
            .map_or(DEFAULT_ISSUER_BYTES, String::len);
        let aud = self.audience.as_ref().map_or(0, String::len);
        if custom + iss + aud > TOKEN_CLAIMS_ALLOWANCE {
            let field = if !self.custom_claims.is_empty() {
                "custom_claims"
            } else if aud > 0 {
                "audience"
            } else {
                "issuer"
            };
            push_field(
                &mut e,
                field,
                format!(
                    "issuer, audience and custom_claims (as JSON) together must be at most {TOKEN_CLAIMS_ALLOWANCE} bytes, so that every access token stays under {} bytes",
                    crate::token::MAX_TOKEN_BYTES
                ),
            );
        }
        Error::check_fields(e)
    }
}

/// A partial change of settings: absent fields stay as they are; for nullable
/// settings an explicit `null` clears them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// The name people see (1 to 200 characters).
    pub display_name: Option<String>,
    /// The `iss` of the tenant's tokens, an http(s) URL; `null` means
    /// `{public_url}/v1/tenants/{slug}`. No two tenants may share an issuer. Changing
    /// it invalidates the tokens already out.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub issuer: Option<Option<String>>,
    /// The `aud` of access tokens, checked on verify when set; `null` leaves it out.
    /// Changing it invalidates the access tokens already out.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub audience: Option<Option<String>>,
    /// The signing algorithm. Changing it rotates to a new key of that algorithm; the
    /// old key keeps verifying its tokens until they expire.
    pub algorithm: Option<SigningAlgorithm>,
    /// Access token lifetime, seconds (1 to a year).
    pub access_token_ttl: Option<i64>,
    /// Refresh token lifetime, seconds: at least `access_token_ttl`.
    pub refresh_token_ttl: Option<i64>,
    /// Longest a session lives through rotations, seconds: at least
    /// `refresh_token_ttl`.
    pub session_max_lifetime: Option<i64>,
    /// Whether each refresh returns a new refresh token and retires the one presented
    /// (reuse of a retired one revokes the session).
    pub rotate_refresh_tokens: Option<bool>,
    /// Seconds (0 to 60) after a rotation within which the rotated-out refresh token,
    /// presented again, gets its successor again instead of counting as reuse; 0 is
    /// strict rotation.
    pub refresh_reuse_interval: Option<i64>,
    /// Clock skew allowed on `exp` and `nbf`, seconds (0 to 300).
    pub leeway: Option<i64>,
    /// Accepted `Authorization` prefixes: `Bearer` and/or `JWT` (simplejwt's
    /// `AUTH_HEADER_TYPES`).
    pub auth_header_types: Option<Vec<String>>,
    /// Whether end users may sign themselves up at `POST /users`.
    pub allow_signup: Option<bool>,
    /// Fewest characters a new password may have.
    pub password_min_length: Option<i32>,
    /// Browser mode: the refresh token travels in an HttpOnly cookie with a CSRF
    /// double-submit check instead of in bodies.
    pub refresh_cookie: Option<bool>,
    /// Browser mode: origins (`https://app.example.com`, at most 32) besides this
    /// service's own host that may call `/token`, `/token/refresh` and `/token/revoke`.
    pub allowed_origins: Option<Vec<String>>,
    /// Login attempts allowed per minute per username and client address (and ten times
    /// that per username alone).
    pub login_rate_limit: Option<i32>,
    /// Claims added to every token (not the reserved ones: `iss`, `sub`, `aud`, `exp`,
    /// …); their size is bounded so that every token stays under 8 KiB.
    #[schema(value_type = Option<Object>)]
    pub custom_claims: Option<Map<String, Value>>,
    /// Scheduled key rotation every this many seconds (the next key is published ahead
    /// of its turn); `null` turns it off. At least a tenth of `refresh_token_ttl`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub key_rotation_interval: Option<Option<i64>>,
    /// A disabled tenant answers exactly like an unknown one, and its tokens stop
    /// working.
    pub disabled: Option<bool>,
}

impl SettingsPatch {
    /// Parses a patch from a JSON object; every bad field is named in the error.
    pub fn from_json(value: Value) -> Result<Self> {
        let Value::Object(mut map) = value else {
            return Err(Error::field("body", "must be a JSON object"));
        };
        // JSON Schema counts `300.0` as an integer, so a whole number may come with
        // a fraction of zero (custom claims are kept exactly as sent).
        for (_, v) in map.iter_mut().filter(|(k, _)| *k != "custom_claims") {
            if let Some(f) = v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                && v.is_f64()
            {
                *v = Value::from(f as i64);
            }
        }
        serde_json::from_value(Value::Object(map.clone())).map_err(|_| {
            // Find each offending field by parsing it alone.
            let mut errors = FieldErrors::new();
            for (k, v) in map {
                let one = Value::Object(Map::from_iter([(k.clone(), v)]));
                if let Err(e) = serde_json::from_value::<SettingsPatch>(one) {
                    let msg = e.to_string();
                    let msg = if msg.starts_with("unknown field") {
                        "is not a tenant setting".to_owned()
                    } else {
                        msg
                    };
                    push_field(&mut errors, &k, msg);
                }
            }
            Error::Validation {
                detail: "Invalid input".into(),
                errors,
            }
        })
    }
}

/// Deserializes a field where absent (`None`), `null` (`Some(None)`) and a value
/// (`Some(Some(v))`) mean three different things in a patch.
pub fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> SettingsPatch {
        SettingsPatch::from_json(v).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_whole_number_may_come_with_a_zero_fraction() {
        let p = patch(json!({"leeway": 30.0, "login_rate_limit": 7.0}));
        assert_eq!((p.leeway, p.login_rate_limit), (Some(30), Some(7)));
        assert!(SettingsPatch::from_json(json!({"leeway": 30.5})).is_err());
        let p = patch(json!({"custom_claims": {"tier": 2.0}}));
        assert_eq!(
            p.custom_claims.map(|c| c["tier"].clone()),
            Some(json!(2.0)),
            "claims are kept as sent"
        );
    }

    #[test]
    fn defaults_follow_the_contract_and_are_valid() {
        let s = TenantSettings::new("Acme");
        assert_eq!(s.algorithm, SigningAlgorithm::ES256);
        assert_eq!(
            (
                s.access_token_ttl,
                s.refresh_token_ttl,
                s.session_max_lifetime
            ),
            (900, 86_400, 2_592_000)
        );
        assert!(s.rotate_refresh_tokens && !s.allow_signup && !s.refresh_cookie && !s.disabled);
        assert_eq!(s.auth_header_types, vec!["Bearer"]);
        assert_eq!(s.password_min_length, 8);
        assert!(s.validate().is_ok());
        assert_eq!(s.longest_token_life(), 2_592_000);
    }

    #[test]
    fn patch_sets_clears_and_keeps() {
        let mut s = TenantSettings::new("Acme");
        s.apply(patch(json!({"audience": "api", "access_token_ttl": 1})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.audience.as_deref(), Some("api"));
        assert_eq!(s.access_token_ttl, 1);
        s.apply(patch(json!({"audience": null})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.audience, None);
        assert_eq!(s.access_token_ttl, 1, "absent fields are kept");
    }

    #[test]
    fn invalid_patches_name_fields_and_change_nothing() {
        let mut s = TenantSettings::new("Acme");
        let before = s.clone();
        let cases = [
            (json!({"access_token_ttl": 0}), "access_token_ttl"),
            (json!({"access_token_ttl": 100_000}), "refresh_token_ttl"),
            (
                json!({"refresh_token_ttl": 3_000_000}),
                "session_max_lifetime",
            ),
            (json!({"leeway": 301}), "leeway"),
            (json!({"leeway": -1}), "leeway"),
            (json!({"auth_header_types": ["Token"]}), "auth_header_types"),
            (json!({"auth_header_types": []}), "auth_header_types"),
            (json!({"custom_claims": {"sub": "x"}}), "custom_claims"),
            (json!({"issuer": "ftp://x"}), "issuer"),
            (json!({"display_name": " "}), "display_name"),
            (json!({"login_rate_limit": 0}), "login_rate_limit"),
            (json!({"key_rotation_interval": 0}), "key_rotation_interval"),
            (
                json!({"key_rotation_interval": 8639}),
                "key_rotation_interval",
            ),
        ];
        for (p, field) in cases {
            match s.apply(patch(p.clone())) {
                Err(Error::Validation { errors, .. }) => {
                    assert!(errors.contains_key(field), "{p}: {errors:?}")
                }
                other => panic!("{p}: {other:?}"),
            }
            assert_eq!(s, before);
        }
    }

    #[test]
    fn key_windows_follow_the_lifetimes() {
        let mut s = TenantSettings::new("Acme");
        assert_eq!(s.key_overlap(), 86_400);
        assert_eq!((s.jwks_max_age(), s.rotation_lead()), (300, 301));
        s.apply(patch(json!({"access_token_ttl": 2, "refresh_token_ttl": 4, "session_max_lifetime": 10, "leeway": 1, "key_rotation_interval": 6})))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.key_overlap(), 5);
        assert_eq!((s.jwks_max_age(), s.rotation_lead()), (3, 4));
    }

    #[test]
    fn unknown_and_mistyped_fields_are_rejected() {
        match SettingsPatch::from_json(json!({"acess_token_ttl": 5})) {
            Err(Error::Validation { errors, .. }) => {
                assert!(errors.contains_key("acess_token_ttl"))
            }
            other => panic!("{other:?}"),
        }
        for (bad, field) in [
            (json!({"algorithm": "none"}), "algorithm"),
            (json!({"leeway": "5", "allow_signup": true}), "leeway"),
        ] {
            match SettingsPatch::from_json(bad) {
                Err(Error::Validation { errors, .. }) => {
                    assert_eq!(errors.keys().collect::<Vec<_>>(), vec![field])
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(SettingsPatch::from_json(json!([1])).is_err());
    }
}
