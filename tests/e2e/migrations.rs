//! Migrations are reversible on both backends: up → down → up on a fresh schema
//! (Postgres) and a fresh file (SQLite).
use diesel::RunQueryDsl;
use tessera_store::{Db, Target};

/// How many migrations `migrations/{backend}` holds.
fn migrations_of(backend: &str) -> usize {
    let dir = format!("{}/../migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_dir(dir).unwrap().count()
}

fn up_down_up(c: &mut Db, backend: &str) -> Result<(), String> {
    let up = tessera_store::migrate(c).map_err(|e| e.log_cause())?;
    assert_eq!(
        up,
        migrations_of(backend),
        "every migration applies to a fresh database"
    );
    assert_eq!(migrations_of("postgres"), migrations_of("sqlite"));
    assert_eq!(
        tessera_store::pending_migrations(c).map_err(|e| e.log_cause())?,
        0
    );
    let down = tessera_store::pool::revert_all(c).map_err(|e| e.log_cause())?;
    assert_eq!(down, up);
    assert_eq!(tessera_store::migrate(c).map_err(|e| e.log_cause())?, up);
    Ok(())
}

#[test]
fn postgres_migrations_run_up_down_up() {
    let base = tessera_tests::database_url();
    let schema = format!("m_{}", tessera_core::ids::random_id());
    let mut admin = tessera_tests::pg(&base).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let target = Target::Postgres(format!("{base}{sep}options=-c%20search_path%3D{schema}"));
    let result = tessera_store::establish(&target)
        .map_err(|e| e.to_string())
        .and_then(|mut c| up_down_up(&mut c, "postgres"));
    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .unwrap();
    result.unwrap();
}

#[test]
fn sqlite_migrations_run_up_down_up() {
    let dir = tessera_tests::scratch_dir("migrations");
    let mut c = tessera_store::establish(&Target::Sqlite(dir.join("t.db"))).unwrap();
    up_down_up(&mut c, "sqlite").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
