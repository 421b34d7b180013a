//! A resource server that protects one route with `tessera-verify`: GET /orders
//! answers only to a valid, unrevoked access token of the tenant. The end-to-end
//! suite (tests/e2e/verify_crate.rs) runs `serve`.
//!
//! ```text
//! TESSERA_TENANT_URL=http://127.0.0.1:8080/v1/tenants/acme \
//! TESSERA_CLIENT_ID=cli_… TESSERA_CLIENT_SECRET=tcs_… \
//!   cargo run -p tessera-verify --features actix --example resource_server
//! ```
use actix_web::{App, HttpResponse, HttpServer, get, web::Data};
use tessera_verify::{Config, Verifier, actix::Authenticated};

/// The protected route: the caller's orders.
#[get("/orders")]
async fn orders(Authenticated(claims): Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"user": claims.sub, "orders": []}))
}

/// Serves the protected route on `listener` with `verifier`.
pub fn serve(
    verifier: Verifier,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let data = Data::new(verifier);
    Ok(
        HttpServer::new(move || App::new().app_data(data.clone()).service(orders))
            .workers(1)
            .listen(listener)?
            .run(),
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let url =
        env("TESSERA_TENANT_URL").unwrap_or_else(|| "http://127.0.0.1:8080/v1/tenants/acme".into());
    let mut config = Config::new(&url);
    if let (Some(id), Some(secret)) = (env("TESSERA_CLIENT_ID"), env("TESSERA_CLIENT_SECRET")) {
        config = config.client(&id, &secret);
    }
    let verifier = Verifier::new(config).await.map_err(std::io::Error::other)?;
    serve(verifier, std::net::TcpListener::bind("127.0.0.1:8090")?)?.await
}
