//! Group commit: logins, refreshes and logouts that arrive together are committed
//! together, and each request still gets its own outcome — a reused or refused token
//! in a batch fails only itself, and tenants that rotate and tenants that do not share
//! batches.
use futures_util::future::join_all;
use serde_json::json;
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn each_refresh_of_a_batch_gets_its_own_outcome() {
    let app = TestApp::builder().pool_size(4).start().await;
    app.tenant("rot", json!({})).await;
    app.tenant("keep", json!({"rotate_refresh_tokens": false}))
        .await;
    for t in ["rot", "keep"] {
        app.user(t, "alice", "correct horse", json!({})).await;
    }
    let mut rot = Vec::new();
    for _ in 0..8 {
        rot.push(app.login("rot", "alice", "correct horse").await);
    }
    let mut keep = Vec::new();
    for _ in 0..4 {
        keep.push(app.login("keep", "alice", "correct horse").await);
    }
    // Session 0 is rotated once: its first token is then a reused one.
    let first = s(&rot[0], "refresh");
    let rotated = app
        .post(
            "/v1/tenants/rot/token/refresh",
            None,
            json!({"refresh": first}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    // Session 1 is logged out: its token is refused.
    assert_eq!(app.revoke_status("rot", &s(&rot[1], "refresh")).await, 200);

    // All at once: the reused token, the refused one, session 2's token twice (one use
    // wins), and every other session's token once, of both tenants.
    let mut sent: Vec<(&str, String)> = vec![
        ("rot", first.clone()),
        ("rot", s(&rot[1], "refresh")),
        ("rot", s(&rot[2], "refresh")),
        ("rot", s(&rot[2], "refresh")),
    ];
    sent.extend(rot[3..].iter().map(|p| ("rot", s(p, "refresh"))));
    sent.extend(keep.iter().map(|p| ("keep", s(p, "refresh"))));
    let paths: Vec<String> = sent
        .iter()
        .map(|(t, _)| format!("/v1/tenants/{t}/token/refresh"))
        .collect();
    let replies = join_all(
        sent.iter()
            .zip(&paths)
            .map(|((_, token), path)| app.post(path, None, json!({"refresh": token}))),
    )
    .await;
    let status: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(&status[..2], &[401, 401], "reused and refused: {status:?}");
    assert_eq!(
        status[2..4].iter().filter(|&&c| c == 200).count(),
        1,
        "one use of a token wins: {status:?}"
    );
    assert!(
        status[4..].iter().all(|&c| c == 200),
        "the rest are untouched by their batch-mates: {status:?}"
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(r.code(), "token_not_valid", "{}", r.text);
    }
    // Every success hands out tokens that work; the rotating tenant's are new ones,
    // and the others keep their refresh token.
    for (i, r) in replies.iter().enumerate().skip(4) {
        assert_eq!(app.me_status(sent[i].0, &s(&r.body, "access")).await, 200);
        if sent[i].0 == "rot" {
            assert_ne!(s(&r.body, "refresh"), sent[i].1);
            assert_eq!(app.refresh_status("rot", &s(&r.body, "refresh")).await, 200);
        } else {
            assert!(r.body.get("refresh").is_none(), "{}", r.text);
            assert_eq!(app.refresh_status("keep", &sent[i].1).await, 200);
        }
    }
    // The reuse revoked session 0 (its newest token too), and nothing else.
    assert_eq!(
        app.refresh_status("rot", &s(&rotated.body, "refresh"))
            .await,
        401
    );
    assert_eq!(app.me_status("rot", &s(&rot[5], "access")).await, 200);
}

#[actix_rt::test]
async fn logouts_that_arrive_together_each_revoke_their_own_session() {
    let app = TestApp::builder().pool_size(4).start().await;
    for t in ["one", "two"] {
        app.tenant(t, json!({})).await;
        app.user(t, "alice", "correct horse", json!({})).await;
    }
    let mut sessions = Vec::new();
    for i in 0..10 {
        let t = if i % 2 == 0 { "one" } else { "two" };
        sessions.push((t, app.login(t, "alice", "correct horse").await));
    }
    let kept = app.login("one", "alice", "correct horse").await;
    // Session 0 is logged out twice at once, with its access and its refresh token.
    let mut sent: Vec<(&str, String)> = vec![(sessions[0].0, s(&sessions[0].1, "access"))];
    sent.extend(sessions.iter().map(|(t, p)| (*t, s(p, "refresh"))));
    let paths: Vec<String> = sent
        .iter()
        .map(|(t, _)| format!("/v1/tenants/{t}/token/revoke"))
        .collect();
    let replies = join_all(
        sent.iter()
            .zip(&paths)
            .map(|((_, token), path)| app.post(path, None, json!({"token": token}))),
    )
    .await;
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for (t, p) in &sessions {
        assert_eq!(app.me_status(t, &s(p, "access")).await, 401);
        assert_eq!(app.refresh_status(t, &s(p, "refresh")).await, 401);
    }
    assert_eq!(app.me_status("one", &s(&kept, "access")).await, 200);
    // Every revocation is durable: one row per session, in Postgres or SQLite.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'sid'"),
        10
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM sessions WHERE revoked_at IS NOT NULL"),
        10
    );
}

#[actix_rt::test]
async fn logins_that_arrive_together_each_start_their_own_session() {
    let app = TestApp::builder().pool_size(4).start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("other", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "battery staple", json!({})).await;
    app.user("other", "alice", "other horse", json!({})).await;
    // Several logins of one user (whose row a batch locks once), of another user and
    // of another tenant's user, and wrong passwords, all at once.
    let mut sent = vec![("acme", "alice", "correct horse"); 6];
    sent.extend([("acme", "bob", "battery staple"); 3]);
    sent.extend([("other", "alice", "other horse"); 2]);
    sent.extend([
        ("acme", "alice", "wrong horse"),
        ("other", "alice", "correct horse"),
    ]);
    let paths: Vec<String> = sent
        .iter()
        .map(|(t, _, _)| format!("/v1/tenants/{t}/token"))
        .collect();
    let replies = join_all(sent.iter().zip(&paths).map(|((_, user, password), path)| {
        app.post(path, None, json!({"username": user, "password": password}))
    }))
    .await;
    let status: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(&status[..11], &[200; 11], "{status:?}");
    assert_eq!(&status[11..], &[401, 401], "wrong passwords: {status:?}");
    // Each login its own session: every refresh token works, once.
    let mut sids = std::collections::HashSet::new();
    for ((tenant, _, _), reply) in sent.iter().zip(&replies).take(11) {
        let refresh = s(&reply.body, "refresh");
        let claims = tessera_tests::decode_parts(&refresh).1;
        assert!(sids.insert(claims["sid"].as_str().unwrap().to_owned()));
        assert_eq!(app.refresh_status(tenant, &refresh).await, 200);
        assert_eq!(app.me_status(tenant, &s(&reply.body, "access")).await, 200);
    }
}
