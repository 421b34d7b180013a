//! Every error leaves as RFC 9457 problem+json with `code` and `detail` (the two keys
//! a simplejwt client reads). Internal causes are logged here and never sent.
use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use tessera_core::Error;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "Token is expired", "code": "token_not_valid"}))]
pub struct Problem {
    /// Always `about:blank`: `code` carries the machine meaning.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The HTTP status text.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// Stable machine code: validation_error, not_authenticated, invalid_credentials,
    /// token_not_valid, permission_denied, signup_disabled, not_found,
    /// tenant_not_found, conflict, payload_too_large, unsupported_media_type,
    /// rate_limited, service_unavailable, internal.
    pub code: &'static str,
    /// Messages by field, on validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
}

/// Tessera's error as an actix response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.0)
    }
}

/// The problem+json response of an error (logging hidden causes).
pub fn problem_response(err: &Error) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match err {
        Error::Internal(cause) => tracing::error!(%cause, "internal error"),
        Error::Failed { .. } => tracing::error!(cause = %err.log_cause(), "internal error"),
        Error::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
        _ => {}
    }
    let errors = match err {
        Error::Validation { errors, .. } => Some(errors.clone()),
        _ => None,
    };
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail: err.to_string(),
        code: err.code(),
        errors,
    };
    let mut res = HttpResponse::build(status);
    res.content_type("application/problem+json");
    if let Error::RateLimited { retry_after } = err {
        res.insert_header(("Retry-After", retry_after.to_string()));
    }
    if let Error::MethodNotAllowed { allowed } = err {
        res.insert_header(("Allow", allowed.as_str()));
    }
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header(("WWW-Authenticate", "Bearer realm=\"tessera\""));
    }
    res.json(body)
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
