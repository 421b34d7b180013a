//! The one-shot commands: migrate, flush-expired, check-config, tenant create/list,
//! admin create-key.
use tessera_core::Error;

use crate::settings::Settings;

/// Any failure of a command, printed as one line.
pub type CommandResult<T> = Result<T, Box<dyn std::error::Error>>;

/// One direct connection (commands need no pool); failure names the setting. The
/// embedded SQLite file is made ready first (folder, master key, migrations), so any
/// command works on a fresh data folder.
fn db(settings: &Settings) -> CommandResult<tessera_store::Db> {
    let mut c = open(settings)?;
    if settings.is_embedded() {
        tessera_store::migrate(&mut c).map_err(plain)?;
    }
    Ok(c)
}

/// [`db`] without the embedded mode's migrations.
fn open(settings: &Settings) -> CommandResult<tessera_store::Db> {
    let target = settings.target()?;
    settings.prepare_data_dir()?;
    tessera_store::establish(&target).map_err(|e| {
        let setting = if target.is_embedded() {
            "data_dir"
        } else {
            "database.url"
        };
        format!("{setting}: cannot connect ({})", e.to_string().trim()).into()
    })
}

fn plain(e: Error) -> Box<dyn std::error::Error> {
    e.log_cause().into()
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(settings: &Settings) -> CommandResult<usize> {
    let mut c = open(settings)?;
    tessera_store::migrate(&mut c).map_err(plain)
}

/// Deletes everything that expired (see [`tessera_store::prune`]).
pub fn flush_expired(settings: &Settings) -> CommandResult<tessera_store::prune::Flushed> {
    let mut c = db(settings)?;
    tessera_store::prune::flush_expired(&mut c, tessera_core::time::now()).map_err(plain)
}

/// Creates an admin API key (scoped to `tenant` when given); returns its secret.
pub fn create_key(settings: &Settings, name: &str, tenant: Option<&str>) -> CommandResult<String> {
    let mut c = db(settings)?;
    let (_, _, secret) = tessera_actors::admin_jobs::api_keys::create(&mut c, name, tenant, "cli")
        .map_err(as_flags)?;
    Ok(secret)
}

/// Creates a tenant (body as the admin API takes it) with its first key, audited as `cli`.
pub fn create_tenant(
    settings: &Settings,
    slug: &str,
    display_name: Option<&str>,
    more: Option<&str>,
) -> CommandResult<tessera_actors::views::TenantView> {
    let mut body = match more {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err("--settings must be a JSON object".into()),
        },
    };
    body.insert("slug".into(), slug.into());
    if let Some(name) = display_name {
        body.insert("display_name".into(), name.into());
    }
    let (slug, tenant_settings) =
        tessera_actors::admin_jobs::tenants::parse_new(body.into()).map_err(as_flags)?;
    let mut c = db(settings)?;
    let master = settings.master_key()?;
    let row = tessera_actors::admin_jobs::tenants::create(
        &mut c,
        &slug,
        &tenant_settings,
        &master,
        &settings.public_url,
        "cli",
    )
    .map_err(as_flags)?;
    tessera_actors::views::TenantView::of(&row).map_err(plain)
}

/// Every tenant, by slug.
pub fn list_tenants(settings: &Settings) -> CommandResult<Vec<tessera_actors::views::TenantView>> {
    let mut c = db(settings)?;
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = tessera_store::models::tenant::list(&mut c, after.as_deref(), 500, None)
            .map_err(plain)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.slug.clone());
        for row in &rows {
            all.push(tessera_actors::views::TenantView::of(row).map_err(plain)?);
        }
    }
    Ok(all)
}

/// Checks every setting that can be checked offline (and, with `connect`, that
/// Postgres and Redis answer); returns the effective settings, secrets hidden.
pub async fn check_config(settings: &Settings, connect: bool) -> CommandResult<String> {
    let target = settings.target()?;
    if !target.is_embedded() || settings.master_key_file().exists() {
        // Embedded, a missing key file is fine: `serve` creates it.
        settings.master_key()?;
    }
    let mut out = settings.summary();
    if connect {
        if let tessera_store::Target::Sqlite(file) = &target {
            if !file.exists() {
                out.push_str(&format!(
                    "sqlite: {} does not exist yet (serve creates it)\n",
                    file.display()
                ));
                return Ok(out);
            }
            let mut c = tessera_store::establish(&target)
                .map_err(|e| format!("data_dir: cannot open ({})", e.to_string().trim()))?;
            let pending = tessera_store::pending_migrations(&mut c).map_err(plain)?;
            out.push_str(&format!(
                "sqlite: {} opened, {pending} migration(s) pending\nrevocations: in process\n",
                file.display()
            ));
            return Ok(out);
        }
        let mut c = db(settings)?;
        let pending = tessera_store::pending_migrations(&mut c).map_err(plain)?;
        out.push_str(&format!(
            "postgres: reachable, {pending} migration(s) pending\n"
        ));
        let store = tessera_revocation::RevocationStore::connect(
            &settings.redis_target(),
            &settings.redis.prefix,
        )
        .map_err(|e| format!("redis.url: {}", e.log_cause()))?;
        store
            .ping()
            .await
            .map_err(|e| format!("redis.url: cannot connect ({})", e.log_cause()))?;
        out.push_str("redis: reachable\n");
    }
    Ok(out)
}

/// A validation error as one line naming the fields (flags) at fault.
fn as_flags(e: Error) -> Box<dyn std::error::Error> {
    match e {
        Error::Validation { errors, .. } => errors
            .into_iter()
            .map(|(f, m)| format!("{f}: {}", m.join("; ")))
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        Error::Conflict(what) => what.into(),
        other => plain(other),
    }
}
