//! The one error type of Tessera. Every layer returns it; the API maps it to
//! problem+json in one place. `code()` is the stable machine code clients read, the
//! hidden cause of `Unavailable`/`Internal` is logged but never sent.
use std::collections::BTreeMap;

/// Per-field validation messages, as `{"field": ["message", …]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Result alias over [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure Tessera can answer with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `errors` names the fields.
    #[error("{detail}")]
    Validation {
        /// Human summary.
        detail: String,
        /// Messages by field.
        errors: FieldErrors,
    },
    /// No (usable) credentials were presented.
    #[error("{0}")]
    NotAuthenticated(&'static str),
    /// Unknown user, wrong password or inactive user: all answer the same.
    #[error("No active account found with the given credentials")]
    InvalidCredentials,
    /// A token failed verification; the detail says why in client terms.
    #[error("{0}")]
    TokenNotValid(&'static str),
    /// Authenticated but not allowed.
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The tenant does not allow sign-up.
    #[error("Sign-up is disabled for this tenant")]
    SignupDisabled,
    /// The named resource does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Unknown or disabled tenant: both answer identically.
    #[error("Tenant not found")]
    TenantNotFound,
    /// The path exists but not with this method.
    #[error("Method not allowed here; allowed: {allowed}")]
    MethodNotAllowed {
        /// The methods the path takes, as the `Allow` header lists them.
        allowed: String,
    },
    /// A uniqueness rule was broken.
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than allowed.
    #[error("Request body is too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request body's content type is not accepted here.
    #[error("Unsupported media type; send {expected}")]
    UnsupportedMediaType {
        /// What is accepted.
        expected: &'static str,
    },
    /// Too many attempts; retry after the given seconds.
    #[error("Too many requests")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// A dependency (Postgres, Redis, an actor) is unreachable or timed out.
    #[error("Service temporarily unavailable")]
    Unavailable(String),
    /// A bug or an unexpected state; the cause is logged, never sent.
    #[error("Internal server error")]
    Internal(String),
    /// A library's failure (the database's, say), kept whole with its chain of
    /// causes so that the log line says what failed; answered like `Internal`.
    #[error("Internal server error")]
    Failed {
        /// What was being done (`database`).
        what: &'static str,
        /// The failure itself.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// The stable machine code of this error (API.md's list).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation_error",
            Error::NotAuthenticated(_) => "not_authenticated",
            Error::InvalidCredentials => "invalid_credentials",
            Error::TokenNotValid(_) => "token_not_valid",
            Error::PermissionDenied(_) => "permission_denied",
            Error::SignupDisabled => "signup_disabled",
            Error::NotFound(_) => "not_found",
            Error::TenantNotFound => "tenant_not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::Conflict(_) => "conflict",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::UnsupportedMediaType { .. } => "unsupported_media_type",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable(_) => "service_unavailable",
            Error::Internal(_) | Error::Failed { .. } => "internal",
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Validation { .. } => 400,
            Error::NotAuthenticated(_) | Error::InvalidCredentials | Error::TokenNotValid(_) => 401,
            Error::PermissionDenied(_) | Error::SignupDisabled => 403,
            Error::NotFound(_) | Error::TenantNotFound => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::Conflict(_) => 409,
            Error::PayloadTooLarge { .. } => 413,
            Error::UnsupportedMediaType { .. } => 415,
            Error::RateLimited { .. } => 429,
            Error::Unavailable(_) => 503,
            Error::Internal(_) | Error::Failed { .. } => 500,
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Error::Validation {
            detail: "Invalid input".into(),
            errors,
        }
    }

    /// A validation error from collected field errors, or `Ok` when there are none.
    pub fn check_fields(errors: FieldErrors) -> Result<()> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation {
                detail: "Invalid input".into(),
                errors,
            })
        }
    }

    /// The cause to log: the hidden cause of internal/unavailable errors, else the message.
    pub fn log_cause(&self) -> String {
        match self {
            Error::Unavailable(cause) | Error::Internal(cause) => cause.clone(),
            Error::Failed { what, source } => {
                let mut line = format!("{what}: {source}");
                let mut next = source.source();
                while let Some(cause) = next {
                    line.push_str(&format!(": {cause}"));
                    next = cause.source();
                }
                line
            }
            other => other.to_string(),
        }
    }
}

/// Adds a message for `field` to a set of field errors.
pub fn push_field(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_the_contract() {
        let cases: Vec<(Error, &str, u16)> = vec![
            (Error::field("x", "bad"), "validation_error", 400),
            (Error::NotAuthenticated("no"), "not_authenticated", 401),
            (Error::InvalidCredentials, "invalid_credentials", 401),
            (Error::TokenNotValid("bad"), "token_not_valid", 401),
            (Error::PermissionDenied("no"), "permission_denied", 403),
            (Error::SignupDisabled, "signup_disabled", 403),
            (Error::NotFound("User"), "not_found", 404),
            (Error::TenantNotFound, "tenant_not_found", 404),
            (
                Error::MethodNotAllowed {
                    allowed: "GET".into(),
                },
                "method_not_allowed",
                405,
            ),
            (Error::Conflict("taken".into()), "conflict", 409),
            (Error::RateLimited { retry_after: 3 }, "rate_limited", 429),
            (
                Error::PayloadTooLarge { limit: 1 },
                "payload_too_large",
                413,
            ),
            (
                Error::UnsupportedMediaType { expected: "json" },
                "unsupported_media_type",
                415,
            ),
            (
                Error::Unavailable("pool".into()),
                "service_unavailable",
                503,
            ),
            (Error::Internal("bug".into()), "internal", 500),
        ];
        for (err, code, status) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.status(), status);
        }
    }

    #[test]
    fn hidden_causes_never_reach_the_message() {
        let err = Error::Internal("password=hunter2 at db".into());
        assert_eq!(err.to_string(), "Internal server error");
        assert!(err.log_cause().contains("hunter2"));
        let err = Error::Unavailable("redis down".into());
        assert!(!err.to_string().contains("redis"));
        // A kept failure: sent as nothing, logged with its whole chain of causes.
        let io = std::io::Error::other("connection reset by peer");
        let err = Error::Failed {
            what: "database",
            source: Box::new(io),
        };
        assert_eq!(
            (err.to_string().as_str(), err.status()),
            ("Internal server error", 500)
        );
        assert_eq!(err.log_cause(), "database: connection reset by peer");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the source is kept"
        );
    }

    #[test]
    fn check_fields_is_ok_only_without_errors() {
        assert!(Error::check_fields(FieldErrors::new()).is_ok());
        let mut errs = FieldErrors::new();
        push_field(&mut errs, "leeway", "too big");
        push_field(&mut errs, "leeway", "negative");
        match Error::check_fields(errs) {
            Err(Error::Validation { errors, .. }) => assert_eq!(errors["leeway"].len(), 2),
            other => panic!("unexpected {other:?}"),
        }
    }
}
