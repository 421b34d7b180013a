//! An actix-web extractor: [`Authenticated`] holds the claims of the request's
//! `Authorization: Bearer` access token, verified by the [`Verifier`] in the app's
//! data; a missing or refused token is a 401 problem+json answer.
use actix_web::{
    FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, http::StatusCode,
    web::Data,
};
use std::{future::Future, pin::Pin};

use crate::{Claims, Error, Verifier};

/// The verified claims of the request's access token.
pub struct Authenticated(pub Claims);

/// Why a request was refused, as a 401 (or 503 when Tessera cannot be reached).
#[derive(Debug)]
pub struct Refused(Error);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self.0 {
            Error::Unavailable(_) => "service_unavailable",
            _ => "token_not_valid",
        };
        HttpResponse::build(self.status_code())
            .content_type("application/problem+json")
            .insert_header(("WWW-Authenticate", "Bearer"))
            .json(serde_json::json!({
                "title": "Not authenticated",
                "status": self.status_code().as_u16(),
                "detail": self.0.to_string(),
                "code": code,
            }))
    }
}

impl FromRequest for Authenticated {
    type Error = Refused;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refused>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<Data<Verifier>>().cloned();
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Box::pin(async move {
            let verifier = verifier.ok_or(Refused(Error::Unavailable(
                "no Verifier in app data".into(),
            )))?;
            let token = token.ok_or(Refused(Error::Invalid("no Bearer token")))?;
            verifier
                .verify(&token)
                .await
                .map(Authenticated)
                .map_err(Refused)
        })
    }
}
