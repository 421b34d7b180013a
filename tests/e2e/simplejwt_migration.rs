//! Moving a real Django REST framework + simplejwt project onto a tenant without a
//! password reset or a logout (tests/compat/django_project.py builds the project with
//! the pinned Django, DRF and simplejwt): its settings, its key (legacy), its users
//! with every Django hasher, and its blacklist come over; its passwords, tokens and
//! primary keys keep working; its own DB-backed authentication accepts Tessera's
//! tokens. `scripts/test.sh` sets `TESSERA_COMPAT_PYTHON` (the venv with the pins).
use serde_json::{Value, json};
use tessera_tests::{TestApp, decode_parts, s, scratch_dir};

use crate::tessera;

fn python() -> std::ffi::OsString {
    std::env::var_os("TESSERA_COMPAT_PYTHON").expect(
        "TESSERA_COMPAT_PYTHON must name the compat venv's python (scripts/test.sh sets it)",
    )
}

/// Runs the Django project's script off the test's runtime; returns success and output.
async fn django(args: Vec<String>) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/compat/django_project.py");
    let out = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new(python())
            .arg(script)
            .args(args)
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The project, built afresh in a scratch folder.
async fn project(what: &str) -> (std::path::PathBuf, Value) {
    let dir = scratch_dir(what);
    let (ok, out) = django(vec![dir.display().to_string(), "build".into()]).await;
    assert!(ok, "the Django project could not be built: {out}");
    (dir, serde_json::from_str(&out).expect("the project's JSON"))
}

fn read(path: &Value) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path.as_str().unwrap()).unwrap()).unwrap()
}

/// A kid-less HS256 token like simplejwt's, signed with `secret`.
fn kidless(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[actix_rt::test]
async fn a_simplejwt_project_moves_over_without_a_password_reset_or_a_logout() {
    let (dir, p) = project("simplejwt-migration").await;
    let app = TestApp::builder().real_argon2().start().await;
    let slug = "djangoshop";

    // Settings: the project's SIMPLE_JWT, read by the same mapping the CLI uses.
    let settings = tessera_core::simplejwt::settings_from(&read(&p["simple_jwt_file"])).unwrap();
    app.tenant(slug, Value::Object(settings)).await;
    let tenant = app.admin("GET", &format!("/tenants/{slug}"), None).await;
    assert_eq!(tenant.body["access_token_ttl"], 300, "{}", tenant.text);
    assert_eq!(tenant.body["algorithm"], "HS256");

    // The key, as the legacy key.
    let secret = s(&p, "signing_key");
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/keys/import"),
            Some(json!({"algorithm": "HS256", "secret": secret, "legacy": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["legacy_until"].is_string(), "{}", r.text);

    // The users, twice: the second import creates nobody.
    let dump = read(&p["users_file"]);
    let body = json!({"format": "django", "users": dump});
    let path = format!("/tenants/{slug}/users/import");
    let r = app.admin("POST", &path, Some(body.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["created"], 7, "{}", r.text);
    assert_eq!(r.body["failed"], json!([]), "{}", r.text);
    let again = app.admin("POST", &path, Some(body)).await;
    assert_eq!(again.body["created"], 0, "{}", again.text);
    assert_eq!(
        again.body["skipped"].as_array().unwrap().len(),
        7,
        "{}",
        again.text
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.slug = '{slug}'"
        )),
        7
    );

    // The blacklist.
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/revocations/import"),
            Some(json!({"format": "django", "objects": read(&p["blacklist_file"])})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["imported"], 1, "{}", r.text);

    let base = format!("/v1/tenants/{slug}");
    for u in p["users"].as_array().unwrap() {
        let (name, password, hasher) = (s(u, "username"), s(u, "password"), s(u, "hasher"));
        let pk = u["pk"].as_i64().unwrap().to_string();

        // The Django access token works wherever an access token does, as its user.
        let django_access = s(u, "access");
        let me = app
            .get(&format!("{base}/users/me"), Some(&django_access))
            .await;
        assert_eq!(me.status, 200, "{hasher}: {}", me.text);
        assert_eq!(me.body["username"], name.as_str());
        assert_eq!(me.body["external_id"], pk.as_str());
        let v = app
            .post(
                &format!("{base}/token/verify"),
                None,
                json!({"token": django_access}),
            )
            .await;
        assert_eq!(v.status, 200, "{}", v.text);
        assert_eq!(v.body["sub"], me.body["id"]);

        // Logins with the original password, before and after the re-hash.
        for round in ["first (Django hash)", "second (argon2id)"] {
            let pair = app.login(slug, &name, &password).await;
            let (header, claims) = decode_parts(&s(&pair, "access"));
            assert!(header["kid"].is_string(), "{hasher} {round}");
            assert_eq!(
                claims["user_id"],
                pk.as_str(),
                "{hasher} {round}: user_id is the pk"
            );
            assert_eq!(claims["sub"], me.body["id"], "{hasher} {round}");
        }
        let rehashed = app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE username = '{name}' AND password_hash LIKE '$argon2id$%'"
        ));
        assert_eq!(
            rehashed, 1,
            "{hasher}: the hash was upgraded at the first login"
        );
        let wrong = app
            .post(
                &format!("{base}/token"),
                None,
                json!({"username": name, "password": "not-it"}),
            )
            .await;
        assert_eq!(wrong.status, 401, "{hasher}");
    }

    // The Django refresh token: exchanged once for a Tessera pair, then refused.
    let first = &p["users"][1];
    let refresh = s(first, "refresh");
    let r = app
        .post(
            &format!("{base}/token/refresh"),
            None,
            json!({"refresh": refresh}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (header, claims) = decode_parts(&s(&r.body, "access"));
    assert!(
        header["kid"].is_string() && claims["sid"].is_string(),
        "{claims}"
    );
    assert_eq!(claims["user_id"], first["pk"].as_i64().unwrap().to_string());
    assert_eq!(app.refresh_status(slug, &s(&r.body, "refresh")).await, 200);
    assert_eq!(app.refresh_status(slug, &refresh).await, 401, "used once");
    assert_eq!(app.verify_status(slug, &refresh).await, 401, "used once");

    // What the old system blacklisted stays refused; so does a kid-less token the
    // project's key did not sign, and one of a user the tenant does not have.
    assert_eq!(
        app.refresh_status(slug, &s(&p, "blacklisted_refresh"))
            .await,
        401
    );
    let t = tessera_core::time::now();
    let forged = kidless(
        "another-secret-of-at-least-thirty-two-bytes!!",
        json!({"token_type": "access", "exp": t + 300, "iat": t, "jti": "0123456789abcdef0123456789abcdef", "user_id": "100"}),
    );
    assert_eq!(app.verify_status(slug, &forged).await, 401);
    assert_eq!(app.me_status(slug, &forged).await, 401);
    let stranger = kidless(
        &secret,
        json!({"token_type": "access", "exp": t + 300, "iat": t, "jti": "0123456789abcdef0123456789abcdee", "user_id": "31337"}),
    );
    assert_eq!(app.verify_status(slug, &stranger).await, 401);
    let valid = kidless(
        &secret,
        json!({"token_type": "access", "exp": t + 300, "iat": t, "jti": "0123456789abcdef0123456789abcded", "user_id": "100"}),
    );
    assert_eq!(
        app.me_status(slug, &valid).await,
        200,
        "the project's key signs"
    );

    // Logging out with a Django token revokes it, durably.
    let other = &p["users"][2];
    let access = s(other, "access");
    assert_eq!(app.revoke_status(slug, &access).await, 200);
    assert_eq!(app.me_status(slug, &access).await, 401);

    // The user with an unusable password never logs in.
    let r = app
        .post(
            &format!("{base}/token"),
            None,
            json!({"username": "no_password", "password": "anything-at-all"}),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    // The project's own DB-backed JWTAuthentication finds the same row in a Tessera
    // access token of an imported user.
    let u = &p["users"][3];
    let pair = app.login(slug, &s(u, "username"), &s(u, "password")).await;
    let (ok, out) = django(vec![
        dir.display().to_string(),
        "authenticate".into(),
        s(&pair, "access"),
    ])
    .await;
    assert!(ok, "the Django project refused a Tessera token: {out}");
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        vec![u["pk"].as_i64().unwrap().to_string(), s(u, "username")],
        "{out}"
    );
}

#[actix_rt::test]
async fn imports_check_each_record_and_the_legacy_window_ends() {
    let app = TestApp::start().await;
    let slug = "imports";
    app.tenant(slug, json!({"algorithm": "HS256"})).await;
    let path = format!("/tenants/{slug}/users/import");
    let users = json!([
        {"username": "ok_one", "password_hash": "!", "external_id": "a1"},
        {"username": "bad hash", "password_hash": "md5$x$y"},
        {"username": "ok_two", "password_hash": "!", "external_id": "a1"},
        {"username": "OK_ONE", "password_hash": "!"},
        {"username": "typo", "password_hash": "!", "is_admin": true},
        {"username": "when", "password_hash": "!", "date_joined": "last tuesday"},
        {"username": "nul", "password_hash": "!\u{0}"},
        {"username": "long", "password_hash": "!".repeat(2000)},
    ]);
    let r = app
        .admin(
            "POST",
            &path,
            Some(json!({"format": "tessera", "users": users})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let failed: Vec<i64> = r.body["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["index"].as_i64().unwrap())
        .collect();
    assert_eq!(failed, vec![1, 2, 4, 5, 6, 7], "{}", r.text);
    assert!(
        r.body["failed"][0]["errors"]["username"].is_array(),
        "{}",
        r.text
    );
    assert!(
        r.body["failed"][0]["errors"]["password"][0]
            .as_str()
            .unwrap()
            .contains("md5")
    );
    assert!(
        r.body["failed"][1]["errors"]["external_id"].is_array(),
        "{}",
        r.text
    );
    assert_eq!(r.body["skipped"][0]["username"], "OK_ONE", "{}", r.text);

    // The admin key is checked before a body is read: a bad key with a broken body
    // is a 401, not a 400.
    let r = app
        .raw(
            "POST",
            &format!("/v1/admin{path}"),
            "application/json",
            b"{broken".to_vec(),
            Some(("Authorization", "Bearer tsk_nope".into())),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Bodies that are not imports are one 400; so are too many users.
    let r = app
        .admin("POST", &path, Some(json!({"format": "csv", "users": []})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let many = vec![json!({}); 10_001];
    let r = app
        .admin(
            "POST",
            &path,
            Some(json!({"format": "tessera", "users": many})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["errors"]["users"].is_array(), "{}", r.text);
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/revocations/import"),
            Some(json!({"format": "django", "objects": [{"model": "auth.user", "pk": 1, "fields": {}}]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["errors"]["objects[0]"].is_array(), "{}", r.text);

    // external_id on the admin API: shown, settable, unique.
    let id = app
        .user(
            slug,
            "carol",
            "correct horse",
            json!({"external_id": "c-1"}),
        )
        .await;
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/users"),
            Some(json!({"username": "dave", "password": "correct horse", "external_id": "c-1"})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = app
        .admin(
            "PATCH",
            &format!("/tenants/{slug}/users/{id}"),
            Some(json!({"external_id": "c-2"})),
        )
        .await;
    assert_eq!(r.body["external_id"], "c-2", "{}", r.text);
    let pair = app.login(slug, "carol", "correct horse").await;
    assert_eq!(decode_parts(&s(&pair, "access")).1["user_id"], "c-2");
    let r = app
        .admin(
            "PATCH",
            &format!("/tenants/{slug}/users/{id}"),
            Some(json!({"external_id": null})),
        )
        .await;
    assert_eq!(r.body["external_id"], Value::Null, "{}", r.text);
    let pair = app.login(slug, "carol", "correct horse").await;
    assert_eq!(decode_parts(&s(&pair, "access")).1["user_id"], id.as_str());

    // A legacy key verifies kid-less tokens for its legacy_ttl only; without one,
    // kid-less tokens are refused.
    let secret = "a-legacy-secret-of-at-least-thirty-two-bytes";
    let t = tessera_core::time::now();
    let token = kidless(
        secret,
        json!({"token_type": "access", "exp": t + 300, "iat": t, "jti": "00000000000000000000000000000001", "user_id": "c-2"}),
    );
    app.admin(
        "PATCH",
        &format!("/tenants/{slug}/users/{id}"),
        Some(json!({"external_id": "c-2"})),
    )
    .await;
    assert_eq!(
        app.verify_status(slug, &token).await,
        401,
        "no legacy key yet"
    );
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/keys/import"),
            Some(json!({"algorithm": "HS256", "secret": secret, "legacy": true, "legacy_ttl": 2})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.verify_status(slug, &token).await, 200);
    tokio_sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(
        app.verify_status(slug, &token).await,
        401,
        "the legacy window ended"
    );
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/keys/import"),
            Some(json!({"algorithm": "HS256", "secret": secret, "legacy_ttl": 5})),
        )
        .await;
    assert_eq!(r.status, 400, "legacy_ttl without legacy: {}", r.text);

    // Retiring a legacy key ends its window at once, even after it rotated out.
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/keys/import"),
            Some(
                json!({"algorithm": "HS256", "secret": secret, "legacy": true, "legacy_ttl": 3600}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let legacy_kid = s(&r.body, "kid");
    assert_eq!(app.verify_status(slug, &token).await, 200);
    let short = json!({"access_token_ttl": 1, "refresh_token_ttl": 1, "session_max_lifetime": 1});
    let r = app
        .admin("PATCH", &format!("/tenants/{slug}"), Some(short))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .admin("POST", &format!("/tenants/{slug}/keys"), None)
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    tokio_sleep(std::time::Duration::from_millis(2_100)).await;
    let keys = app
        .admin("GET", &format!("/tenants/{slug}/keys"), None)
        .await;
    let listed = keys.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == legacy_kid.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["status"], "retired", "{}", keys.text);
    assert!(listed["legacy_until"].is_string(), "{}", keys.text);
    assert_eq!(
        app.verify_status(slug, &token).await,
        200,
        "rotated out, still the legacy key"
    );
    let r = app
        .admin(
            "DELETE",
            &format!("/tenants/{slug}/keys/{legacy_kid}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.verify_status(slug, &token).await,
        401,
        "its window ended with it"
    );
}

async fn tokio_sleep(d: std::time::Duration) {
    actix_web::rt::time::sleep(d).await;
}

#[actix_rt::test]
async fn the_command_line_brings_settings_users_and_the_blacklist() {
    let (dir, p) = project("simplejwt-cli").await;
    let mut app = TestApp::start().await;
    app.hand_over_data_dir().await;
    let env = app.env();
    let jwt = p["simple_jwt_file"].as_str().unwrap();
    let (ok, out, err) = tessera(&["tenant", "create", "cli-shop", "--simplejwt", jwt], &env);
    assert!(ok, "{out}{err}");
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["refresh_token_ttl"], 86400, "{out}");

    let bad = dir.join("bad_simple_jwt.json");
    std::fs::write(
        &bad,
        r#"{"ACCESS_TOKEN_LIFETIME": 60, "SLIDING_TOKEN_LIFETIME": 60}"#,
    )
    .unwrap();
    let (ok, _, err) = tessera(
        &[
            "tenant",
            "create",
            "cli-bad",
            "--simplejwt",
            bad.to_str().unwrap(),
        ],
        &env,
    );
    assert!(!ok && err.contains("SLIDING_TOKEN_LIFETIME"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let (ok, out, err) = tessera(
        &[
            "tenant",
            "update",
            "cli-shop",
            "--settings",
            r#"{"leeway": 5}"#,
        ],
        &env,
    );
    assert!(ok && out.contains("\"leeway\": 5"), "{out}{err}");

    let users = p["users_file"].as_str().unwrap();
    let (ok, out, err) = tessera(&["tenant", "import-users", "cli-shop", users], &env);
    assert!(ok, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["created"], 7, "{out}");
    let (ok, out, _) = tessera(&["tenant", "import-users", "cli-shop", users], &env);
    assert!(ok && out.contains("\"created\": 0"), "{out}");

    let blacklist = p["blacklist_file"].as_str().unwrap();
    let (ok, out, err) = tessera(
        &["tenant", "import-revocations", "cli-shop", blacklist],
        &env,
    );
    assert!(ok && out.contains("\"imported\": 1"), "{out}{err}");
    let (ok, _, err) = tessera(&["tenant", "import-users", "nope", users], &env);
    assert!(!ok && err.to_lowercase().contains("tenant"), "{err}");
}
