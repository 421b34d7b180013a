//! The one-shot commands: migrate, flush-expired, check-config, tenant create/list,
//! admin create-key.
use serde_json::{Map, Value};
use std::path::Path;
use tessera_actors::{
    requests::{DjangoFormat, ImportFormat, ImportRevocationsRequest, ImportUsersRequest},
    views::{ImportReport, RevocationImport},
};
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

/// Reads a JSON file (`-`: standard input); failure names the file.
fn read_json(path: &Path) -> CommandResult<Value> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON ({e})", path.display()).into())
}

/// The settings of `--settings` (a JSON object) and `--simplejwt` (a SIMPLE_JWT file)
/// together; the SIMPLE_JWT ones are read first, `--settings` wins.
fn settings_body(
    more: Option<&str>,
    simplejwt: Option<&Path>,
) -> CommandResult<Map<String, Value>> {
    let mut body = match simplejwt {
        None => Map::new(),
        Some(path) => tessera_core::simplejwt::settings_from(&read_json(path)?)?,
    };
    if let Some(text) = more {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => body.extend(map),
            _ => return Err("--settings must be a JSON object".into()),
        }
    }
    Ok(body)
}

/// Creates a tenant (body as the admin API takes it) with its first key, audited as `cli`.
pub fn create_tenant(
    settings: &Settings,
    slug: &str,
    display_name: Option<&str>,
    more: Option<&str>,
    simplejwt: Option<&Path>,
) -> CommandResult<tessera_actors::views::TenantView> {
    let mut body = settings_body(more, simplejwt)?;
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

/// Changes a tenant's settings, audited as `cli`.
pub fn update_tenant(
    settings: &Settings,
    slug: &str,
    more: Option<&str>,
    simplejwt: Option<&Path>,
) -> CommandResult<tessera_actors::views::TenantView> {
    let body = settings_body(more, simplejwt)?;
    let patch: tessera_core::settings::SettingsPatch =
        serde_json::from_value(Value::Object(body)).map_err(|e| format!("settings: {e}"))?;
    let mut c = db(settings)?;
    let master = settings.master_key()?;
    let row = tessera_actors::admin_jobs::tenants::update(
        &mut c,
        slug,
        None,
        patch,
        &master,
        &settings.public_url,
        "cli",
    )
    .map_err(as_flags)?;
    tessera_actors::views::TenantView::of(&row).map_err(plain)
}

/// Imports users from a file (see the `import-users` command), audited as `cli`.
pub fn import_users(settings: &Settings, slug: &str, file: &Path) -> CommandResult<ImportReport> {
    let req: ImportUsersRequest = match read_json(file)? {
        // What dumpdata prints, or a list of Tessera records.
        Value::Array(users) => {
            let django = users.first().is_some_and(|u| u.get("model").is_some());
            ImportUsersRequest {
                format: if django {
                    ImportFormat::Django
                } else {
                    ImportFormat::Tessera
                },
                users,
            }
        }
        body => serde_json::from_value(body).map_err(|e| format!("{}: {e}", file.display()))?,
    };
    let mut c = db(settings)?;
    let row = tessera_actors::admin_jobs::tenants::visible(&mut c, slug, None).map_err(as_flags)?;
    tessera_actors::admin_jobs::imports::users(&mut c, &row, req, "cli").map_err(as_flags)
}

/// Imports simplejwt's blacklist from a `dumpdata token_blacklist` file, audited as
/// `cli`. Running nodes pick the revocations up from the database within a second.
pub fn import_revocations(
    settings: &Settings,
    slug: &str,
    file: &Path,
) -> CommandResult<RevocationImport> {
    let req = match read_json(file)? {
        Value::Array(objects) => ImportRevocationsRequest {
            format: DjangoFormat::Django,
            objects,
        },
        body => serde_json::from_value(body).map_err(|e| format!("{}: {e}", file.display()))?,
    };
    let mut c = db(settings)?;
    let row = tessera_actors::admin_jobs::tenants::visible(&mut c, slug, None).map_err(as_flags)?;
    let (report, _) = tessera_actors::admin_jobs::imports::revocations(&mut c, &row, req, "cli")
        .map_err(as_flags)?;
    Ok(report)
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
            &settings.redis_target()?,
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
