//! Faults, against private Postgres and Redis servers the tests stop and restart:
//! whatever needs the lost service answers 503 `service_unavailable` (a token whose
//! revocation cannot be checked is never accepted), /readyz fails, and everything
//! recovers by itself when the service is back.
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_tests::{
    Res, TestApp, eventually, s,
    services::{PrivatePostgres, PrivateRedis},
};

const RECOVERY: Duration = Duration::from_secs(10);

/// A 503 `service_unavailable` that names neither the lost service nor an address.
fn unavailable(r: &Res, what: &str) {
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (503, "service_unavailable"),
        "{what}: {}",
        r.text
    );
    for leak in ["redis", "postgres", "127.0.0.1", "connection"] {
        assert!(
            !r.text.to_lowercase().contains(leak),
            "{what} leaks {leak}: {}",
            r.text
        );
    }
}

/// While a service is down readiness fails and liveness does not.
async fn only_readiness_fails(app: &TestApp) {
    assert_eq!(app.get("/readyz", None).await.status, 503);
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

/// Waits until /readyz answers 200 again and reports how long it took.
async fn ready_again(app: &TestApp, service: &str) {
    let took = eventually("ready again", RECOVERY, || async {
        app.get("/readyz", None).await.status == 200
    })
    .await;
    eprintln!("{service} recovery seen after {took:?}");
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis faults"]
async fn redis_down_means_503_never_an_unchecked_token_refresh_still_checked_by_postgres_and_recovery_after()
 {
    if tessera_tests::shared_only("Redis faults") {
        return;
    }
    let mut redis = PrivateRedis::start();
    let app = TestApp::builder().redis(&redis.url()).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let revoked = app.login("acme", "alice", "correct horse").await;
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&revoked, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200);
    let access = s(&pair, "access");
    assert_eq!(app.verify_status("acme", &access).await, 200);

    redis.stop();
    let started = Instant::now();
    let checks = [
        (
            "POST",
            "/v1/tenants/acme/token/verify",
            json!({"token": access}),
        ),
        (
            "POST",
            "/v1/tenants/acme/token/verify",
            json!({"token": s(&revoked, "access")}),
        ),
        (
            "POST",
            "/v1/tenants/acme/token",
            json!({"username": "alice", "password": "correct horse"}),
        ),
    ];
    for (method, path, body) in checks {
        unavailable(&app.call(method, path, None, Some(body)).await, path);
    }
    let r = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    unavailable(&r, "/users/me");
    // A refresh needs no Redis: Postgres decides its token's revocation in the
    // statement that uses it, so the logged-out session stays refused and the live
    // one rotates.
    assert_eq!(
        app.refresh_status("acme", &s(&revoked, "refresh")).await,
        401
    );
    let r = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200, "refresh while Redis is down: {}", r.body);
    let successor = s(&r.body, "refresh");
    only_readiness_fails(&app).await;
    // A node can start while Redis is down: it serves 503s until Redis is back.
    let late = TestApp::builder().node_of(&app).start().await;
    unavailable(
        &late
            .post(
                "/v1/tenants/acme/token/verify",
                None,
                json!({"token": access}),
            )
            .await,
        "late node",
    );
    only_readiness_fails(&late).await;
    // Offline verification material needs no Redis.
    assert_eq!(
        app.get("/v1/tenants/acme/.well-known/jwks.json", None)
            .await
            .status,
        200
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "503s were slow: {:?}",
        started.elapsed()
    );

    // Redis comes back empty: it is refilled from Postgres, so the revoked session
    // stays revoked, and the rest works again.
    redis.resume();
    ready_again(&app, "redis").await;
    ready_again(&late, "redis (node started without it)").await;
    assert_eq!(late.verify_status("acme", &access).await, 200);
    assert_eq!(app.verify_status("acme", &access).await, 200);
    assert_eq!(app.verify_status("acme", &s(&revoked, "access")).await, 401);
    assert_eq!(
        app.refresh_status("acme", &s(&revoked, "refresh")).await,
        401
    );
    assert_eq!(app.refresh_status("acme", &successor).await, 200);
    app.login("acme", "alice", "correct horse").await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Postgres faults"]
async fn postgres_down_means_503_and_recovery_after() {
    if tessera_tests::shared_only("Postgres faults") {
        return;
    }
    let mut pg = PrivatePostgres::start();
    let app = TestApp::builder().database(&pg.url()).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");

    pg.stop();
    let started = Instant::now();
    let login = json!({"username": "alice", "password": "correct horse"});
    unavailable(
        &app.post("/v1/tenants/acme/token", None, login).await,
        "login",
    );
    let body = json!({"refresh": s(&pair, "refresh")});
    unavailable(
        &app.post("/v1/tenants/acme/token/refresh", None, body).await,
        "refresh",
    );
    let r = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    unavailable(&r, "/users/me");
    unavailable(&app.admin("GET", "/tenants", None).await, "admin");
    only_readiness_fails(&app).await;
    eprintln!(
        "four requests against a stopped Postgres took {:?}",
        started.elapsed()
    );

    pg.resume();
    ready_again(&app, "postgres").await;
    assert_eq!(app.me_status("acme", &access).await, 200);
    assert_eq!(app.refresh_status("acme", &s(&pair, "refresh")).await, 200);
    app.login("acme", "alice", "correct horse").await;
}

#[actix_rt::test]
async fn sigterm_drains_in_flight_requests_then_exits_cleanly() {
    let mut app = TestApp::start().await;
    app.tenant("acme", json!({"allow_signup": true})).await;
    // Costly hashing, so that a sign-up is still in flight when the signal comes.
    let (mut child, url) = crate::spawn_server(
        &mut app,
        &[
            ("TESSERA__ARGON2__MEMORY_KIB", "131072"),
            ("TESSERA__ARGON2__ITERATIONS", "6"),
        ],
    )
    .await;
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let signup = client
        .post(format!("{url}/v1/tenants/acme/users"))
        .send_json(&json!({"username": "late", "password": "correct horse"}));
    let signal = async {
        actix_rt::time::sleep(Duration::from_millis(300)).await;
        let sent = Instant::now();
        crate::sigterm(&child);
        sent
    };
    let (res, sent) = futures_util::future::join(signup, signal).await;
    let res = res.expect("the in-flight request is answered");
    assert_eq!(res.status(), 201, "the in-flight sign-up completes");
    eprintln!(
        "in-flight request answered {:?} after SIGTERM",
        sent.elapsed()
    );

    let status = {
        let start = Instant::now();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(35),
                "did not exit after SIGTERM"
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    };
    eprintln!("process exited {:?} after SIGTERM", sent.elapsed());
    assert!(status.success(), "exit status {status:?}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
    // The drained sign-up was stored.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'late'"),
        1
    );
}

/// A spawned process, killed if the test fails before it exits.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one request of the SIGTERM load led to.
enum Outcome {
    /// Answered in full with this status (and body).
    Answered(u16, serde_json::Value),
    /// Never answered: refused or reset before an answer began (the node had
    /// stopped accepting; nothing was done).
    NotServed,
    /// An answer that began and broke off: a lost request.
    Broken(String),
}

/// Sends one request on a connection of its own (`Connection: close`).
async fn one_request(
    client: &awc::Client,
    url: &str,
    path: &str,
    bearer: Option<&str>,
    body: serde_json::Value,
) -> Outcome {
    let mut req = client
        .post(format!("{url}{path}"))
        .insert_header(("Connection", "close"));
    if let Some(b) = bearer {
        req = req.insert_header(("Authorization", format!("Bearer {b}")));
    }
    let req = if path.ends_with("/users/me") {
        client
            .get(format!("{url}{path}"))
            .insert_header(("Connection", "close"))
            .insert_header(("Authorization", format!("Bearer {}", bearer.unwrap_or(""))))
            .send()
            .await
    } else {
        req.send_json(&body).await
    };
    match req {
        Ok(mut res) => match res.body().limit(1 << 20).await {
            Ok(b) => Outcome::Answered(
                res.status().as_u16(),
                serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
            ),
            Err(e) => Outcome::Broken(format!("{e}")),
        },
        Err(_) => Outcome::NotServed,
    }
}

#[actix_rt::test]
async fn sigterm_under_mixed_load_exits_cleanly_and_loses_nothing_twenty_times() {
    let mut app = TestApp::start().await;
    app.tenant("acme", json!({"refresh_reuse_interval": 0}))
        .await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let mut refresh = Vec::new();
    for _ in 0..4 {
        refresh.push(s(
            &app.login("acme", "alice", "correct horse").await,
            "refresh",
        ));
    }
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let (mut answered, mut not_served) = (0usize, 0usize);
    let public = app.url.clone();
    for round in 0..20 {
        let (child, url) = crate::spawn_server(&mut app, &[("TESSERA__PUBLIC_URL", &public)]).await;
        let mut child = KillOnDrop(child);
        let child = &mut child.0;
        // Every refresh token a client holds still works after a restart.
        for r in &refresh {
            let body = json!({"token": r});
            let o = one_request(&client, &url, "/v1/tenants/acme/token/verify", None, body).await;
            assert!(
                matches!(o, Outcome::Answered(200, _)),
                "round {round}: a held token works"
            );
        }
        let stop = std::cell::Cell::new(false);
        let load = futures_util::future::join_all((0..8).map(|task| {
            let (client, url, stop, access) = (&client, &url, &stop, &access);
            let mut mine = refresh.get(task % 4).cloned().filter(|_| task < 4);
            async move {
                let mut outcomes = Vec::new();
                while !stop.get() {
                    let o = match (task % 4, &mine) {
                        (0, Some(r)) => {
                            let body = json!({"refresh": r});
                            one_request(client, url, "/v1/tenants/acme/token/refresh", None, body)
                                .await
                        }
                        (1, _) => {
                            let body = json!({"username": "alice", "password": "correct horse"});
                            one_request(client, url, "/v1/tenants/acme/token", None, body).await
                        }
                        (2, _) => {
                            one_request(
                                client,
                                url,
                                "/v1/tenants/acme/users/me",
                                Some(access),
                                json!({}),
                            )
                            .await
                        }
                        _ => {
                            let body = json!({"token": access});
                            one_request(client, url, "/v1/tenants/acme/token/verify", None, body)
                                .await
                        }
                    };
                    if let (Outcome::Answered(200, b), Some(_)) = (&o, &mine)
                        && let Some(next) = b["refresh"].as_str()
                    {
                        mine = Some(next.to_owned());
                    }
                    let done = matches!(o, Outcome::NotServed);
                    outcomes.push(o);
                    if done {
                        break;
                    }
                }
                (outcomes, mine)
            }
        }));
        let signal = async {
            actix_rt::time::sleep(Duration::from_millis(300 + 40 * round)).await;
            crate::sigterm(child);
            actix_rt::time::sleep(Duration::from_millis(300)).await;
            stop.set(true);
        };
        let (results, ()) = futures_util::future::join(load, signal).await;
        let status = {
            let start = Instant::now();
            loop {
                if let Some(st) = child.try_wait().unwrap() {
                    break st;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(35),
                    "round {round}: no exit"
                );
                actix_rt::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let mut log = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
        assert!(status.success(), "round {round}: exit {status:?}\n{log}");
        for bad in [
            "ERROR",
            "panicked",
            "malloc",
            "corrupt",
            "double free",
            "Segmentation",
        ] {
            assert!(
                !log.contains(bad),
                "round {round}: {bad} in the log:\n{log}"
            );
        }
        for (task, (outcomes, mine)) in results.into_iter().enumerate() {
            for o in outcomes {
                match o {
                    Outcome::Answered(code, body) => {
                        assert!(code < 500, "round {round} task {task}: {code} {body}");
                        answered += 1;
                    }
                    Outcome::NotServed => not_served += 1,
                    Outcome::Broken(e) => panic!("round {round} task {task}: a broken answer: {e}"),
                }
            }
            if task < 4
                && let Some(r) = mine
            {
                refresh[task] = r;
            }
        }
    }
    eprintln!(
        "20 SIGTERMs under load: {answered} requests answered, {not_served} refused after the stop"
    );
}

/// What one refresh chain of the crash load received: every refresh token, in order.
type Chain = Vec<String>;

#[actix_rt::test]
async fn kill_9_during_refreshes_and_logouts_loses_nothing_and_revives_nothing() {
    // Its own Redis database (shared mode), so FLUSHDB touches no other test.
    let mut app = TestApp::builder().redis_db(9).start().await;
    // Within the reuse interval a client that lost an answer gets the same successor
    // again: the interval is what makes "every token a client received still works"
    // hold when a crash lost the answer of a committed rotation.
    app.tenant("acme", json!({"refresh_reuse_interval": 60}))
        .await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let mut chains: Vec<Chain> = Vec::new();
    for _ in 0..8 {
        chains.push(vec![s(
            &app.login("acme", "alice", "correct horse").await,
            "refresh",
        )]);
    }
    let mut to_log_out = Vec::new();
    for _ in 0..24 {
        to_log_out.push(app.login("acme", "alice", "correct horse").await);
    }
    let public = app.url.clone();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let (child, url) = crate::spawn_server(&mut app, &[("TESSERA__PUBLIC_URL", &public)]).await;
    let mut child = KillOnDrop(child);
    let stop = std::cell::Cell::new(false);
    let refreshing = futures_util::future::join_all(chains.iter_mut().map(|chain| {
        let (client, url, stop) = (&client, &url, &stop);
        async move {
            while !stop.get() {
                let body = json!({"refresh": chain.last().unwrap()});
                let path = "/v1/tenants/acme/token/refresh";
                match one_request(client, url, path, None, body).await {
                    Outcome::Answered(200, b) => chain.push(s(&b, "refresh")),
                    Outcome::Answered(code, b) => panic!("refresh before the crash: {code} {b}"),
                    Outcome::NotServed | Outcome::Broken(_) => break,
                }
            }
        }
    }));
    let logging_out = async {
        let mut answered = Vec::new();
        for pair in &to_log_out {
            if stop.get() {
                break;
            }
            let body = json!({"token": s(pair, "refresh")});
            match one_request(&client, &url, "/v1/tenants/acme/token/revoke", None, body).await {
                Outcome::Answered(200, _) => answered.push(pair.clone()),
                Outcome::Answered(code, b) => panic!("logout before the crash: {code} {b}"),
                Outcome::NotServed | Outcome::Broken(_) => break,
            }
            actix_rt::time::sleep(Duration::from_millis(15)).await;
        }
        answered
    };
    let crash = async {
        actix_rt::time::sleep(Duration::from_millis(400)).await;
        child.0.kill().unwrap(); // SIGKILL: no drain, no clean-up
        child.0.wait().unwrap();
        stop.set(true);
    };
    let (_, logged_out, ()) = futures_util::future::join3(refreshing, logging_out, crash).await;
    assert!(
        chains.iter().all(|c| c.len() > 2) && !logged_out.is_empty(),
        "the load ran before the crash: {:?} refreshes, {} logouts",
        chains.iter().map(Vec::len).collect::<Vec<_>>(),
        logged_out.len()
    );

    eprintln!(
        "kill -9 under load: {} refreshes and {} logouts answered before the crash",
        chains.iter().map(|c| c.len() - 1).sum::<usize>(),
        logged_out.len()
    );
    // Redis loses everything too: what is refused must be refused from Postgres.
    if !tessera_tests::embedded() {
        let mut redis = app.redis().await;
        let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
    }
    let (child, url) = crate::spawn_server(&mut app, &[("TESSERA__PUBLIC_URL", &public)]).await;
    let _child = KillOnDrop(child);
    for (i, chain) in chains.iter().enumerate() {
        // The newest token the client received works: rotated now, or, if the crash
        // lost the answer of its committed rotation, that same successor again.
        let newest = json!({"refresh": chain.last().unwrap()});
        let path = "/v1/tenants/acme/token/refresh";
        let o = one_request(&client, &url, path, None, newest).await;
        assert!(
            matches!(o, Outcome::Answered(200, _)),
            "chain {i}: the newest token received works after the crash"
        );
        // Its predecessor was rotated out and its successor used: refused (reuse).
        let older = json!({"refresh": chain[chain.len() - 2]});
        match one_request(&client, &url, path, None, older).await {
            Outcome::Answered(401, _) => {}
            _ => panic!("chain {i}: a rotated-out token was accepted after the crash"),
        }
    }
    let me = |pair: &serde_json::Value| {
        let access = s(pair, "access");
        let (client, url) = (&client, &url);
        async move {
            let path = "/v1/tenants/acme/users/me";
            match one_request(client, url, path, Some(&access), json!({})).await {
                Outcome::Answered(code, _) => code,
                _ => 0,
            }
        }
    };
    for (i, pair) in logged_out.iter().enumerate() {
        assert_eq!(
            me(pair).await,
            401,
            "logout {i}: answered, then refused after the crash"
        );
    }
    // The sessions not logged out still work.
    if logged_out.len() < to_log_out.len() {
        assert_eq!(
            me(&to_log_out[to_log_out.len() - 1]).await,
            200,
            "a live session survives"
        );
    }
}
