//! Tessera's HTTP layer: actix-web routes (one function per endpoint), extractors,
//! the problem+json error model, the OpenAPI document and Swagger UI. Handlers
//! parse, call one service of the [`Hub`], and map the reply.
#![forbid(unsafe_code)]

pub mod cookies;
pub mod error;
pub mod extract;
pub mod observe;
pub mod openapi;
pub mod routes;

use actix_web::{
    App, Error as ActixError, HttpResponse,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    web,
};
use tessera_actors::Hub;
use tessera_core::Error;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// The whole application for one worker: routes, Swagger UI at `/docs`, the spec at
/// `/openapi.json`, and problem+json for unknown routes.
pub fn app(
    hub: Hub,
    spec: serde_json::Value,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = ActixError,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(hub))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .into_utoipa_app()
        .configure(routes::configure)
        .into_app()
        .app_data(web::Data::new(routes::Methods::of(&spec)))
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").external_url_unchecked("/openapi.json", spec))
        .default_service(web::to(unrouted))
        .wrap(actix_web::middleware::from_fn(observe::observe))
}

/// The management listener's app: `/metrics`, `/healthz` and `/readyz`, nothing else
/// (anything else is a problem+json 404).
pub fn management_app(
    hub: Hub,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = ActixError,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(hub))
        .service(routes::ops::metrics)
        .service(routes::ops::healthz)
        .service(routes::ops::readyz)
        .default_service(web::to(|| async {
            error::problem_response(&Error::NotFound("Route"))
        }))
}

/// What no route took: 405 with `Allow` when the path exists with other methods,
/// else a problem+json 404.
async fn unrouted(
    req: actix_web::HttpRequest,
    methods: web::Data<routes::Methods>,
) -> HttpResponse {
    let err = match methods.allowed(req.path()) {
        Some(allowed) => Error::MethodNotAllowed { allowed },
        None => Error::NotFound("Route"),
    };
    error::problem_response(&err)
}
