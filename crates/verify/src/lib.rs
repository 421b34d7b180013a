//! Check Tessera access tokens offline, in your own Rust service.
//!
//! A [`Verifier`] fetches the tenant's JWKS and caches it as its `Cache-Control`
//! says, fetching it again when a token names an unknown `kid` (at most once per
//! [`Config::refetch_after`]). It takes each key's algorithm from the key, never
//! from the token, and checks `iss`, `aud`, `exp` and `nbf` (with leeway), the
//! `at+jwt` type and `token_type`. Given a client credential, it also follows the
//! tenant's revocation feed and refuses revoked sessions, tokens and users within a
//! second of the logout. With the `actix` feature, [`actix::Authenticated`]
//! extracts the verified claims of a request.
//!
//! ```no_run
//! # async fn run() -> Result<(), tessera_verify::Error> {
//! use tessera_verify::{Config, Verifier};
//! let verifier = Verifier::new(
//!     Config::new("https://auth.example.com/v1/tenants/acme")
//!         .audience("orders-api")
//!         .client("cli_0193…", "tcs_…"),
//! )
//! .await?;
//! let claims = verifier.verify("eyJhbGciOiJFUzI1NiIs…").await?;
//! println!("{} may see the orders", claims.sub);
//! # Ok(()) }
//! ```
mod feed;
mod keys;

#[cfg(feature = "actix")]
pub mod actix;

use jsonwebtoken::{Validation, decode, decode_header};
use serde::Deserialize;
use std::{sync::Arc, time::Duration};

use feed::Revocations;
use keys::KeySet;

/// Why a token was refused, or why the verifier could not decide.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed, forged, of another tenant or audience, or not an access token.
    #[error("token is invalid: {0}")]
    Invalid(&'static str),
    /// Past its `exp` (leeway included).
    #[error("token is expired")]
    Expired,
    /// Revoked at Tessera (a logout, "log out everywhere", a password change).
    #[error("token is revoked")]
    Revoked,
    /// Tessera could not be reached or answered something unexpected.
    #[error("tessera unavailable: {0}")]
    Unavailable(String),
}

/// Where the tenant is and what its tokens must say.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tenant's base URL: `https://auth.example.com/v1/tenants/{slug}`.
    pub tenant_url: String,
    /// The audience access tokens must carry (the tenant's `audience`), if any.
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// Least time between two JWKS fetches caused by an unknown `kid`.
    pub refetch_after: Duration,
    /// A client credential of the tenant (`client_id`, `client_secret`): with it the
    /// verifier follows the revocation feed.
    pub client: Option<(String, String)>,
}

impl Config {
    /// The configuration of a tenant at `tenant_url`, without audience or feed.
    pub fn new(tenant_url: &str) -> Self {
        Self {
            tenant_url: tenant_url.trim_end_matches('/').to_owned(),
            audience: None,
            leeway: Duration::from_secs(5),
            refetch_after: Duration::from_secs(5),
            client: None,
        }
    }

    /// Requires this audience.
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Follows the revocation feed with this client credential.
    pub fn client(mut self, id: &str, secret: &str) -> Self {
        self.client = Some((id.to_owned(), secret.to_owned()));
        self
    }
}

/// The claims of a verified access token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// The user's id at Tessera (`usr_…`).
    pub sub: String,
    /// What simplejwt's `USER_ID_CLAIM` reads: the user's external id when they have
    /// one (e.g. a Django primary key), else `sub`.
    pub user_id: String,
    /// The user's roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The session.
    pub sid: String,
    /// The token's id.
    pub jti: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// The tenant's custom claims and anything else the token carries.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Verifies a tenant's access tokens offline. Cheap to clone (one `Arc`); share one
/// per tenant across the service.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: Config,
    issuer: String,
    keys: KeySet,
    revocations: Option<Arc<Revocations>>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Verifier {
    /// Reads the tenant's discovery document and JWKS (and, with a client, its
    /// revocations in force, then follows the feed in a background task).
    pub async fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .build()
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        let url = format!("{}/.well-known/openid-configuration", config.tenant_url);
        let discovery: Discovery = get_json(&http, &url, None).await?;
        let keys = KeySet::new(discovery.jwks_uri, config.refetch_after);
        keys.fetch(&http).await?;
        let revocations = match &config.client {
            None => None,
            Some(credential) => {
                let feed = Revocations::start(
                    http.clone(),
                    format!("{}/revocations", config.tenant_url),
                    credential.clone(),
                )
                .await?;
                Some(feed)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                issuer: discovery.issuer,
                config,
                keys,
                revocations,
            }),
        })
    }

    /// Verifies an access token: signature (by its `kid`'s key and algorithm), `iss`,
    /// `aud`, `exp`/`nbf`, `typ` `at+jwt`, `token_type` `access`, and, when following
    /// the feed, that it is not revoked.
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        const INVALID: Error = Error::Invalid("signature, header or claims");
        let header = decode_header(token).map_err(|_| INVALID)?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(Error::Invalid("not an access token (typ)"));
        }
        let kid = header.kid.ok_or(Error::Invalid("no kid"))?;
        let inner = &self.inner;
        // A known kid of a fresh set is used as is; an unknown kid or a stale set
        // fetches the JWKS again (rate limited), and a stale key still verifies
        // while Tessera cannot be reached.
        let key = match inner.keys.get(&kid) {
            Some(k) if !inner.keys.stale() => k,
            known => match inner.keys.refetch_for(&inner.http, &kid).await {
                Ok(Some(k)) => k,
                Ok(None) => return Err(Error::Invalid("unknown kid")),
                Err(e) => known.ok_or(e)?,
            },
        };
        if header.alg != key.alg {
            return Err(Error::Invalid("algorithm is not the key's"));
        }
        let mut v = Validation::new(key.alg);
        v.leeway = inner.config.leeway.as_secs();
        v.validate_nbf = true;
        v.set_issuer(&[&inner.issuer]);
        match &inner.config.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                v.set_required_spec_claims(&["exp", "nbf", "iss", "sub", "aud"]);
            }
            None => {
                v.validate_aud = false;
                v.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
            }
        }
        #[derive(Deserialize)]
        struct Typed {
            token_type: String,
            #[serde(flatten)]
            claims: Claims,
        }
        let typed = decode::<Typed>(token, &key.key, &v)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::Expired,
                _ => INVALID,
            })?
            .claims;
        if typed.token_type != "access" {
            return Err(Error::Invalid("not an access token (token_type)"));
        }
        let claims = typed.claims;
        if let Some(r) = &inner.revocations
            && r.refuses(&claims)
        {
            return Err(Error::Revoked);
        }
        Ok(claims)
    }
}

/// GETs `url` (with an `Authorization` header when given) and reads its JSON; any
/// failure is [`Error::Unavailable`] naming the URL.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
) -> Result<T, Error> {
    let mut req = http.get(url);
    if let Some(a) = authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let res = req
        .send()
        .await
        .map_err(|e| Error::Unavailable(format!("{url}: {e}")))?;
    if !res.status().is_success() {
        return Err(Error::Unavailable(format!("{url}: {}", res.status())));
    }
    res.json()
        .await
        .map_err(|e| Error::Unavailable(format!("{url}: {e}")))
}
