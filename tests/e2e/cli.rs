//! The operator commands, run as the real `tessera` process: `check-config` and
//! `tenant create|list` (each with its --help).
use serde_json::{Value, json};
use tessera_tests::TestApp;

use crate::tessera;

fn with(
    env: &[(&'static str, String)],
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| *k != key).cloned().collect();
    env.push((key, value.to_owned()));
    env
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Postgres and Redis settings (tests/e2e/embedded.rs checks the embedded ones)"]
async fn check_config_checks_offline_and_online_and_hides_secrets() {
    if tessera_tests::shared_only(
        "Postgres and Redis settings (tests/e2e/embedded.rs checks the embedded ones)",
    ) {
        return;
    }
    let app = TestApp::start().await;
    let env = app.env();
    let master = env
        .iter()
        .find(|(k, _)| *k == "TESSERA__KEYS__MASTER_KEY")
        .unwrap()
        .1
        .clone();

    let (ok, out, err) = tessera(&["check-config", "--connect"], &env);
    assert!(ok, "{out}{err}");
    for line in [
        "postgres: reachable, 0 migration(s) pending",
        "redis: reachable",
        "configuration ok",
        "keys.master_key = <set>",
        "database.url = <set>",
    ] {
        assert!(out.contains(line), "{line} missing: {out}");
    }
    assert!(
        !out.contains(&master) && !out.contains(&app.db_url) && !out.contains("127.0.0.1:6379"),
        "{out}"
    );

    // A list from the environment, comma-separated.
    let proxies = with(
        &env,
        "TESSERA__HTTP__TRUSTED_PROXIES",
        "10.0.0.0/8,127.0.0.1",
    );
    let (ok, out, err) = tessera(&["check-config"], &proxies);
    assert!(
        ok && out.contains(r#"http.trusted_proxies = ["10.0.0.0/8", "127.0.0.1"]"#),
        "{out}{err}"
    );
    let proxies = with(&env, "TESSERA__HTTP__TRUSTED_PROXIES", "10.0.0.0/33");
    let (ok, _, err) = tessera(&["check-config"], &proxies);
    assert!(!ok && err.contains("http.trusted_proxies"), "{err}");

    // Offline it does not need the services; online it names the one that is down.
    let dead = with(&env, "TESSERA__REDIS__URL", "redis://127.0.0.1:1");
    let (ok, out, _) = tessera(&["check-config"], &dead);
    assert!(ok && out.contains("configuration ok"), "{out}");
    let (ok, _, err) = tessera(&["check-config", "--connect"], &dead);
    assert!(!ok && err.contains("redis.url: cannot connect"), "{err}");
    let dead = with(
        &env,
        "TESSERA__DATABASE__URL",
        "postgres://root@127.0.0.1:1/test?connect_timeout=2",
    );
    let (ok, _, err) = tessera(&["check-config", "--connect"], &dead);
    assert!(!ok && err.contains("database.url: cannot connect"), "{err}");

    // Each broken setting: exit 1, one line naming it, never the value.
    for (key, value, named) in [
        ("TESSERA__KEYS__MASTER_KEY", "c2hvcnQ=", "keys.master_key"),
        ("TESSERA__HTTP__BIND", "nowhere", "http.bind"),
        ("TESSERA__ARGON2__PRIORITY", "urgent", "argon2.priority"),
        ("TESSERA__LOG__FORMAT", "xml", "log.format"),
        ("TESSERA__LOG__LEVEL", "info=lots", "log.level"),
        (
            "TESSERA__DATABASE__POOL_SIZE",
            "many-secret-things",
            "pool_size",
        ),
    ] {
        let (ok, out, err) = tessera(&["check-config"], &with(&env, key, value));
        assert!(!ok, "{key}={value} accepted: {out}");
        assert!(err.contains(named), "{key}: {err}");
        assert!(
            !err.contains(value) || value == "nowhere" || value == "urgent" || value == "xml",
            "{key} leaked: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let no_key: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != "TESSERA__KEYS__MASTER_KEY")
        .cloned()
        .collect();
    let (ok, _, err) = tessera(&["check-config"], &no_key);
    assert!(!ok && err.contains("TESSERA__KEYS__MASTER_KEY"), "{err}");

    // A config file with an unknown setting is refused by name.
    let file = std::env::temp_dir().join(format!("{}.toml", app.schema));
    std::fs::write(&file, "[http]\nbind = \"127.0.0.1:9\"\nthreads = 4\n").unwrap();
    let (ok, _, err) = tessera(&["--config", file.to_str().unwrap(), "check-config"], &env);
    std::fs::remove_file(&file).unwrap();
    assert!(!ok && err.contains("threads"), "{err}");
}

#[actix_rt::test]
async fn tenant_create_and_list_from_the_command_line() {
    let app = TestApp::start().await;
    let env = app.env();
    let (ok, out, err) = tessera(
        &[
            "tenant",
            "create",
            "cli-made",
            "--display-name",
            "Made by CLI",
            "--settings",
            r#"{"allow_signup": true, "algorithm": "EdDSA"}"#,
        ],
        &env,
    );
    assert!(ok, "{err}");
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            view["slug"].as_str(),
            view["display_name"].as_str(),
            view["algorithm"].as_str(),
            view["allow_signup"].as_bool()
        ),
        (
            Some("cli-made"),
            Some("Made by CLI"),
            Some("EdDSA"),
            Some(true)
        )
    );

    // The running service serves it at once: its JWKS has its first key, sign-up works.
    let kids = app.jwks_kids("cli-made").await;
    assert_eq!(kids.len(), 1);
    app.user("cli-made", "alice", "correct horse", json!({}))
        .await;
    app.login("cli-made", "alice", "correct horse").await;

    // Audited as the CLI.
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_events WHERE actor = 'cli' AND action = 'tenant.create' AND target = 'cli-made'"), 1);

    // Refusals name what is wrong and change nothing.
    let (ok, _, err) = tessera(&["tenant", "create", "cli-made"], &env);
    assert!(!ok && err.contains("cli-made"), "{err}");
    let (ok, _, err) = tessera(&["tenant", "create", "Bad_Slug"], &env);
    assert!(!ok && err.contains("slug"), "{err}");
    let (ok, _, err) = tessera(
        &[
            "tenant",
            "create",
            "other",
            "--settings",
            r#"{"access_token_ttl": 0}"#,
        ],
        &env,
    );
    assert!(!ok && err.contains("access_token_ttl"), "{err}");
    let (ok, _, err) = tessera(&["tenant", "create", "other", "--settings", "[1]"], &env);
    assert!(!ok && err.contains("--settings"), "{err}");
    assert_eq!(app.count("SELECT count(*) AS n FROM tenants"), 1);

    app.tenant("acme", json!({})).await;
    let (ok, out, err) = tessera(&["tenant", "list"], &env);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("SLUG"));
    assert!(
        lines[1].starts_with("acme ") && lines[1].contains("ES256") && lines[1].contains("enabled"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("cli-made ")
            && lines[2].contains("EdDSA")
            && lines[2].ends_with("Made by CLI"),
        "{out}"
    );

    for args in [
        &["tenant", "create", "--help"][..],
        &["tenant", "list", "--help"],
        &["check-config", "--help"],
        &["flush-expired", "--help"],
    ] {
        let (ok, out, _) = tessera(args, &[]);
        assert!(ok && out.contains("Usage: tessera"), "{args:?}: {out}");
    }
}
