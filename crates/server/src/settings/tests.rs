//! Configuration loading tests (files only: the environment is shared by parallel tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use std::io::Write;

fn file(body: &str) -> (std::path::PathBuf, impl Drop) {
    struct Rm(std::path::PathBuf);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let path = std::env::temp_dir().join(format!(
        "tessera-cfg-{}.toml",
        tessera_core::ids::random_id()
    ));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    (path.clone(), Rm(path))
}

#[test]
fn defaults_and_file_values() {
    let (p, _rm) =
        file("public_url = \"https://auth.example.com\"\n[http]\nbind = \"0.0.0.0:9000\"\n");
    let s = Settings::load(Some(&p)).unwrap();
    assert_eq!(s.public_url, "https://auth.example.com");
    assert_eq!(s.http.bind.to_string(), "0.0.0.0:9000");
    assert_eq!(s.database.pool_size, 16);
    assert_eq!(
        s.commit_slots() as usize,
        tessera_actors::actors::commit_slots()
    );
    assert_eq!(s.hash_params(), HashParams::default());
    assert_eq!(s.redis.prefix, "tessera:");
}

#[test]
fn without_a_database_url_the_data_folder_holds_everything() {
    let dir = std::env::temp_dir().join(format!("tessera-cfg-{}", tessera_core::ids::random_id()));
    let body = format!("data_dir = {:?}\n", dir.to_string_lossy());
    let (p, _rm) = file(&body);
    let s = Settings::load(Some(&p)).unwrap();
    assert!(s.is_embedded());
    assert_eq!(s.target().unwrap(), Target::Sqlite(dir.join("tessera.db")));
    // No key yet: the error says how to get one.
    let e = s.master_key().unwrap_err().to_string();
    assert!(
        e.contains("tessera serve") && e.contains("TESSERA__KEYS__MASTER_KEY"),
        "{e}"
    );
    assert!(s.prepare_data_dir().unwrap(), "a key is made on first use");
    let key = std::fs::read_to_string(dir.join("master.key")).unwrap();
    assert!(s.master_key().is_ok());
    assert!(!s.prepare_data_dir().unwrap(), "and kept, never replaced");
    assert_eq!(
        std::fs::read_to_string(dir.join("master.key")).unwrap(),
        key
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn with_a_database_url_the_master_key_must_be_configured() {
    let (p, _rm) = file("[database]\nurl = \"postgres://x@127.0.0.1/db\"\n");
    let s = Settings::load(Some(&p)).unwrap();
    assert!(!s.is_embedded());
    assert!(matches!(s.target().unwrap(), Target::Postgres(_)));
    let e = s.master_key().unwrap_err().to_string();
    assert!(
        e.contains("TESSERA__KEYS__MASTER_KEY") && e.contains("required"),
        "{e}"
    );
    assert!(
        !s.prepare_data_dir().unwrap(),
        "nothing is written in shared mode"
    );
}

#[test]
fn redis_cluster_nodes_replace_the_single_url() {
    let (p, _rm) =
        file("[redis]\ncluster_nodes = [\"redis://127.0.0.1:7001\", \"redis://127.0.0.1:7002\"]\n");
    let s = Settings::load(Some(&p)).unwrap();
    assert_eq!(
        s.redis_target().unwrap().servers,
        Servers::Cluster(vec![
            "redis://127.0.0.1:7001".into(),
            "redis://127.0.0.1:7002".into()
        ])
    );
    assert!(s.summary().contains("redis.cluster_nodes = <2 set>"));
    assert!(
        !s.summary().contains("7001"),
        "node URLs may carry passwords"
    );
    let (p, _rm) = file("");
    assert_eq!(
        Settings::load(Some(&p)).unwrap().redis_target().unwrap(),
        RedisTarget::single("redis://127.0.0.1:6379")
    );
}

#[test]
fn malformed_settings_are_named_without_their_secret() {
    let (p, _rm) = file("[keys]\nmaster_key = \"c2VjcmV0LXZhbHVl\"\n");
    let e = Settings::load(Some(&p))
        .unwrap()
        .master_key()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("keys.master_key") && e.contains("32 bytes"),
        "{e}"
    );
    assert!(!e.contains("c2VjcmV0LXZhbHVl"), "{e}");

    let (p, _rm) = file("[http]\nbind = \"nonsense\"\n");
    assert!(
        Settings::load(Some(&p))
            .unwrap_err()
            .to_string()
            .contains("http.bind")
    );
    let (p, _rm) = file("[database]\npool_size = \"many\"\n");
    let e = Settings::load(Some(&p)).unwrap_err().to_string();
    assert!(e.contains("pool_size") && !e.contains("many"), "{e}");
    let (p, _rm) = file("[databse]\nurl = \"x\"\n");
    assert!(
        Settings::load(Some(&p))
            .unwrap_err()
            .to_string()
            .contains("databse")
    );
    assert!(Settings::load(Some(Path::new("/nonexistent/tessera.toml"))).is_err());
}

#[test]
fn debug_never_prints_secrets() {
    let (p, _rm) = file(
        "[database]\nurl = \"postgres://u:pw-secret@h/db\"\n[keys]\nmaster_key = \"mk-secret\"\n",
    );
    let s = Settings::load(Some(&p)).unwrap();
    let d = format!("{s:?}");
    assert!(!d.contains("pw-secret") && !d.contains("mk-secret"), "{d}");
}

#[test]
fn hasher_priority_is_read_and_checked() {
    let (p, _rm) = file("");
    let s = Settings::load(Some(&p)).unwrap();
    assert_eq!(s.argon2.priority, HashPriority::Normal);
    assert_eq!(s.rotation_check(), Some(Duration::from_secs(10)));
    let (p, _rm) = file("[argon2]\npriority = \"idle\"\n[keys]\nrotation_check_secs = 0\n");
    let s = Settings::load(Some(&p)).unwrap();
    assert_eq!(s.argon2.priority, HashPriority::Idle);
    assert_eq!(s.rotation_check(), None);
    let (p, _rm) = file("[argon2]\npriority = \"urgent\"\n");
    let e = Settings::load(Some(&p)).unwrap_err().to_string();
    assert!(e.contains("argon2.priority") && e.contains("urgent"), "{e}");
}

#[test]
fn the_summary_lists_every_setting_in_declared_order_and_hides_secrets() {
    let (p, _rm) = file(
        "[database]\nurl = \"postgres://u:pw-secret@h/db\"\n[keys]\nmaster_key = \"mk-secret\"\n",
    );
    let s = Settings::load(Some(&p)).unwrap();
    let summary = s.summary();
    let names: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(n, _)| n))
        .collect();
    assert_eq!(names.first(), Some(&"mode"));
    assert_eq!(names.get(1), Some(&"public_url"));
    assert_eq!(names.last(), Some(&"cache.users"));
    assert_eq!(names.len(), 37, "mode and 36 settings: {summary}");
    for line in [
        "database.url = <set>",
        "keys.master_key = <set>",
        "redis.url = <set>",
        "http.bind = \"127.0.0.1:8080\"",
        "management.bind = \"127.0.0.1:9464\"",
        "argon2.priority = \"normal\"",
        "database.migrate_on_start = true",
        "database.commit_slots = 0",
    ] {
        assert!(summary.contains(line), "{line} missing: {summary}");
    }
    assert!(!summary.contains("secret"), "{summary}");
}

#[test]
fn secrets_are_held_in_secrecy_types_and_never_printed() {
    let master = tessera_core::master_key::MasterKey::generate_base64();
    let body = format!(
        "[database]\nurl = \"postgres://u:pg-password@db/t\"\n[redis]\nurl = \"redis://:redis-password@r:6379\"\n[keys]\nmaster_key = \"{master}\"\n"
    );
    let (p, _rm) = file(&body);
    let s = Settings::load(Some(&p)).unwrap();
    let debug = format!("{s:?}");
    let summary = s.summary();
    for secret in ["pg-password", "redis-password", master.as_str()] {
        assert!(!debug.contains(secret), "Debug shows {secret}");
        assert!(!summary.contains(secret), "the summary shows {secret}");
    }
    // The one place that needs it still reads it.
    assert!(s.master_key().is_ok());
}

#[test]
fn tls_settings_for_postgres_and_redis() {
    let ca =
        std::env::temp_dir().join(format!("tessera-ca-{}.pem", tessera_core::ids::random_id()));
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let ca_path = ca.to_string_lossy().into_owned();
    // Postgres: the CA file becomes sslrootcert, and verify-full unless a mode is named.
    let body = format!(
        "[database]\nurl = \"postgres://db.example/t\"\nca_file = {ca_path:?}\n[keys]\nmaster_key = \"{}\"\n[redis]\nurl = \"rediss://r.example:6380\"\nca_file = {ca_path:?}\n",
        tessera_core::master_key::MasterKey::generate_base64()
    );
    let (p, _rm) = file(&body);
    let s = Settings::load(Some(&p)).unwrap();
    let Target::Postgres(url) = s.target().unwrap() else {
        panic!("not postgres")
    };
    assert!(
        url.starts_with("postgres://db.example/t?sslrootcert=%2F"),
        "{url}"
    );
    assert!(url.ends_with("&sslmode=verify-full"), "{url}");
    assert_eq!(
        with_root_cert("postgres://h/d?sslmode=verify-ca", "/ca.pem"),
        "postgres://h/d?sslmode=verify-ca&sslrootcert=%2Fca%2Epem"
    );
    // Redis: the CA file is read into the target.
    let target = s.redis_target().unwrap();
    assert_eq!(
        target.tls.as_ref().and_then(|t| t.ca.clone()),
        Some(b"-----BEGIN CERTIFICATE-----\n".to_vec())
    );
    // A CA file with a plain redis:// URL, half a client certificate, a missing file.
    for (body, named) in [
        (
            "[redis]\nurl = \"redis://r:6379\"\nca_file = \"/x.pem\"\n",
            "redis.ca_file",
        ),
        (
            "[redis]\nurl = \"rediss://r:6379\"\nclient_cert_file = \"/x.pem\"\n",
            "redis.client_cert_file",
        ),
    ] {
        let body = format!("{body}[database]\nurl = \"postgres://h/d\"\n");
        let (p, _rm) = file(&body);
        let e = Settings::load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains(named), "{e}");
    }
    let (p, _rm) = file("[redis]\nurl = \"rediss://r:6379\"\nca_file = \"/no/such/ca.pem\"\n");
    let e = Settings::load(Some(&p))
        .unwrap()
        .redis_target()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("redis.ca_file") && e.contains("/no/such/ca.pem"),
        "{e}"
    );
    let _ = std::fs::remove_file(&ca);
}

#[test]
fn tls_settings_are_checked_against_the_urls_in_use() {
    // A TLS cluster with a CA: redis.url (default redis://) is not in use, so it passes.
    let (p, _rm) = file(
        "[database]\nurl = \"postgres://h/d\"\n[redis]\ncluster_nodes = [\"rediss://a:7001\"]\nca_file = \"/ca.pem\"\n",
    );
    let s = Settings::load(Some(&p)).unwrap();
    assert!(!format!("{:?}", s.redis_target().err()).contains("rediss://a"));
    // Weak sslmodes with a CA file, a keyword/value conninfo, credentials in the OTLP URL.
    for (body, named) in [
        (
            "[database]\nurl = \"postgres://h/d?sslmode=prefer\"\nca_file = \"/ca.pem\"\n",
            "sslmode=prefer",
        ),
        (
            "[database]\nurl = \"host=h dbname=d\"\nca_file = \"/ca.pem\"\n",
            "postgres:// URL",
        ),
        (
            "[otel]\nendpoint = \"https://user:pw@collector:4318\"\n",
            "otel.endpoint",
        ),
    ] {
        let (p, _rm) = file(body);
        let e = Settings::load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains(named), "{e}");
        assert!(!e.contains("pw@"), "{e}");
    }
    // A password that merely contains "sslmode=" does not stop verify-full.
    assert!(with_root_cert("postgres://u:xsslmode=x@h/d", "/ca").ends_with("&sslmode=verify-full"));
    // Debug never shows a Redis URL (it may carry a password).
    let target = Settings::load(Some(
        &file("[redis]\nurl = \"redis://:hunter2@r:6379\"\n").0,
    ))
    .unwrap()
    .redis_target()
    .unwrap();
    assert!(!format!("{target:?}").contains("hunter2"));
}

#[test]
fn commit_slots_can_be_set_apart_from_the_cores() {
    let (p, _rm) = file("[database]\ncommit_slots = 5\n");
    let s = Settings::load(Some(&p)).unwrap();
    assert_eq!(s.commit_slots(), 5);
    for wrong in ["-1", "257", "\"many\""] {
        let body = format!("[database]\ncommit_slots = {wrong}\n");
        let (p, _rm) = file(&body);
        let e = Settings::load(Some(&p)).unwrap_err().to_string();
        assert!(e.contains("commit_slots"), "{wrong}: {e}");
    }
}
