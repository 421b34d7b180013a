//! Browser mode (tenant setting `refresh_cookie`): the refresh token travels in an
//! HttpOnly, Secure, SameSite=Strict cookie scoped to the token routes instead of a
//! body, and a request that brings it must pass a CSRF double-submit check: the
//! script-readable `tessera_csrf` cookie and the `X-CSRF-Token` header agree. The
//! CSRF cookie is scoped to the whole site (`Path=/`), and its value is also in the
//! answer's `csrf_token`, so a single-page app served from any path can send it.
use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration},
};
use subtle::ConstantTimeEq;
use tessera_actors::views::TokenPair;
use tessera_core::{Error, ids::random_id};

/// The cookie carrying the refresh token (HttpOnly).
pub const REFRESH_COOKIE: &str = "tessera_refresh";
/// The CSRF double-submit cookie (readable by the page's script).
pub const CSRF_COOKIE: &str = "tessera_csrf";
/// The header that must repeat the CSRF cookie.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

fn cookie(
    name: &'static str,
    value: String,
    path: String,
    max_age: i64,
    http_only: bool,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .secure(true)
        .http_only(http_only)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(max_age.max(0)))
        .finish()
}

/// `Cache-Control: no-store`, on every answer that carries a token or a secret
/// (RFC 6749 §5.1): no cache or proxy keeps it.
pub const NO_STORE: (actix_web::http::header::HeaderName, &str) =
    (actix_web::http::header::CACHE_CONTROL, "no-store");

fn token_path(slug: &str) -> String {
    format!("/v1/tenants/{slug}/token")
}

/// A 200 answer carrying a token pair: all in the body, or, in browser mode, the
/// refresh token in its cookie (with a fresh CSRF cookie) and out of the body.
pub fn pair_response(slug: &str, mut pair: TokenPair) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header(NO_STORE);
    if pair.browser
        && let Some(refresh) = pair.refresh.take()
    {
        let max_age = pair.refresh_expires_in.unwrap_or(0);
        res.cookie(cookie(
            REFRESH_COOKIE,
            refresh,
            token_path(slug),
            max_age,
            true,
        ));
        let csrf = random_id();
        res.cookie(cookie(
            CSRF_COOKIE,
            csrf.clone(),
            "/".into(),
            max_age,
            false,
        ));
        pair.csrf_token = Some(csrf);
        // Earlier versions scoped the CSRF cookie to the tenant's path; a browser
        // would send that one first, so it goes.
        res.cookie(cookie(
            CSRF_COOKIE,
            String::new(),
            format!("/v1/tenants/{slug}"),
            0,
            false,
        ));
    }
    res.json(pair)
}

/// A 200 `{}` that, in browser mode, also clears the refresh cookie (after a revoke).
/// The site-wide CSRF cookie stays: another tenant's session on the same site may
/// still be using it, and alone it grants nothing.
pub fn cleared_response(slug: &str, browser: bool) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if browser {
        res.cookie(cookie(
            REFRESH_COOKIE,
            String::new(),
            token_path(slug),
            0,
            true,
        ));
    }
    res.json(serde_json::json!({}))
}

/// The token of a request: the body's (`field` names it) when it has one; else, only
/// when `browser()` says the tenant is in browser mode (asked only then), the refresh
/// cookie's, which counts only with a matching CSRF header.
pub async fn token_of<F>(
    req: &HttpRequest,
    body: Option<String>,
    field: &str,
    browser: impl FnOnce() -> F,
) -> Result<String, Error>
where
    F: std::future::Future<Output = Result<bool, Error>>,
{
    if let Some(t) = body.filter(|t| !t.is_empty()) {
        return Ok(t);
    }
    let from_cookie = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    let token = match from_cookie {
        Some(t) if browser().await? => t,
        _ => return Err(Error::field(field, "This field is required.")),
    };
    let header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Any CSRF cookie the browser sent may be the one the page read (a browser sends
    // every cookie of that name whose path matches).
    let cookies = req.cookies().map(|c| c.clone()).unwrap_or_default();
    let matched = cookies
        .iter()
        .filter(|c| c.name() == CSRF_COOKIE && !c.value().is_empty())
        .any(|c| bool::from(c.value().as_bytes().ct_eq(header.as_bytes())));
    if matched {
        Ok(token)
    } else {
        Err(Error::PermissionDenied(
            "CSRF check failed: send the tessera_csrf cookie's value in X-CSRF-Token.",
        ))
    }
}
