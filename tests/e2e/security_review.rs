//! Findings of the security review: each test failed before its fix.
use serde_json::json;
use tessera_core::ids::UserId;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn refresh_tokens_are_no_access_tokens_and_verify_refuses_used_ones() {
    let app = TestApp::start().await;
    app.tenant(
        "acme",
        json!({"audience": "api.acme", "custom_claims": {"plan": "gold"}}),
    )
    .await;
    app.user(
        "acme",
        "alice",
        "correct horse",
        json!({"roles": ["admin"]}),
    )
    .await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let (h, c) = decode_parts(&s(&pair, "refresh"));
    assert_eq!(
        (h["typ"].clone(), c["token_type"].clone()),
        (json!("JWT"), json!("refresh"))
    );
    assert_eq!(c["aud"], format!("{}/v1/tenants/acme/token", app.url));
    assert!(c.get("roles").is_none() && c.get("plan").is_none(), "{c}");
    let (_, a) = decode_parts(&s(&pair, "access"));
    assert_eq!(
        (a["aud"].clone(), a["plan"].clone()),
        (json!("api.acme"), json!("gold"))
    );
    // A refresh token is still exchanged, and verifies while it is exchangeable.
    assert_eq!(app.verify_status("acme", &s(&pair, "refresh")).await, 200);
    let next = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text);
    // Rotated out: /token/verify refuses it as simplejwt's blacklist app does.
    let r = app
        .post(
            "/v1/tenants/acme/token/verify",
            None,
            json!({"token": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "token_not_valid"));
    assert_eq!(
        app.verify_status("acme", &s(&next.body, "refresh")).await,
        200
    );
    // Revoked session: refused too; revoking it again takes no new generation.
    let generation = || app.count("SELECT revocation_gen AS n FROM tenants WHERE slug = 'acme'");
    let access = s(&next.body, "access");
    assert_eq!(app.revoke_status("acme", &access).await, 200);
    assert_eq!(
        app.verify_status("acme", &s(&next.body, "refresh")).await,
        401
    );
    let before = generation();
    assert_eq!(app.revoke_status("acme", &access).await, 200);
    assert_eq!(
        generation(),
        before,
        "a replayed logout makes no node refill"
    );
}

#[actix_rt::test]
async fn answers_with_tokens_or_secrets_are_never_stored() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let no_store = |r: &tessera_tests::Res| {
        r.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let login = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(no_store(&login).as_deref(), Some("no-store"), "/token");
    let refresh = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&login.body, "refresh")}),
        )
        .await;
    assert_eq!(
        no_store(&refresh).as_deref(),
        Some("no-store"),
        "/token/refresh"
    );
    let changed = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&s(&refresh.body, "access")),
            json!({"old_password": "correct horse", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        no_store(&changed).as_deref(),
        Some("no-store"),
        "/users/me/password"
    );
    let key = app
        .admin("POST", "/api-keys", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(key.status, 201);
    assert_eq!(
        no_store(&key).as_deref(),
        Some("no-store"),
        "admin key creation"
    );
}

#[actix_rt::test]
async fn two_tenants_never_share_an_issuer() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"issuer": "https://id.example/acme"}))
        .await;
    app.tenant("beta", json!({})).await;
    let field = |r: &tessera_tests::Res| (r.status.as_u16(), r.body["errors"]["issuer"].is_array());
    let r = app
        .admin(
            "POST",
            "/tenants",
            Some(json!({"slug": "gamma", "issuer": "https://id.example/acme"})),
        )
        .await;
    assert_eq!(field(&r), (400, true), "{}", r.text);
    let r = app
        .admin(
            "PATCH",
            "/tenants/beta",
            Some(json!({"issuer": "https://id.example/acme"})),
        )
        .await;
    assert_eq!(field(&r), (400, true), "{}", r.text);
    // Nor another tenant's default issuer (its own URL).
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"issuer": format!("{}/v1/tenants/beta", app.url)})),
        )
        .await;
    assert_eq!(field(&r), (400, true), "{}", r.text);
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"issuer": "https://id.example/acme2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A key scoped to a tenant may not choose its issuer.
    let k = app
        .admin(
            "POST",
            "/api-keys",
            Some(json!({"name": "beta", "tenant": "beta"})),
        )
        .await;
    let r = app
        .call(
            "PATCH",
            "/v1/admin/tenants/beta",
            Some(&s(&k.body, "secret")),
            Some(json!({"issuer": "https://id.example/beta"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (403, "permission_denied"),
        "{}",
        r.text
    );
}

#[actix_rt::test]
async fn settings_cannot_make_tokens_the_service_refuses() {
    let app = TestApp::start().await;
    let big = "x".repeat(600);
    let r = app
        .admin(
            "POST",
            "/tenants",
            Some(json!({"slug": "acme", "custom_claims": {"blob": big}})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["errors"]["custom_claims"].is_array(), "{}", r.text);
    // At the allowance, a user with the most and longest roles still gets tokens that
    // verify.
    let allowance = tessera_core::settings::TOKEN_CLAIMS_ALLOWANCE;
    let issuer = "https://id.example/acme";
    let blob = "y".repeat(allowance - issuer.len() - r#"{"blob":""}"#.len());
    app.tenant(
        "acme",
        json!({"issuer": issuer, "custom_claims": {"blob": blob}, "algorithm": "RS256"}),
    )
    .await;
    let quoted = json!({"username": "q", "password": "correct horse", "roles": ["a\"b"]});
    let r = app.admin("POST", "/tenants/acme/users", Some(quoted)).await;
    assert!(
        r.body["errors"]["roles"].is_array(),
        "roles JSON would escape: {}",
        r.text
    );
    let roles: Vec<String> = (0..64).map(|i| format!("{i:0>64}")).collect();
    app.user("acme", "alice", "correct horse", json!({"roles": roles}))
        .await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    assert!(
        access.len() <= tessera_core::token::MAX_TOKEN_BYTES,
        "{}",
        access.len()
    );
    assert_eq!(app.me_status("acme", &access).await, 200);
}

/// A login of `user` through a trusted proxy that names the client in `headers`.
async fn login_via(
    app: &TestApp,
    user: &str,
    password: &str,
    headers: Vec<(&str, String)>,
) -> tessera_tests::Res {
    let body = json!({"username": user, "password": password});
    app.send("POST", "/v1/tenants/acme/token", headers, Some(body))
        .await
}

fn xff(ip: &str) -> Vec<(&'static str, String)> {
    vec![("X-Forwarded-For", ip.to_owned())]
}

/// The address the sessions list shows for this pair's session.
async fn listed_ip(app: &TestApp, pair: &tessera_tests::Res) -> serde_json::Value {
    let r = app
        .get(
            "/v1/tenants/acme/users/me/sessions",
            Some(&s(&pair.body, "access")),
        )
        .await;
    let items = r.body["items"].as_array().cloned().unwrap_or_default();
    let current = items.iter().find(|i| i["current"] == true);
    current.map(|i| i["ip"].clone()).unwrap_or_default()
}

#[actix_rt::test]
async fn a_client_line_of_x_forwarded_for_never_names_the_client() {
    let app = TestApp::builder()
        .configure(|s| s.http.trusted_proxies = vec!["127.0.0.0/8".into()])
        .start()
        .await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    // The client sent its own line; the proxy (HAProxy option forwardfor) appended one.
    let lines = vec![
        ("X-Forwarded-For", "6.6.6.6".to_owned()),
        ("X-Forwarded-For", "203.0.113.7".to_owned()),
    ];
    let pair = login_via(&app, "alice", "correct horse", lines).await;
    assert_eq!(pair.status, 200, "{}", pair.text);
    assert_eq!(listed_ip(&app, &pair).await, "203.0.113.7");
    let pair = login_via(&app, "alice", "correct horse", xff("::ffff:198.51.100.3")).await;
    assert_eq!(
        listed_ip(&app, &pair).await,
        "198.51.100.3",
        "v4-mapped is canonical"
    );

    // RFC 7239 Forwarded, when that is the header the proxies write; IPv6 clients are
    // limited by their /64.
    let app = TestApp::builder()
        .configure(|s| {
            s.http.trusted_proxies = vec!["127.0.0.0/8".into()];
            s.http.forwarded_header = tessera_core::client_ip::ForwardedHeader::Forwarded;
        })
        .start()
        .await;
    app.tenant("acme", json!({"login_rate_limit": 2})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let fwd = |v: &str| vec![("Forwarded", v.to_owned())];
    let pair = login_via(
        &app,
        "alice",
        "correct horse",
        fwd(r#"for="[2001:db8:1:2::1]:443""#),
    )
    .await;
    assert_eq!(pair.status, 200, "{}", pair.text);
    assert_eq!(listed_ip(&app, &pair).await, "2001:db8:1:2::1");
    // Ignored: X-Forwarded-For is not what these proxies write.
    let r = login_via(&app, "bob", "x", xff("203.0.113.50")).await;
    assert_eq!(r.status, 401);
    let r = login_via(&app, "bob", "x", fwd("for=\"[2001:db8:1:2::99]\"")).await;
    assert_eq!(r.status, 401);
    let r = login_via(&app, "carol", "x", fwd("for=\"[2001:db8:1:2:ffff::5]\"")).await;
    assert_eq!(
        r.code(),
        "rate_limited",
        "one /64 is one client: {}",
        r.text
    );
    let r = login_via(&app, "carol", "x", fwd("for=\"[2001:db8:1:3::5]\"")).await;
    assert_eq!(r.status, 401, "another /64 is another client");
}

#[actix_rt::test]
async fn nobody_locks_an_owner_out_with_a_few_requests_a_minute() {
    let app = TestApp::builder()
        .configure(|s| s.http.trusted_proxies = vec!["127.0.0.0/8".into()])
        .start()
        .await;
    app.tenant("acme", json!({"login_rate_limit": 3})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    for _ in 0..3 {
        let r = login_via(&app, "alice", "guess", xff("198.51.100.66")).await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let r = login_via(&app, "alice", "correct horse", xff("198.51.100.66")).await;
    assert_eq!(r.code(), "rate_limited", "the guesser's address is stopped");
    // The owner, from her own address, logs in.
    let r = login_via(&app, "alice", "correct horse", xff("203.0.113.10")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A distributed guesser meets the username's ceiling (10 × the limit).
    let mut limited = false;
    for i in 0..12 {
        for _ in 0..3 {
            let r = login_via(&app, "alice", "guess", xff(&format!("192.0.2.{i}"))).await;
            limited |= r.code() == "rate_limited";
        }
    }
    assert!(limited, "the per-username ceiling holds");
}

#[actix_rt::test]
async fn sign_up_and_password_change_are_rate_limited_before_hashing() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"allow_signup": true, "login_rate_limit": 2}))
        .await;
    let signup = |name: &str| {
        let body = json!({"username": name, "password": "correct horse"});
        app.post("/v1/tenants/acme/users", None, body)
    };
    assert_eq!(signup("alice").await.status, 201);
    let taken = signup("alice").await;
    assert_eq!((taken.status.as_u16(), taken.code()), (409, "conflict"));
    let r = signup("bob").await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (429, "rate_limited"),
        "{}",
        r.text
    );
    assert!(r.headers.get("retry-after").is_some());

    let other = TestApp::start().await;
    other.tenant("acme", json!({"login_rate_limit": 2})).await;
    other
        .user("acme", "alice", "correct horse", json!({}))
        .await;
    let pair = other.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let change = |old: &str| {
        let body = json!({"old_password": old, "new_password": "brand new pass"});
        other.post("/v1/tenants/acme/users/me/password", Some(&access), body)
    };
    // The login counted once against this address too (login_rate_limit 2).
    assert_eq!(change("guess 1").await.code(), "validation_error");
    let r = change("guess 2").await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (429, "rate_limited"),
        "{}",
        r.text
    );
    let r = change("correct horse").await;
    assert_eq!(
        r.code(),
        "rate_limited",
        "even the right one, until the window ends"
    );
}

#[actix_rt::test]
async fn a_refresh_racing_a_revoke_never_fails_and_the_session_ends_revoked() {
    let app = TestApp::builder().pool_size(4).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    for round in 0..50 {
        let pair = app.login("acme", "alice", "correct horse").await;
        let (refresh, access) = (s(&pair, "refresh"), s(&pair, "access"));
        let (r, v) = futures_util::future::join(
            app.post(
                "/v1/tenants/acme/token/refresh",
                None,
                json!({"refresh": refresh}),
            ),
            app.post(
                "/v1/tenants/acme/token/revoke",
                None,
                json!({"token": access}),
            ),
        )
        .await;
        for x in [&r, &v] {
            assert!(
                x.status.as_u16() < 500,
                "round {round}: {} {}",
                x.status,
                x.text
            );
        }
        assert_eq!(v.status, 200, "round {round}: {}", v.text);
        // Whichever came first, the session is over: the old and any new tokens fail.
        assert_eq!(
            app.refresh_status("acme", &refresh).await,
            401,
            "round {round}"
        );
        if r.status == 200 {
            assert_eq!(
                app.me_status("acme", &s(&r.body, "access")).await,
                401,
                "round {round}"
            );
            assert_eq!(
                app.refresh_status("acme", &s(&r.body, "refresh")).await,
                401,
                "round {round}"
            );
        }
    }
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): several nodes"]
async fn a_node_that_missed_a_change_stops_using_a_retired_key_within_the_max_age() {
    if tessera_tests::shared_only("several nodes") {
        return;
    }
    let max_age = |s: &mut tessera_server::settings::Settings| s.cache.tenant_max_age_secs = 2;
    let a = TestApp::builder().configure(max_age).start().await;
    // B shares the database but listens on another channel: it hears no change.
    let deaf = format!("{}deaf:", a.prefix);
    let b = TestApp::builder()
        .node_of(&a)
        .redis_prefix(&deaf)
        .configure(max_age)
        .start()
        .await;
    a.tenant("acme", json!({})).await;
    a.user("acme", "alice", "correct horse", json!({})).await;
    let pair = a.login("acme", "alice", "correct horse").await;
    let old = s(&pair, "access");
    assert_eq!(b.verify_status("acme", &old).await, 200);
    let kid = a.jwks_kids("acme").await[0].clone();
    let r = a.admin("POST", "/tenants/acme/keys", None).await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = a
        .admin("DELETE", &format!("/tenants/acme/keys/{kid}"), None)
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(a.verify_status("acme", &old).await, 401);
    let took = tessera_tests::eventually(
        "B refuses the retired kid",
        std::time::Duration::from_secs(4),
        || async { b.verify_status("acme", &old).await == 401 },
    )
    .await;
    assert!(took <= std::time::Duration::from_secs(3), "{took:?}");
    let fresh = a.login("acme", "alice", "correct horse").await;
    assert_eq!(b.verify_status("acme", &s(&fresh, "access")).await, 200);
    // Without Redis, a change is saved but answered 503: other nodes were not told.
    // Tenants unknown to a node are remembered briefly, and forgotten on creation.
    assert_eq!(b.jwks_status("later").await, 404);
    a.tenant("later", json!({})).await;
    tessera_tests::eventually(
        "B sees the new tenant",
        std::time::Duration::from_secs(3),
        || async { b.jwks_status("later").await == 200 },
    )
    .await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): a Redis that stops"]
async fn a_change_no_node_could_be_told_of_is_not_answered_as_done() {
    if tessera_tests::shared_only("a Redis that stops") {
        return;
    }
    let mut redis = tessera_tests::services::PrivateRedis::start();
    let a = TestApp::builder().redis(&redis.url()).start().await;
    a.tenant("acme", json!({})).await;
    redis.stop();
    let r = a
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"access_token_ttl": 60})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (503, "service_unavailable"),
        "{}",
        r.text
    );
    redis.resume();
    let r = a.admin("GET", "/tenants/acme", None).await;
    assert_eq!(
        r.body["access_token_ttl"], 60,
        "the change itself is saved: {}",
        r.text
    );
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis pub/sub"]
async fn a_subscription_that_stops_answering_is_noticed_and_renewed() {
    if tessera_tests::shared_only("Redis pub/sub") {
        return;
    }
    use tessera_tests::services::{FreezingProxy, PrivateRedis};
    let redis = PrivateRedis::start();
    let proxy = FreezingProxy::start(redis.port());
    let a = TestApp::builder().redis(&redis.url()).start().await;
    // B reaches the same Redis through the proxy (its tenants live 30 s).
    let b = TestApp::builder()
        .node_of(&a)
        .redis(&proxy.url())
        .start()
        .await;
    a.tenant("acme", json!({})).await;
    assert_eq!(b.jwks_status("acme").await, 200);
    // B's subscription goes silent without closing: only a ping can tell.
    proxy.freeze();
    actix_rt::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert_eq!(b.jwks_status("acme").await, 200);
    let r = a
        .admin("PATCH", "/tenants/acme", Some(json!({"disabled": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    tessera_tests::eventually(
        "B hears of it on its renewed subscription",
        std::time::Duration::from_secs(1),
        || async { b.jwks_status("acme").await == 404 },
    )
    .await;
}

#[actix_rt::test]
async fn browser_mode_refuses_cross_site_token_requests_without_setting_a_cookie() {
    let app = TestApp::start().await;
    app.tenant(
        "acme",
        json!({"refresh_cookie": true, "allowed_origins": ["https://app.example.com"]}),
    )
    .await;
    app.tenant("api", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("api", "alice", "correct horse", json!({})).await;
    async fn login(app: &TestApp, slug: &str, headers: Vec<(&str, String)>) -> tessera_tests::Res {
        let body = json!({"username": "alice", "password": "correct horse"});
        app.send(
            "POST",
            &format!("/v1/tenants/{slug}/token"),
            headers,
            Some(body),
        )
        .await
    }
    let h = |k: &'static str, v: &str| (k, v.to_owned());
    // A cross-site form post (what login CSRF is), or a foreign Origin.
    for headers in [
        vec![
            h("Sec-Fetch-Site", "cross-site"),
            h("Origin", "https://evil.test"),
        ],
        vec![h("Origin", "https://evil.test")],
        vec![h("Origin", "null")],
        // A sibling on the same site (another tenant's app) is not trusted either.
        vec![
            h("Sec-Fetch-Site", "same-site"),
            h("Origin", "https://sibling.example"),
        ],
        vec![h("Sec-Fetch-Site", "same-site")],
    ] {
        let r = login(&app, "acme", headers.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "permission_denied"),
            "{headers:?}"
        );
        assert!(
            r.headers.get("set-cookie").is_none(),
            "no cookie: {headers:?}"
        );
    }
    // Same-origin, a listed origin, and clients that are no browser page get in.
    let host = app.url.trim_start_matches("http://").to_owned();
    for headers in [
        vec![h("Sec-Fetch-Site", "same-origin"), h("Origin", &app.url)],
        vec![h("Origin", &format!("http://{host}"))],
        vec![
            h("Sec-Fetch-Site", "cross-site"),
            h("Origin", "https://app.example.com"),
        ],
        vec![],
    ] {
        let r = login(&app, "acme", headers.clone()).await;
        assert_eq!(r.status, 200, "{headers:?}: {}", r.text);
    }
    // Refresh and revoke are refused the same way.
    for path in ["/token/refresh", "/token/revoke"] {
        let r = app
            .send(
                "POST",
                &format!("/v1/tenants/acme{path}"),
                vec![h("Sec-Fetch-Site", "cross-site")],
                Some(json!({})),
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "permission_denied"),
            "{path}"
        );
    }
    // A tenant without browser mode has no cookie to protect: API clients are free.
    let r = login(&app, "api", vec![h("Sec-Fetch-Site", "cross-site")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // allowed_origins takes origins only.
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"allowed_origins": ["https://x.test/path"]})),
        )
        .await;
    assert!(r.body["errors"]["allowed_origins"].is_array(), "{}", r.text);
}

#[actix_rt::test]
async fn within_the_reuse_interval_a_rotated_out_token_gets_its_successor_again() {
    let app = TestApp::builder().pool_size(8).start().await;
    app.tenant("acme", json!({"refresh_reuse_interval": 10}))
        .await;
    app.tenant("brief", json!({"refresh_reuse_interval": 1}))
        .await;
    for slug in ["acme", "brief"] {
        app.user(slug, "alice", "correct horse", json!({})).await;
    }
    let pair = app.login("acme", "alice", "correct horse").await;
    let refresh = s(&pair, "refresh");
    let replies = futures_util::future::join_all((0..20).map(|_| {
        app.post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": refresh}),
        )
    }))
    .await;
    let mut jtis = std::collections::HashSet::new();
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.text);
        jtis.insert(decode_parts(&s(&r.body, "refresh")).1["jti"].clone());
        assert_eq!(app.me_status("acme", &s(&r.body, "access")).await, 200);
    }
    assert_eq!(jtis.len(), 1, "one successor: {jtis:?}");
    // The session lives, and its one successor rotates on as usual.
    let next = &replies[0].body;
    assert_eq!(app.me_status("acme", &s(&pair, "access")).await, 200);
    let r = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(next, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The first token's successor is used now: presenting the first again is reuse.
    assert_eq!(app.refresh_status("acme", &refresh).await, 401);
    assert_eq!(
        app.me_status("acme", &s(&r.body, "access")).await,
        401,
        "session revoked"
    );

    // After the interval, a replay is reuse as with strict rotation.
    let pair = app.login("brief", "alice", "correct horse").await;
    let refresh = s(&pair, "refresh");
    assert_eq!(app.refresh_status("brief", &refresh).await, 200);
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.refresh_status("brief", &refresh).await, 401);
    assert_eq!(
        app.me_status("brief", &s(&pair, "access")).await,
        401,
        "session revoked"
    );
    // The interval has a range.
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"refresh_reuse_interval": 61})),
        )
        .await;
    assert!(
        r.body["errors"]["refresh_reuse_interval"].is_array(),
        "{}",
        r.text
    );
}

#[actix_rt::test]
async fn nothing_undoes_a_password_change() {
    use tessera_store::models::{session, user};
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id: UserId = app
        .user("acme", "alice", "correct horse", json!({}))
        .await
        .into();
    let mut db = app.db();
    let tenant = tessera_store::models::tenant::by_slug(&mut db, "acme")
        .unwrap()
        .unwrap();
    let before = user::by_id(&mut db, &tenant.id, &id).unwrap().unwrap();
    // The user changes the password while an admin change of the roles is under way.
    let pair = app.login("acme", "alice", "correct horse").await;
    let r = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&s(&pair, "access")),
            json!({"old_password": "correct horse", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let changes = user::UserChanges {
        roles: Some(r#"["staff"]"#.into()),
        ..Default::default()
    };
    user::update(&mut db, &before.tenant_id, &id, &changes).unwrap();
    let after = user::by_id(&mut db, &before.tenant_id, &id)
        .unwrap()
        .unwrap();
    assert_ne!(
        after.password_hash, before.password_hash,
        "the new password stays"
    );
    app.login("acme", "alice", "brand new pass").await;
    // A login that checked the old password cannot start a session afterwards.
    let t = tessera_core::time::now();
    let sess = session::Session {
        sid: "sid_race".into(),
        tenant_id: before.tenant_id.clone(),
        user_id: id.clone(),
        created_at: t,
        last_used_at: t,
        expires_at: t + 60,
        user_agent: None,
        ip: None,
        revoked_at: None,
    };
    let first = session::RefreshToken {
        jti: "jti_race".into(),
        tenant_id: before.tenant_id.clone(),
        sid: "sid_race".into(),
        parent_jti: None,
        user_id: id.clone(),
        issued_at: t,
        expires_at: t + 60,
        used_at: None,
        revoked_at: None,
    };
    let started = session::start(
        &mut db,
        &sess,
        &first,
        Some(before.password_changed_at),
        None,
    );
    assert!(!started.unwrap(), "stale password check: no session");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sessions WHERE sid = 'sid_race'"),
        0
    );
    assert!(
        session::start(
            &mut db,
            &sess,
            &first,
            Some(after.password_changed_at),
            None
        )
        .unwrap()
    );
}

#[actix_rt::test]
async fn a_login_rehashes_a_password_made_with_other_costs() {
    use tessera_core::password::{HashParams, PasswordHashing};
    use tessera_store::models::{tenant, user};
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id: UserId = app
        .user("acme", "alice", "correct horse", json!({}))
        .await
        .into();
    let mut db = app.db();
    let t = tenant::by_slug(&mut db, "acme").unwrap().unwrap();
    // The hash an older configuration made.
    let older = PasswordHashing::new(HashParams {
        memory_kib: 128,
        iterations: 2,
        parallelism: 1,
    })
    .unwrap();
    let old_hash = older.hash(&mut older.scratch(), "correct horse").unwrap();
    user::set_password(&mut db, &t.id, &id, &old_hash).unwrap();
    let pair = app.login("acme", "alice", "correct horse").await;
    let stored = user::by_id(&mut db, &t.id, &id)
        .unwrap()
        .unwrap()
        .password_hash;
    let s_ = &app.settings.argon2;
    let costs = format!("m={},t={},p=1", s_.memory_kib, s_.iterations);
    assert!(stored.contains(&costs), "rehashed with {costs}: {stored}");
    assert_ne!(stored, old_hash);
    // Nothing else changed: the session works, the password too.
    assert_eq!(app.me_status("acme", &s(&pair, "access")).await, 200);
    app.login("acme", "alice", "correct horse").await;
}
