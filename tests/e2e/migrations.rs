//! Migrations are reversible: up → down → up on a fresh schema.
use diesel::{Connection, PgConnection, RunQueryDsl};

#[test]
fn migrations_run_up_down_up() {
    let base = tessera_tests::database_url();
    let schema = format!("m_{}", tessera_core::ids::random_id());
    let mut admin = PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut c = PgConnection::establish(&format!("{base}{sep}options=-c%20search_path%3D{schema}"))
        .unwrap();
    let result = (|| -> Result<(), String> {
        let up = tessera_store::migrate(&mut c).map_err(|e| e.log_cause())?;
        assert!(up >= 1);
        let down = tessera_store::pool::revert_all(&mut c).map_err(|e| e.log_cause())?;
        assert_eq!(down, up);
        assert_eq!(
            tessera_store::migrate(&mut c).map_err(|e| e.log_cause())?,
            up
        );
        Ok(())
    })();
    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .unwrap();
    result.unwrap();
}
