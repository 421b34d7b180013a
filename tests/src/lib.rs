//! `TestApp`: the real Tessera server on a random 127.0.0.1 port, isolated per test,
//! so tests run in parallel and clean up after themselves. Two backends, chosen by
//! `TESSERA_TEST_BACKEND`: `shared` (default) runs against real Postgres and Redis
//! (its own Postgres schema, scoped through `options=-c search_path=…` in the URL,
//! and its own Redis key prefix); `embedded` runs the zero-setup mode (its own data
//! folder with an SQLite file and a master key made by the server, revocations in
//! process). Tests of what only the shared mode has (several nodes, Redis and
//! Postgres faults) are `#[ignore]`d with the reason, so the embedded pass reports
//! them as skipped; the shared pass runs them with `--include-ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use awc::http::StatusCode;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use diesel::{Connection, PgConnection, RunQueryDsl};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::{net::TcpListener, time::Duration};
use tessera_core::master_key::MasterKey;
use tessera_server::{settings::Settings, startup};

pub mod services;

/// Postgres to test against (`TEST_DATABASE_URL`, default the machine's `test` db
/// over TLS, as production reaches Postgres: `sslmode=require`).
pub fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        "postgres://root@127.0.0.1:5432/test?sslmode=require&gssencmode=disable".into()
    })
}

/// A direct connection to a test Postgres (OpenSSL prepared as the server does).
pub fn pg(url: &str) -> diesel::ConnectionResult<PgConnection> {
    tessera_store::pool::prepare_tls();
    PgConnection::establish(url)
}

/// Whether this run tests the embedded mode (`TESSERA_TEST_BACKEND=embedded`).
pub fn embedded() -> bool {
    std::env::var("TESSERA_TEST_BACKEND").is_ok_and(|b| b == "embedded")
}

/// For tests of what only Postgres + Redis deployments have, which are also marked
/// `#[ignore = "shared backend only …"]` so that the runner reports them as skipped
/// in the embedded pass (the shared pass runs them with `--include-ignored`): true
/// (and a note on stderr) when this run tests the embedded mode anyway, so the test
/// returns at once.
pub fn shared_only(what: &str) -> bool {
    let skip = embedded();
    if skip {
        eprintln!("skipped under the embedded backend: {what}");
    }
    skip
}

/// A new empty folder under the system's temp folder, named for `what`.
pub fn scratch_dir(what: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tessera-{what}-{}", tessera_core::ids::random_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Redis to test against (`TEST_REDIS_URL`), without a database index.
pub fn redis_base() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A response: status, JSON body (Null when not JSON) and headers.
pub struct Res {
    pub status: StatusCode,
    pub body: Value,
    pub headers: awc::http::header::HeaderMap,
    pub text: String,
}

/// Sends one request to the server at `base`: the one way every test reaches a
/// server (a [`TestApp`] adds its transcript). Headers as given (a name twice is sent
/// twice), the body as JSON.
pub async fn request(
    client: &awc::Client,
    base: &str,
    method: &str,
    path: &str,
    headers: Vec<(&str, String)>,
    body: Option<Value>,
) -> Res {
    let mut req = client.request(method.parse().unwrap(), format!("{base}{path}"));
    for h in headers {
        req = req.append_header(h);
    }
    let res = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    };
    read(res.expect("request sent")).await
}

/// The `Authorization` header of a bearer token, if any.
pub fn bearer(token: Option<&str>) -> Vec<(&'static str, String)> {
    token
        .map(|t| ("Authorization", format!("Bearer {t}")))
        .into_iter()
        .collect()
}

async fn read(mut res: awc::ClientResponse) -> Res {
    let bytes = res.body().limit(4 << 20).await.unwrap();
    Res {
        status: res.status(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers: res.headers().clone(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

impl Res {
    /// `code` of a problem+json body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// Builder for a [`TestApp`].
pub struct Builder {
    redis_db: u8,
    prefix: Option<String>,
    database_base: Option<String>,
    redis_base: Option<String>,
    settings: Settings,
    shared: Option<Shared>,
}

/// What a second node takes from the first: its schema, Redis prefix, master key
/// and admin key.
struct Shared {
    /// Every node of one deployment has the same public URL (it names the issuer).
    public_url: Option<String>,
    base: String,
    schema: String,
    db_url: String,
    prefix: String,
    redis_url: String,
    master_key: secrecy::SecretString,
    admin_key: String,
}

impl Builder {
    /// Uses this Redis key prefix (and so change-notification channel) instead of
    /// the test's or the first node's: a node that hears none of the others.
    pub fn redis_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Uses a Redis database of its own (for tests that FLUSHDB).
    pub fn redis_db(mut self, db: u8) -> Self {
        self.redis_db = db;
        self
    }

    /// Uses this Postgres (e.g. a private instance a fault test stops) instead of
    /// `TEST_DATABASE_URL`.
    pub fn database(mut self, base: &str) -> Self {
        self.database_base = Some(base.to_owned());
        self
    }

    /// Uses this Redis (`redis://host:port`) instead of `TEST_REDIS_URL` (for a
    /// second node: this way to the first node's Redis).
    pub fn redis(mut self, base: &str) -> Self {
        self.redis_base = Some(base.to_owned());
        self
    }

    /// Uses this Redis Cluster (its nodes' URLs) instead of one Redis.
    pub fn redis_cluster(mut self, nodes: Vec<String>) -> Self {
        self.settings.redis.cluster_nodes = nodes.into_iter().map(Into::into).collect();
        self
    }

    /// Changes any setting before start.
    pub fn configure(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.settings);
        self
    }

    /// Sizes the Postgres pool (and the DB-bound actors' threads).
    pub fn pool_size(mut self, n: u32) -> Self {
        self.settings.database.pool_size = n;
        self
    }

    /// Uses the production argon2 costs instead of the cheap test costs.
    pub fn real_argon2(mut self) -> Self {
        self.settings.argon2 = Default::default();
        self
    }

    /// Makes this app a second node of `first`: same Postgres schema, Redis prefix,
    /// master key and admin key (the first node owns the clean-up).
    pub fn node_of(mut self, first: &TestApp) -> Self {
        self.shared = Some(Shared {
            public_url: Some(first.settings.public_url.clone()),
            base: first.db_base.clone(),
            schema: first.schema.clone(),
            db_url: first.db_url.clone(),
            prefix: first.prefix.clone(),
            redis_url: first.redis_url.clone(),
            master_key: first.settings.keys.master_key.clone().unwrap(),
            admin_key: first.admin_key.clone(),
        });
        self
    }

    /// Starts the app.
    pub async fn start(self) -> TestApp {
        if embedded() {
            assert!(
                self.shared.is_none(),
                "a second node needs the shared backend (guard the test with shared_only)"
            );
            return self.start_embedded().await;
        }
        let owner = self.shared.is_none();
        let shared = match self.shared {
            Some(s) => s,
            None => {
                let schema = format!("t_{}", tessera_core::ids::random_id());
                let base = self.database_base.clone().unwrap_or_else(database_url);
                let mut admin = pg(&base).expect("connect to test Postgres");
                diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                    .execute(&mut admin)
                    .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                Shared {
                    db_url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    prefix: format!("{schema}:"),
                    redis_url: format!(
                        "{}/{}",
                        self.redis_base.clone().unwrap_or_else(redis_base),
                        self.redis_db
                    ),
                    master_key: MasterKey::generate_base64().into(),
                    admin_key: String::new(),
                    schema,
                    base,
                    public_url: None,
                }
            }
        };
        let Shared {
            public_url,
            base,
            schema,
            db_url,
            prefix,
            redis_url,
            master_key,
            admin_key,
        } = shared;

        let prefix = self.prefix.unwrap_or(prefix);
        // A second node may reach the same Redis another way (e.g. through a proxy).
        let redis_url = match (&self.redis_base, owner) {
            (Some(base), false) => format!("{base}/{}", self.redis_db),
            _ => redis_url,
        };
        let mut settings = self.settings;
        settings.database.url = Some(db_url.clone().into());
        settings.redis.url = redis_url.clone().into();
        settings.redis.prefix = prefix.clone();
        settings.keys.master_key = Some(master_key);
        let Served {
            url,
            management_url,
            handles: (handle, management),
            data_lock,
        } = serve(&mut settings, public_url).await;
        let admin_key = if owner {
            tessera_server::commands::create_key(&settings, "tests", None).unwrap()
        } else {
            admin_key
        };
        TestApp {
            owner,
            transcript: Default::default(),
            url,
            admin_key,
            data_dir: None,
            schema,
            prefix,
            db_base: base,
            db_url,
            redis_url,
            settings,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            handle,
            management,
            management_url,
            data_lock,
        }
    }
}

impl Builder {
    /// Starts the app in the embedded mode, in a data folder of its own; the server
    /// makes the SQLite file and the master key there itself.
    async fn start_embedded(self) -> TestApp {
        let dir = scratch_dir("data");
        std::fs::copy(sqlite_template(), dir.join("tessera.db")).expect("copy the template");
        let mut settings = self.settings;
        settings.database.url = None;
        settings.data_dir = dir.to_string_lossy().into_owned();
        let Served {
            url,
            management_url,
            handles: (handle, management),
            data_lock,
        } = serve(&mut settings, None).await;
        let admin_key = tessera_server::commands::create_key(&settings, "tests", None).unwrap();
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        TestApp {
            owner: true,
            transcript: Default::default(),
            url,
            admin_key,
            data_dir: Some(dir),
            prefix: format!("{id}:"),
            schema: id,
            db_base: String::new(),
            db_url: String::new(),
            redis_url: String::new(),
            settings,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            handle,
            management,
            management_url,
            data_lock,
        }
    }
}

/// A migrated SQLite database, made once per test process: each embedded app starts
/// from a copy of it instead of migrating its own (a copy takes about a millisecond,
/// the migrations about 40 ms; see the README's Tests section). Postgres apps keep a
/// schema each, migrated by the server: there, cloning a template database measured
/// slower than migrating a schema.
fn sqlite_template() -> &'static std::path::Path {
    static TEMPLATE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let file = scratch_dir("sqlite-template").join("tessera.db");
        let target = tessera_store::Target::Sqlite(file.clone());
        let mut conn = tessera_store::pool::establish(&target).expect("open the template");
        tessera_store::pool::migrate(&mut conn).expect("migrate the template");
        // Closing the only connection checkpoints the WAL into the file.
        drop(conn);
        file
    })
}

/// Starts the server on a random port (public URL `public_url` or its own address);
/// returns its base URL, handle and (embedded) the data folder's lock, held as a real
/// node holds it.
async fn serve(settings: &mut Settings, public_url: Option<String>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let management = TcpListener::bind("127.0.0.1:0").unwrap();
    settings.public_url = public_url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    let running = startup::start(settings, Some(listener), Some(management))
        .await
        .expect("server starts");
    let handles = (running.server.handle(), running.management.handle());
    actix_rt::spawn(running.server);
    actix_rt::spawn(running.management);
    Served {
        url: format!("http://127.0.0.1:{port}"),
        management_url: format!("http://{}", running.management_addr),
        handles,
        data_lock: running.data_lock,
    }
}

/// A started server: its URLs, the handles of its public and management servers, and
/// (embedded) the data folder's lock.
struct Served {
    url: String,
    management_url: String,
    handles: (actix_web::dev::ServerHandle, actix_web::dev::ServerHandle),
    data_lock: Option<std::fs::File>,
}

/// The running app and helpers to call it.
pub struct TestApp {
    owner: bool,
    /// Every response this app's client received: headers and body.
    pub transcript: std::sync::Mutex<Vec<String>>,
    pub url: String,
    pub admin_key: String,
    /// The embedded mode's data folder (`None` on the shared backend).
    pub data_dir: Option<std::path::PathBuf>,
    /// A name unique to this test (the Postgres schema on the shared backend).
    pub schema: String,
    pub prefix: String,
    /// The Postgres database URL without the schema option.
    pub db_base: String,
    pub db_url: String,
    pub redis_url: String,
    pub settings: Settings,
    client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    management: actix_web::dev::ServerHandle,
    /// The management listener's base URL (`/metrics`, `/healthz`, `/readyz`).
    pub management_url: String,
    data_lock: Option<std::fs::File>,
}

impl TestApp {
    /// A builder with cheap argon2 costs, one worker and a small pool.
    pub fn builder() -> Builder {
        let mut settings = Settings::default();
        settings.http.workers = 1;
        settings.database.pool_size = 3;
        settings.argon2.memory_kib = 256;
        settings.argon2.iterations = 1;
        settings.argon2.max_concurrency = 2;
        settings.log.level = "warn".into();
        settings.keys.rotation_check_secs = 1;
        Builder {
            redis_db: 0,
            prefix: None,
            database_base: None,
            redis_base: None,
            settings,
            shared: None,
        }
    }

    /// Starts an app with defaults.
    pub async fn start() -> TestApp {
        Self::builder().start().await
    }

    /// Sends a request with an optional bearer token; `body` as JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res {
        self.send(method, path, bearer(token), body).await
    }

    /// Sends a JSON body (or none) with extra headers (a name given twice is sent
    /// as two header lines), recorded in the app's transcript.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: Vec<(&str, String)>,
        body: Option<Value>,
    ) -> Res {
        let res = request(&self.client, &self.url, method, path, headers, body).await;
        if let Ok(mut t) = self.transcript.lock() {
            t.push(format!("{:?}\n{}", res.headers, res.text));
        }
        res
    }

    /// Sends raw bytes with a content type and optional extra header.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        header: Option<(&str, String)>,
    ) -> Res {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .insert_header(("Content-Type", content_type.to_owned()));
        if let Some(h) = header {
            req = req.insert_header(h);
        }
        let res = read(req.send_body(body).await.expect("request sent")).await;
        if let Ok(mut t) = self.transcript.lock() {
            t.push(format!("{:?}\n{}", res.headers, res.text));
        }
        res
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Res {
        self.call("POST", path, bearer, Some(body)).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Res {
        self.call("GET", path, bearer, None).await
    }

    /// Admin call with the platform key.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Res {
        self.call(
            method,
            &format!("/v1/admin{path}"),
            Some(&self.admin_key),
            body,
        )
        .await
    }

    /// Imports a new PEM private key of `algorithm` as `slug`'s signing key; panics
    /// unless 201. Its PEM (for the test to sign with) and the import's answer.
    pub async fn import_new_key(
        &self,
        slug: &str,
        algorithm: tessera_core::algorithm::SigningAlgorithm,
    ) -> (String, Res) {
        let material = tessera_core::key_material::KeyMaterial::generate(algorithm).unwrap();
        let pem = String::from_utf8(material.as_bytes().to_vec()).unwrap();
        let r = self
            .admin(
                "POST",
                &format!("/tenants/{slug}/keys/import"),
                Some(json!({"algorithm": algorithm.as_str(), "private_key": pem})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        (pem, r)
    }

    /// Creates a tenant with extra settings; panics unless 201. Tests log in often
    /// from one address, so `login_rate_limit` is 1000 unless a test sets it.
    pub async fn tenant(&self, slug: &str, settings: Value) -> Value {
        let mut body = json!({"slug": slug, "display_name": slug, "login_rate_limit": 1000});
        body.as_object_mut()
            .unwrap()
            .extend(settings.as_object().cloned().unwrap_or_default());
        let r = self.admin("POST", "/tenants", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// Creates a user through the admin API; returns its id.
    pub async fn user(&self, slug: &str, username: &str, password: &str, extra: Value) -> String {
        let mut body = json!({"username": username, "password": password});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let r = self
            .admin("POST", &format!("/tenants/{slug}/users"), Some(body))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// Logs in; panics unless 200; returns the pair.
    pub async fn login(&self, slug: &str, username: &str, password: &str) -> Value {
        let r = self
            .post(
                &format!("/v1/tenants/{slug}/token"),
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Logs in with a User-Agent header; panics unless 200; returns the pair.
    pub async fn login_as(&self, slug: &str, username: &str, password: &str, agent: &str) -> Value {
        let body = json!({"username": username, "password": password});
        let r = self
            .raw(
                "POST",
                &format!("/v1/tenants/{slug}/token"),
                "application/json",
                body.to_string().into_bytes(),
                Some(("User-Agent", agent.to_owned())),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// The kids of a tenant's JWKS, in order.
    pub async fn jwks_kids(&self, slug: &str) -> Vec<String> {
        let r = self
            .get(&format!("/v1/tenants/{slug}/.well-known/jwks.json"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| s(k, "kid"))
            .collect()
    }

    /// Status of `GET /users/me` with this access token.
    pub async fn me_status(&self, slug: &str, access: &str) -> u16 {
        self.get(&format!("/v1/tenants/{slug}/users/me"), Some(access))
            .await
            .status
            .as_u16()
    }

    /// Status of `GET /.well-known/jwks.json` of a tenant (404 when this node does
    /// not know it, or it is disabled).
    pub async fn jwks_status(&self, slug: &str) -> u16 {
        self.get(&format!("/v1/tenants/{slug}/.well-known/jwks.json"), None)
            .await
            .status
            .as_u16()
    }

    /// Imports a Django blacklist (`manage.py dumpdata token_blacklist`) listing one
    /// token id until 2099, through the admin API; asserts it answered 200.
    pub async fn blacklist(&self, slug: &str, jti: &Value) {
        let objects = json!([
            {"model": "token_blacklist.outstandingtoken", "pk": 1, "fields": {"jti": jti, "expires_at": "2099-01-01T00:00:00Z"}},
            {"model": "token_blacklist.blacklistedtoken", "pk": 1, "fields": {"token": 1}},
        ]);
        let r = self
            .admin(
                "POST",
                &format!("/tenants/{slug}/revocations/import"),
                Some(json!({"format": "django", "objects": objects})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    /// Status of `POST /token/refresh` with this refresh token.
    pub async fn refresh_status(&self, slug: &str, refresh: &str) -> u16 {
        self.post(
            &format!("/v1/tenants/{slug}/token/refresh"),
            None,
            json!({"refresh": refresh}),
        )
        .await
        .status
        .as_u16()
    }

    /// Status of `POST /token/verify` with this token.
    pub async fn verify_status(&self, slug: &str, token: &str) -> u16 {
        self.post(
            &format!("/v1/tenants/{slug}/token/verify"),
            None,
            json!({"token": token}),
        )
        .await
        .status
        .as_u16()
    }

    /// Status of `POST /token/revoke` with this token (its session is revoked).
    pub async fn revoke_status(&self, slug: &str, token: &str) -> u16 {
        self.post(
            &format!("/v1/tenants/{slug}/token/revoke"),
            None,
            json!({"token": token}),
        )
        .await
        .status
        .as_u16()
    }

    /// A Redis connection to this test's Redis database.
    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The `n` column of one row of `sql` run in this test's schema.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql)
            .get_result::<N>(&mut self.db())
            .unwrap()
            .n
    }

    /// The environment that points a `tessera` process at this app's data: its
    /// Postgres schema, Redis prefix and master key, or its embedded data folder
    /// (cheap argon2 as in the app).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let st = &self.settings;
        let mut env = match &self.data_dir {
            Some(dir) => vec![("TESSERA__DATA_DIR", dir.to_string_lossy().into_owned())],
            None => vec![
                ("TESSERA__DATABASE__URL", self.db_url.clone()),
                ("TESSERA__REDIS__URL", self.redis_url.clone()),
                ("TESSERA__REDIS__PREFIX", self.prefix.clone()),
                (
                    "TESSERA__KEYS__MASTER_KEY",
                    st.keys
                        .master_key
                        .as_ref()
                        .unwrap()
                        .expose_secret()
                        .to_owned(),
                ),
            ],
        };
        env.extend([
            (
                "TESSERA__ARGON2__MEMORY_KIB",
                st.argon2.memory_kib.to_string(),
            ),
            (
                "TESSERA__ARGON2__ITERATIONS",
                st.argon2.iterations.to_string(),
            ),
            ("TESSERA__LOG__LEVEL", "warn".into()),
            // Many nodes run at once: each takes a free management port.
            ("TESSERA__MANAGEMENT__BIND", "127.0.0.1:0".into()),
        ]);
        env
    }

    /// GETs `path` on the management listener (`/metrics`, `/healthz`, `/readyz`).
    pub async fn management(&self, path: &str) -> Res {
        request(
            &self.client,
            &self.management_url,
            "GET",
            path,
            vec![],
            None,
        )
        .await
    }

    /// Embedded, stops this app's server and lets go of the data folder, so that a
    /// `tessera serve` process can take it over (one node per folder); the data stays
    /// readable through [`TestApp::db`]. Does nothing on the shared backend.
    pub async fn hand_over_data_dir(&mut self) {
        if let Some(lock) = self.data_lock.take() {
            self.handle.stop(true).await;
            self.management.stop(true).await;
            drop(lock);
        }
    }

    /// A direct connection to this test's data (its Postgres schema or SQLite file).
    pub fn db(&self) -> tessera_store::Db {
        tessera_store::establish(&self.settings.target().unwrap()).unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; its completion need not be awaited.
        drop(self.handle.stop(false));
        drop(self.management.stop(false));
        if !self.owner {
            return;
        }
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
            return;
        }
        if let Ok(mut c) = pg(&self.db_base) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                .execute(&mut c);
        }
        if let Ok(mut c) =
            redis::Client::open(self.redis_url.as_str()).and_then(|c| c.get_connection())
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.prefix))
                .query(&mut c)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut c);
            }
        }
    }
}

/// The decoded (unverified) header and claims of a compact JWS.
pub fn decode_parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let h = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let c = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (h, c)
}

/// A string field of a JSON value.
pub fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no string {k} in {v}"))
        .to_owned()
}

/// Polls `check` every 100 ms until it holds or `within` passes; returns how long
/// it took, or panics naming `what`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every log line of this test process from the first call on (all tests' servers
/// share the process), at debug level: for tests that look for leaked secrets.
pub fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        buf
    })
    .clone()
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
