//! The OpenAPI document as a contract: schemathesis finds nothing in it on either
//! backend (tests/schemathesis/schemathesis.toml lists each excluded check and why),
//! and the behaviours behind it — lists that refuse a cursor they never gave, 405
//! with `Allow`, broken JSON as the body's error, client faults kept out of ERROR.
use serde_json::json;
use std::time::Duration;
use tessera_tests::{TestApp, s};

use crate::{sigterm, spawn_in};

/// Examples per operation and phase: bounded, a few minutes at most on this machine.
const MAX_EXAMPLES: &str = "50";

#[actix_rt::test]
async fn schemathesis_finds_nothing_the_document_does_not_allow() {
    let st = std::env::var_os("TESSERA_SCHEMATHESIS").unwrap_or_else(|| {
        panic!(
            "TESSERA_SCHEMATHESIS is unset: run `bash scripts/test.sh`, which installs \
             schemathesis and points this variable at it"
        )
    });
    let app = TestApp::start().await;
    // The data the operations need. The end-user routes use alice of acme; whatever
    // could end her session or make acme refuse her token (changing, disabling or
    // deleting a tenant, retiring a key, changing or deleting a user, ending
    // sessions) acts on a tenant, key, user or session of its own, so the run keeps
    // testing live data to the end (checked after it).
    app.tenant("acme", json!({"allow_signup": true})).await;
    for other in ["doomed", "patched", "keyed"] {
        app.tenant(other, json!({})).await;
    }
    let alice_id = app.user("acme", "alice", "correct horse", json!({})).await;
    let carol_id = app.user("acme", "carol", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let alice = s(&app.login("acme", "alice", "correct horse").await, "access");
    let bob = s(&app.login("acme", "bob", "correct horse").await, "access");
    let sessions = app
        .get("/v1/tenants/acme/users/me/sessions", Some(&bob))
        .await;
    let keys = app.admin("GET", "/tenants/keyed/keys", None).await;
    let api_key = app
        .admin("POST", "/api-keys", Some(json!({"name": "throwaway"})))
        .await;
    // A client that introspects for the run, and one the run may delete.
    let client = app
        .admin(
            "POST",
            "/tenants/acme/clients",
            Some(json!({"name": "resource server"})),
        )
        .await;
    let doomed_client = app
        .admin(
            "POST",
            "/tenants/acme/clients",
            Some(json!({"name": "throwaway"})),
        )
        .await;
    let basic = {
        use base64::Engine;
        let pair = format!(
            "{}:{}",
            s(&client.body, "client_id"),
            s(&client.body, "client_secret")
        );
        base64::engine::general_purpose::STANDARD.encode(pair)
    };
    let env = [
        ("TESSERA_ST_CLIENT_BASIC", basic),
        ("TESSERA_ST_CLIENT_ID", s(&doomed_client.body, "client_id")),
        ("TESSERA_ST_ADMIN_KEY", app.admin_key.clone()),
        ("TESSERA_ST_ACCESS", alice.clone()),
        ("TESSERA_ST_ENDING_ACCESS", bob),
        ("TESSERA_ST_USER_ID", alice_id),
        ("TESSERA_ST_CHANGED_USER_ID", carol_id),
        ("TESSERA_ST_SID", s(&sessions.body["items"][0], "sid")),
        ("TESSERA_ST_KID", s(&keys.body["items"][0], "kid")),
        ("TESSERA_ST_API_KEY_ID", s(&api_key.body, "id")),
    ];
    let scratch = tessera_tests::scratch_dir("schemathesis");
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemathesis/schemathesis.toml"
    );
    let spec = format!("{}/openapi.json", app.url);
    let out = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new(st)
            .current_dir(&scratch)
            .args(["--config-file", config, "run", &spec])
            .args(["--max-examples", MAX_EXAMPLES, "--seed", "20261126"])
            .args(["--phases", "examples,coverage,fuzzing", "--no-color"])
            .envs(env)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found something:\n{report}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(
        report.contains(&format!("Tested: {operations}")),
        "every one of the {operations} operations ran: {report}"
    );
    let me = app.get("/v1/tenants/acme/users/me", Some(&alice)).await;
    assert_eq!(
        me.status, 200,
        "the end-user routes were tested live: {}",
        me.text
    );
}

#[actix_rt::test]
async fn every_list_refuses_a_cursor_or_limit_it_never_gave() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    for name in ["one", "two"] {
        app.admin("POST", "/tenants/acme/clients", Some(json!({"name": name})))
            .await;
    }
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    let lists = [
        "/v1/admin/tenants",
        "/v1/admin/tenants/acme/keys",
        "/v1/admin/tenants/acme/users",
        "/v1/admin/tenants/acme/audit",
        "/v1/admin/audit",
        "/v1/admin/api-keys",
        "/v1/admin/tenants/acme/clients",
        "/v1/tenants/acme/users/me/sessions",
    ];
    for list in lists {
        let token = if list.contains("/users/me/") {
            access.clone()
        } else {
            app.admin_key.clone()
        };
        // What the list itself gives back is accepted.
        let first = app.get(&format!("{list}?limit=1"), Some(&token)).await;
        assert_eq!(first.status, 200, "{list}: {}", first.text);
        if let Some(next) = first.body["next_cursor"].as_str() {
            let second = app
                .get(&format!("{list}?limit=1&cursor={next}"), Some(&token))
                .await;
            assert_eq!(second.status, 200, "{list}: {}", second.text);
        }
        // An empty cursor is the first page, as no cursor is.
        let empty = app.get(&format!("{list}?cursor="), Some(&token)).await;
        assert_eq!(empty.status, 200, "{list}: {}", empty.text);
        for query in ["cursor=bogus", "cursor=usr_00", "limit=0", "limit=201"] {
            let r = app.get(&format!("{list}?{query}"), Some(&token)).await;
            assert_eq!(r.status, 400, "{list}?{query}: {}", r.text);
            assert_eq!(r.code(), "validation_error");
            let field = query.split('=').next().unwrap();
            assert!(
                r.body["errors"][field].is_array(),
                "{list}?{query}: {}",
                r.text
            );
        }
    }
}

#[actix_rt::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::start().await;
    for (method, path, allow) in [
        ("DELETE", "/v1/tenants/acme/token", "POST"),
        ("PUT", "/v1/admin/tenants/acme", "GET, DELETE, PATCH"),
        ("GET", "/v1/admin/tenants/acme/keys/import", "POST"),
        ("TRACE", "/healthz", "GET"),
    ] {
        let r = app.send(method, path, vec![], None).await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
        assert_eq!(r.code(), "method_not_allowed");
        let got = r.headers.get("allow").and_then(|v| v.to_str().ok());
        let mut got: Vec<&str> = got.unwrap_or_default().split(", ").collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
    }
    let unknown = app.get("/v1/nowhere", None).await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "not_found")
    );
}

#[actix_rt::test]
async fn broken_json_is_the_bodys_error_and_whole_numbers_may_be_written_as_floats() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "application/json",
            br#"{"username": "alice", "password": "#.to_vec(),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let errors: Vec<&String> = r.body["errors"].as_object().unwrap().keys().collect();
    assert_eq!(errors, ["body"], "{}", r.text);
    let r = app
        .admin("PATCH", "/tenants/acme", Some(json!({"leeway": 30.0})))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["leeway"].clone()),
        (200, json!(30))
    );
}

#[actix_rt::test]
async fn the_document_says_what_the_validation_checks() {
    let r = TestApp::start().await.get("/openapi.json", None).await;
    let doc = r.body;
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    // One flat object a client can satisfy: its own example has no extra property.
    let create = schema("CreateTenantRequest");
    assert_eq!(create["additionalProperties"], false);
    let props = create["properties"].as_object().unwrap();
    for field in create["example"].as_object().unwrap().keys() {
        assert!(props.contains_key(field), "{field} is not in the schema");
    }
    assert_eq!(props["slug"]["pattern"], tessera_core::ids::SLUG_PATTERN);
    let patch = schema("SettingsPatch");
    assert_eq!(
        patch["properties"]["leeway"]["maximum"],
        tessera_core::settings::MAX_LEEWAY
    );
    for (field, p) in patch["properties"].as_object().unwrap() {
        let text = p["description"].as_str().unwrap_or_default();
        assert!(!text.contains("[`"), "{field}: a Rust doc link: {text}");
        assert!(text.contains("Default:"), "{field}: no default: {text}");
    }
    assert_eq!(
        schema("ImportKeyRequest")["oneOf"].as_array().map(Vec::len),
        Some(4)
    );
    // Every route that takes a body says what an oversized or non-JSON body gets.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path}: no {status}"
                    );
                }
            }
            if path.contains("{tenant}") {
                assert!(
                    op["responses"].get("404").is_some(),
                    "{method} {path}: no 404"
                );
            }
        }
    }
    let login = &doc["paths"]["/v1/tenants/{tenant}/token"]["post"]["requestBody"]["content"];
    assert_eq!(
        login["application/x-www-form-urlencoded"]["example"]["username"],
        "alice"
    );
    let refresh = &doc["paths"]["/v1/tenants/{tenant}/token/refresh"]["post"]["parameters"];
    assert!(
        refresh
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "X-CSRF-Token" && p["in"] == "header"),
        "{refresh}"
    );
}

#[actix_rt::test]
async fn a_malformed_request_is_not_an_error_of_the_service() {
    let dir = tessera_tests::scratch_dir("client-faults");
    let env = vec![
        ("TESSERA__REDIS__URL", "redis://127.0.0.1:1".to_owned()),
        ("TESSERA__LOG__LEVEL", "debug".to_owned()),
        ("TESSERA__ARGON2__MEMORY_KIB", "256".to_owned()),
        ("TESSERA__ARGON2__ITERATIONS", "1".to_owned()),
    ];
    let (mut child, url) = spawn_in(&dir, env).await;
    let addr = url.trim_start_matches("http://").to_owned();
    actix_web::rt::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n")
            .unwrap();
        let mut answer = [0u8; 64];
        let n = c.read(&mut answer).unwrap_or(0);
        assert!(
            String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 400"),
            "a malformed request is a 400"
        );
    })
    .await
    .unwrap();
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(
        !log.contains("ERROR"),
        "a client's fault logged as an error: {log}"
    );
    assert!(log.contains("malformed request"), "logged at debug: {log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn a_control_character_never_reaches_the_database() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    for path in [
        "/tenants/%00",
        "/tenants/acme/users/usr_%00",
        "/tenants/acme/keys/key_%01",
    ] {
        let r = app.admin("GET", path, None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
    let r = app
        .admin("GET", "/tenants/acme/users?search=a%00b", None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "validation_error"),
        "{}",
        r.text
    );
    for (path, body, field) in [
        (
            "/tenants/acme",
            json!({"display_name": "a\u{0}b"}),
            "display_name",
        ),
        ("/tenants/acme", json!({"audience": "x\u{0}"}), "audience"),
        ("/api-keys", json!({"name": "ops\u{0}"}), "name"),
    ] {
        let method = if path == "/api-keys" { "POST" } else { "PATCH" };
        let r = app.admin(method, path, Some(body)).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert!(r.body["errors"][field].is_array(), "{}", r.text);
    }
}
