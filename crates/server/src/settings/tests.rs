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
        s.redis_target(),
        RedisTarget::Cluster(vec![
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
        Settings::load(Some(&p)).unwrap().redis_target(),
        RedisTarget::Single("redis://127.0.0.1:6379".into())
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
    assert_eq!(names.last(), Some(&"cache.tenant_max_age_secs"));
    assert_eq!(names.len(), 29, "mode and 28 settings: {summary}");
    for line in [
        "database.url = <set>",
        "keys.master_key = <set>",
        "redis.url = <set>",
        "http.bind = \"127.0.0.1:8080\"",
        "management.bind = \"127.0.0.1:9464\"",
        "argon2.priority = \"normal\"",
        "database.migrate_on_start = true",
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
