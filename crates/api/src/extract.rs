//! Request extractors: bodies (JSON, and form-encoded where simplejwt clients send
//! it) with size and type limits, the `Authorization` header, and client facts.
use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use futures_util::{StreamExt, future::LocalBoxFuture};
use serde::de::DeserializeOwned;
use tessera_actors::{Hub, actors::ClientInfo, services::AdminKey};
use tessera_core::Error;

use crate::error::ApiError;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body of a bulk import (10 000 users of a Django dump are about 5 MB).
pub const MAX_BULK_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A JSON body.
pub struct Json<T>(pub T);

/// The admin key and then, only once it is accepted, a JSON body of a bulk import (up
/// to [`MAX_BULK_BODY_BYTES`]): one extractor, so nobody unauthenticated gets a large
/// body read (actix polls a handler's extractors side by side).
pub struct AdminBulk<T>(pub AdminKey, pub T);

/// A JSON or `application/x-www-form-urlencoded` body.
pub struct JsonOrForm<T>(pub T);

enum Kind {
    Json,
    Form,
}

fn body_kind(req: &HttpRequest, form_ok: bool) -> Result<Kind, Error> {
    let expected = if form_ok {
        "application/json or application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(Kind::Json),
        m if m.starts_with("application/") && m.ends_with("+json") => Ok(Kind::Json),
        "application/x-www-form-urlencoded" if form_ok => Ok(Kind::Form),
        _ => Err(Error::UnsupportedMediaType { expected }),
    }
}

async fn read_body(mut payload: Payload, limit: usize) -> Result<web::BytesMut, Error> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Error::field("body", "could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Deepest nesting of arrays and objects accepted in a JSON body (no request of
/// the API needs more than a few levels).
pub const MAX_JSON_DEPTH: usize = 32;

/// Whether `bytes` nest arrays/objects deeper than [`MAX_JSON_DEPTH`], scanned
/// before parsing so no deep document reaches the parser's recursion.
fn too_deep(bytes: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn parse<T: DeserializeOwned>(kind: Kind, bytes: &[u8]) -> Result<T, Error> {
    match kind {
        Kind::Json if too_deep(bytes) => Err(Error::field(
            "body",
            format!("nests arrays or objects deeper than {MAX_JSON_DEPTH} levels"),
        )),
        Kind::Json => {
            let de = &mut serde_json::Deserializer::from_slice(bytes);
            serde_path_to_error::deserialize(de).map_err(|e| {
                // The field at fault: where the error happened, or for a missing or
                // unknown field (reported at the object), the field it names.
                let path = e.path().to_string();
                let msg = e.inner().to_string();
                // Broken JSON is the body's fault, wherever the parser was.
                let broken = e.inner().is_syntax() || e.inner().is_eof();
                let field = if broken {
                    "body".to_owned()
                } else if path != "." {
                    path
                } else {
                    msg.split('`')
                        .nth(1)
                        .filter(|_| msg.contains("field"))
                        .unwrap_or("body")
                        .to_owned()
                };
                Error::field(&field, msg)
            })
        }
        Kind::Form => {
            serde_urlencoded::from_bytes(bytes).map_err(|e| Error::field("body", e.to_string()))
        }
    }
}

async fn extract<T: DeserializeOwned>(
    req: HttpRequest,
    payload: Payload,
    form_ok: bool,
    limit: usize,
) -> Result<T, ApiError> {
    let kind = body_kind(&req, form_ok)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Error::PayloadTooLarge { limit }.into());
    }
    let bytes = read_body(payload, limit).await?;
    Ok(parse(kind, &bytes)?)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { extract(req, payload, false, MAX_BODY_BYTES).await.map(Json) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for AdminBulk<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let Admin(key) = Admin::from_request(&req, &mut Payload::None).await?;
            let body = extract(req, payload, false, MAX_BULK_BODY_BYTES).await?;
            Ok(AdminBulk(key, body))
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonOrForm<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            extract(req, payload, true, MAX_BODY_BYTES)
                .await
                .map(JsonOrForm)
        })
    }
}

/// The admin key a request authenticates with (`Authorization: Bearer <admin key>`):
/// what every admin handler takes, so that each is one call to the hub. Placed last
/// among a handler's arguments, it is checked after the path, query and body are
/// read, as before it existed.
pub struct Admin(pub AdminKey);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let hub = req
                .app_data::<web::Data<Hub>>()
                .cloned()
                .ok_or_else(|| ApiError(Error::Internal("no hub in the app".into())))?;
            hub.admin_key(authorization(&req))
                .await
                .map(Admin)
                .map_err(|e| {
                    if matches!(e, Error::NotAuthenticated(_)) {
                        let client = client_info(&req).ip.unwrap_or_default();
                        tracing::info!(%client, "admin API key refused");
                    }
                    ApiError(e)
                })
        })
    }
}

/// The raw `Authorization` header, if any and if it is text.
pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Who is calling: User-Agent and address (the peer, or the client a trusted proxy
/// names in `X-Forwarded-For` or `Forwarded`), for the sessions list and the rate
/// limits.
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: req.peer_addr().map(|peer| {
            match req.app_data::<web::Data<Hub>>() {
                Some(hub) => {
                    let proxies = hub.trusted_proxies();
                    let lines = req
                        .headers()
                        .get_all(proxies.header().name())
                        .filter_map(|v| v.to_str().ok());
                    proxies.client(peer.ip(), lines)
                }
                None => peer.ip().to_canonical(),
            }
            .to_string()
        }),
    }
}

/// Query-string errors as problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|e, _| ApiError(Error::field("query", e.to_string())).into())
}

/// Path errors as problem+json.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError(Error::NotFound("Resource")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings_only() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(too_deep(deep.as_bytes()));
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(!too_deep(ok.as_bytes()));
        let quoted = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(!too_deep(quoted.as_bytes()), "{quoted}");
    }
}

#[cfg(test)]
mod fuzz {
    //! Every request body type parsed from arbitrary bytes, as JSON and as a form:
    //! an error or a value, never a panic. Run longer with
    //! `PROPTEST_CASES=20000 cargo test --release -p tessera-api fuzz_`.
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn all_bodies(kind: fn() -> Kind, bytes: &[u8]) {
        use tessera_actors::requests::*;
        let _ = parse::<LoginRequest>(kind(), bytes);
        let _ = parse::<RefreshRequest>(kind(), bytes);
        let _ = parse::<RevokeRequest>(kind(), bytes);
        let _ = parse::<TokenRequest>(kind(), bytes);
        let _ = parse::<PasswordChange>(kind(), bytes);
        let _ = parse::<SignupRequest>(kind(), bytes);
        let _ = parse::<CreateUserRequest>(kind(), bytes);
        let _ = parse::<UserPatch>(kind(), bytes);
        let _ = parse::<ImportKeyRequest>(kind(), bytes);
        let _ = parse::<CreateApiKeyRequest>(kind(), bytes);
        let _ = parse::<CreateTenantRequest>(kind(), bytes);
        if let Ok(v) = parse::<Value>(kind(), bytes) {
            let _ = tessera_core::settings::SettingsPatch::from_json(v);
        }
    }

    proptest! {
        #[test]
        fn fuzz_bodies_from_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            all_bodies(|| Kind::Json, &bytes);
            all_bodies(|| Kind::Form, &bytes);
        }

        #[test]
        fn fuzz_bodies_from_json_like_text(text in "[\\[\\]{}\":,a-z0-9 \\\\]{0,300}") {
            all_bodies(|| Kind::Json, text.as_bytes());
        }

        #[test]
        fn fuzz_depth_counts_brackets_outside_strings(depth in 0usize..48, inner in "[\\[\\]{}\"\\\\a]{0,12}") {
            let quoted = serde_json::to_string(&inner).unwrap_or_default();
            let doc = format!("{}{quoted}{}", "[".repeat(depth), "]".repeat(depth));
            prop_assert_eq!(too_deep(doc.as_bytes()), depth > MAX_JSON_DEPTH);
            all_bodies(|| Kind::Json, doc.as_bytes());
        }
    }
}
