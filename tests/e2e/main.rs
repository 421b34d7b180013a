//! End-to-end tests: one binary, the real server against real Postgres and Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod admin;
mod admin_users;
mod algorithms;
mod api_keys;
mod batching;
mod browser;
mod cli;
mod cluster;
mod compat;
mod contract;
mod embedded;
mod errors;
mod faults;
mod forgery;
mod hardening;
mod keys;
mod logs;
mod maintenance;
mod migrations;
mod nodes;
mod observability;
mod openapi;
mod resource_servers;
mod revocation;
mod secrets;
mod security_review;
mod sessions;
mod simplejwt_migration;
mod tls;
mod tokens;
mod traces;
mod user_cache;
mod users;
mod verify_crate;

/// The `tessera` binary built from this tree.
pub const TESSERA: &str = env!("CARGO_BIN_EXE_tessera-e2e");

/// Runs `tessera args…` with `env` (and no `TESSERA__*` inherited); returns the exit
/// status's success, stdout and stderr.
pub fn tessera(args: &[&str], env: &[(&str, String)]) -> (bool, String, String) {
    tessera_in(&std::env::temp_dir(), args, env)
}

/// A `tessera` command with nothing of this process's `TESSERA__*` environment,
/// run in `dir`.
fn command(dir: &std::path::Path, env: &[(&str, String)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(TESSERA);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TESSERA__")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).current_dir(dir);
    cmd
}

/// [`tessera`] run in `dir`.
pub fn tessera_in(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> (bool, String, String) {
    let out = command(dir, env).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `tessera serve` as a process of its own on a free port, configured like
/// `app` (same schema, Redis prefix and master key, or, embedded, the same data folder,
/// which `app` hands over) with `extra` settings on top; returns it with its base URL
/// once it answers /healthz. Its stderr is piped.
pub async fn spawn_server(
    app: &mut tessera_tests::TestApp,
    extra: &[(&'static str, &str)],
) -> (std::process::Child, String) {
    app.hand_over_data_dir().await;
    let mut env = app.env();
    env.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    spawn_in(&std::env::temp_dir(), env).await
}

/// Starts `tessera serve` in `dir` with `env` (and nothing of this process's
/// `TESSERA__*`) on a free port; returns it with its base URL once it answers
/// /healthz. Its stderr is piped.
pub async fn spawn_in(
    dir: &std::path::Path,
    mut env: Vec<(&'static str, String)>,
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    env.push(("TESSERA__HTTP__BIND", format!("127.0.0.1:{port}")));
    if !env.iter().any(|(k, _)| *k == "TESSERA__PUBLIC_URL") {
        env.push(("TESSERA__PUBLIC_URL", url.clone()));
    }
    if !env.iter().any(|(k, _)| *k == "TESSERA__MANAGEMENT__BIND") {
        env.push(("TESSERA__MANAGEMENT__BIND", "127.0.0.1:0".into()));
    }
    let child = command(dir, &env)
        .arg("serve")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = awc::Client::default();
    tessera_tests::eventually(
        "the process serves",
        std::time::Duration::from_secs(20),
        || async {
            client
                .get(format!("{url}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;
    (child, url)
}

/// Sends SIGTERM to a spawned process.
pub fn sigterm(child: &std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}
