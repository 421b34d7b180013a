//! Attacks on the token routes, each shown held: concurrent refresh-token replay,
//! session lifetime caps, login rate limits, equal login answers and timings,
//! input limits, the `JWT` header prefix, and browser (cookie) mode with CSRF.
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn twenty_concurrent_refreshes_of_one_token_give_exactly_one_success() {
    let app = TestApp::builder().pool_size(8).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let refresh = s(&pair, "refresh");
    let replies = join_all((0..20).map(|_| {
        app.post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": refresh}),
        )
    }))
    .await;
    let ok: Vec<&tessera_tests::Res> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        ok.len(),
        1,
        "exactly one winner: {:?}",
        replies
            .iter()
            .map(|r| r.status.as_u16())
            .collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "token_not_valid"),
            "{}",
            r.text
        );
    }
    // The replays are reuse: the whole session is revoked, the winner's tokens too.
    assert_eq!(app.me_status("acme", &s(&pair, "access")).await, 401);
    assert_eq!(app.me_status("acme", &s(&ok[0].body, "access")).await, 401);
    assert_eq!(
        app.refresh_status("acme", &s(&ok[0].body, "refresh")).await,
        401
    );
}

#[actix_rt::test]
async fn rotation_never_extends_a_session_past_its_max_lifetime() {
    let app = TestApp::start().await;
    app.tenant(
        "acme",
        json!({"access_token_ttl": 1, "refresh_token_ttl": 2, "session_max_lifetime": 3}),
    )
    .await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let end = decode_parts(&s(&pair, "refresh")).1["exp"]
        .as_i64()
        .unwrap()
        + 1;
    let mut refresh = s(&pair, "refresh");
    let start = Instant::now();
    let mut rotations = 0;
    loop {
        let r = app
            .post(
                "/v1/tenants/acme/token/refresh",
                None,
                json!({"refresh": refresh}),
            )
            .await;
        if r.status != 200 {
            assert_eq!(r.code(), "token_not_valid");
            break;
        }
        rotations += 1;
        for t in ["access", "refresh"] {
            let exp = decode_parts(&s(&r.body, t)).1["exp"].as_i64().unwrap();
            assert!(exp <= end, "{t} outlives the session: {exp} > {end}");
        }
        refresh = s(&r.body, "refresh");
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "the session never ended"
        );
        actix_rt::time::sleep(Duration::from_millis(700)).await;
    }
    assert!(rotations >= 2, "rotation worked until the end: {rotations}");
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[actix_rt::test]
async fn logins_are_rate_limited_per_username_and_per_address_with_retry_after() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"login_rate_limit": 3})).await;
    app.tenant("globex", json!({"login_rate_limit": 3})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("globex", "alice", "correct horse", json!({}))
        .await;
    async fn login(app: &TestApp, slug: &str, user: &str, pass: &str) -> tessera_tests::Res {
        let body = json!({"username": user, "password": pass});
        app.post(&format!("/v1/tenants/{slug}/token"), None, body)
            .await
    }
    for _ in 0..3 {
        assert_eq!(
            login(&app, "acme", "alice", "wrong").await.code(),
            "invalid_credentials"
        );
    }
    // The 4th attempt for alice is refused before any password check, even the right one,
    // and in any case or Unicode form of her name.
    for name in ["alice", "ALICE", "ａｌｉｃｅ"] {
        let r = login(&app, "acme", name, "correct horse").await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (429, "rate_limited"),
            "{name}"
        );
        let retry: i64 = r
            .headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    // Other tenants count apart.
    assert_eq!(
        login(&app, "globex", "alice", "correct horse").await.status,
        200
    );
    // The address limit: other usernames from this address are refused too now.
    let r = login(&app, "acme", "mallory", "x").await;
    assert_eq!(r.code(), "rate_limited", "{}", r.text);
}

#[actix_rt::test]
async fn unknown_user_wrong_password_and_inactive_user_take_the_same_time() {
    let app = TestApp::builder().real_argon2().start().await;
    app.tenant("acme", json!({"login_rate_limit": 1000})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({"is_active": false}))
        .await;
    // The three are measured in turns, so that a load drifting over the machine (the
    // suite runs in parallel) weighs on each alike.
    let cases = [
        ("alice", "not it"),
        ("nobody", "not it"),
        ("bob", "correct horse"),
    ];
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut texts: [String; 3] = Default::default();
    for _ in 0..7 {
        for (i, (user, pass)) in cases.iter().enumerate() {
            let t = Instant::now();
            let r = app
                .post(
                    "/v1/tenants/acme/token",
                    None,
                    json!({"username": user, "password": pass}),
                )
                .await;
            times[i].push(t.elapsed());
            texts[i] = r.text;
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[3]
    };
    let (wrong, unknown, inactive) = (
        median(&mut times[0]),
        median(&mut times[1]),
        median(&mut times[2]),
    );
    let [a, b, c] = texts;
    assert!(
        a == b && b == c,
        "one answer for all three: {a} / {b} / {c}"
    );
    // All three run one full argon2id verify; none answers in a fraction of it.
    for (what, t) in [("unknown user", unknown), ("inactive user", inactive)] {
        let ratio = t.as_secs_f64() / wrong.as_secs_f64();
        assert!(
            (0.5..2.0).contains(&ratio),
            "{what}: {t:?} vs wrong password {wrong:?}"
        );
    }
}

#[actix_rt::test]
async fn input_limits_answer_problem_json() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"allow_signup": true})).await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "application/json",
            deep.into_bytes(),
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "validation_error"),
        "{}",
        r.text
    );
    let nested = format!(
        r#"{{"username": "a", "password": {{"x": {}1{}}}}}"#,
        "[".repeat(35),
        "]".repeat(35)
    );
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/users",
            "application/json",
            nested.into_bytes(),
            None,
        )
        .await;
    assert_eq!(r.code(), "validation_error", "{}", r.text);
    // Below serde_json's own recursion limit (128), in a field that takes any JSON:
    // refused by Tessera's depth limit, before parsing.
    let claims = format!(
        r#"{{"custom_claims": {{"a": {}1{}}}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let r = app
        .raw(
            "PATCH",
            "/v1/admin/tenants/acme",
            "application/json",
            claims.into_bytes(),
            Some(("Authorization", format!("Bearer {}", app.admin_key))),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "validation_error"),
        "{}",
        r.text
    );
    assert!(r.text.contains("deeper than 32"), "{}", r.text);
    let big = vec![b'a'; 70 * 1024];
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "application/json",
            big,
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "payload_too_large"));
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/users",
            "text/plain",
            b"hi".to_vec(),
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (415, "unsupported_media_type")
    );
    for (body, field) in [
        (
            json!({"username": "x".repeat(151), "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "a b", "password": "correct horse"}),
            "username",
        ),
        (
            json!({"username": "carol", "password": "x".repeat(1025)}),
            "password",
        ),
        (
            json!({"username": "carol", "password": "short"}),
            "password",
        ),
    ] {
        let r = app.post("/v1/tenants/acme/users", None, body).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "validation_error"));
        assert!(r.body["errors"][field].is_array(), "{}", r.text);
    }
    // A long password at login is refused in the time of a normal one (no hash-DoS).
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "carol", "password": "x".repeat(1_000_000 / 20)}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");

    // Usernames: NFKC, unique ignoring case; logging in works in any form.
    let r = app
        .post(
            "/v1/tenants/acme/users",
            None,
            json!({"username": "Ｊｏｓé", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["username"].as_str()),
        (201, Some("José")),
        "{}",
        r.text
    );
    for taken in ["josé", "JOSÉ", "Jose\u{301}"] {
        let r = app
            .post(
                "/v1/tenants/acme/users",
                None,
                json!({"username": taken, "password": "correct horse"}),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"), "{taken}");
    }
    app.login("acme", "JOSE\u{301}", "correct horse").await;
}

#[actix_rt::test]
async fn the_jwt_header_prefix_works_only_where_the_tenant_allows_it() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("legacy", json!({"auth_header_types": ["Bearer", "JWT"]}))
        .await;
    for slug in ["acme", "legacy"] {
        app.user(slug, "alice", "correct horse", json!({})).await;
    }
    for (slug, jwt_ok) in [("acme", false), ("legacy", true)] {
        let access = s(&app.login(slug, "alice", "correct horse").await, "access");
        let r = app
            .raw(
                "GET",
                &format!("/v1/tenants/{slug}/users/me"),
                "application/json",
                Vec::new(),
                Some(("Authorization", format!("JWT {access}"))),
            )
            .await;
        if jwt_ok {
            assert_eq!(r.status, 200, "{}", r.text);
        } else {
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (401, "not_authenticated"),
                "{}",
                r.text
            );
        }
        assert_eq!(
            app.me_status(slug, &access).await,
            200,
            "Bearer always works here"
        );
    }
}

/// A request in browser mode: cookies and an optional CSRF header.
async fn browser_post(
    app: &TestApp,
    path: &str,
    cookies: &str,
    csrf: Option<&str>,
    body: Value,
) -> tessera_tests::Res {
    let mut headers = vec![("Cookie", cookies.to_owned())];
    if let Some(c) = csrf {
        headers.push(("X-CSRF-Token", c.to_owned()));
    }
    app.send("POST", path, headers, Some(body)).await
}

fn set_cookies(r: &tessera_tests::Res) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set: &[String], name: &str) -> String {
    set.iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie in {set:?}"))
}

#[actix_rt::test]
async fn browser_mode_keeps_the_refresh_token_in_a_csrf_checked_cookie() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"refresh_cookie": true})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body.get("refresh").is_none(),
        "no refresh token in the body: {}",
        r.text
    );
    assert!(r.body["access"].is_string());
    let set = set_cookies(&r);
    let refresh_cookie = set
        .iter()
        .find(|c| c.starts_with("tessera_refresh="))
        .unwrap();
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/v1/tenants/acme/token",
        "Max-Age=86400",
    ] {
        assert!(
            refresh_cookie.contains(attr),
            "{attr} missing: {refresh_cookie}"
        );
    }
    let csrf_cookie = set.iter().find(|c| c.starts_with("tessera_csrf=")).unwrap();
    assert!(!csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    // Readable by a page on any path of the site, and given in the body as well.
    assert!(
        csrf_cookie.split("; ").any(|a| a == "Path=/"),
        "{csrf_cookie}"
    );
    let (refresh, csrf) = (
        cookie_value(&set, "tessera_refresh"),
        cookie_value(&set, "tessera_csrf"),
    );
    assert_eq!(r.body["csrf_token"], csrf.as_str(), "{}", r.text);
    let cookies = format!("tessera_refresh={refresh}; tessera_csrf={csrf}");
    let path = "/v1/tenants/acme/token/refresh";

    // No header, a wrong header, or a header without its cookie: 403, nothing used up.
    for (c, h) in [
        (cookies.clone(), None),
        (cookies.clone(), Some("forged")),
        (format!("tessera_refresh={refresh}"), Some(csrf.as_str())),
    ] {
        let r = browser_post(&app, path, &c, h, json!({})).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "permission_denied"),
            "{c} / {h:?}"
        );
    }
    let r = browser_post(&app, path, &cookies, Some(&csrf), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("refresh").is_none());
    let set = set_cookies(&r);
    let rotated = cookie_value(&set, "tessera_refresh");
    assert_ne!(
        rotated, refresh,
        "the rotated token goes back into the cookie"
    );
    let csrf = cookie_value(&set, "tessera_csrf");
    let cookies = format!("tessera_refresh={rotated}; tessera_csrf={csrf}");

    // Revoke reads the cookie too (with the header) and clears both cookies.
    let r = browser_post(
        &app,
        "/v1/tenants/acme/token/revoke",
        &cookies,
        None,
        json!({}),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = browser_post(
        &app,
        "/v1/tenants/acme/token/revoke",
        &cookies,
        Some(&csrf),
        json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cleared = set_cookies(&r);
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let r = browser_post(&app, path, &cookies, Some(&csrf), json!({})).await;
    assert_eq!(r.code(), "token_not_valid", "revoked");

    // A tenant not in browser mode ignores the cookie.
    app.tenant("plain", json!({})).await;
    let r = browser_post(
        &app,
        "/v1/tenants/plain/token/refresh",
        &cookies,
        Some(&csrf),
        json!({}),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "validation_error"));
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_and_listed() {
    async fn login_from(app: &TestApp, user: &str, xff: &str) -> tessera_tests::Res {
        let body = json!({"username": user, "password": "correct horse"});
        app.send(
            "POST",
            "/v1/tenants/acme/token",
            vec![("X-Forwarded-For", xff.into())],
            Some(body),
        )
        .await
    }
    // Not trusted (the default): the header is ignored, the peer is the client.
    let plain = TestApp::start().await;
    plain.tenant("acme", json!({"login_rate_limit": 2})).await;
    plain
        .user("acme", "alice", "correct horse", json!({}))
        .await;
    let pair = login_from(&plain, "alice", "203.0.113.7").await;
    let sessions = plain
        .get(
            "/v1/tenants/acme/users/me/sessions",
            Some(&s(&pair.body, "access")),
        )
        .await;
    assert_eq!(sessions.body["items"][0]["ip"], "127.0.0.1");
    assert_eq!(login_from(&plain, "bob", "203.0.113.8").await.status, 401);
    assert_eq!(
        login_from(&plain, "bob", "203.0.113.9").await.code(),
        "rate_limited",
        "every forwarded address is the same peer"
    );

    // Trusted: the rightmost untrusted entry is the client; a spoofed left entry is not.
    let app = TestApp::builder()
        .configure(|s| s.http.trusted_proxies = vec!["127.0.0.0/8".into()])
        .start()
        .await;
    app.tenant("acme", json!({"login_rate_limit": 2})).await;
    for u in ["alice", "bob", "carol"] {
        app.user("acme", u, "correct horse", json!({})).await;
    }
    let pair = login_from(&app, "alice", "198.51.100.1, 203.0.113.7").await;
    assert_eq!(pair.status, 200, "{}", pair.text);
    let sessions = app
        .get(
            "/v1/tenants/acme/users/me/sessions",
            Some(&s(&pair.body, "access")),
        )
        .await;
    assert_eq!(sessions.body["items"][0]["ip"], "203.0.113.7");
    assert_eq!(login_from(&app, "bob", "203.0.113.7").await.status, 200);
    // 203.0.113.7 has had its two attempts; another client behind the same proxy has not.
    assert_eq!(
        login_from(&app, "carol", "1.1.1.1, 203.0.113.7")
            .await
            .code(),
        "rate_limited"
    );
    assert_eq!(login_from(&app, "carol", "203.0.113.9").await.status, 200);
}
