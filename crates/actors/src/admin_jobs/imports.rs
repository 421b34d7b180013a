//! Bringing a project's users and blacklist over (from Django + simplejwt, or in
//! Tessera's own format): each record is read and checked on its own, so one bad
//! record fails alone and the report says which and why; the good ones go in one
//! transaction per batch, and importing the same records again creates nothing twice.
use serde_json::{Value, json};
use std::collections::HashMap;
use tessera_core::{
    Error, Result,
    error::FieldErrors,
    ids::TokenId,
    password::{
        check_email, check_external_id, check_imported_hash, check_username, normalize_username,
    },
    settings::MAX_LEEWAY,
    time::{now, parse_rfc3339},
};
use tessera_store::{
    Db,
    models::{
        audit::{self, AuditEvent},
        revocation,
        tenant::Tenant,
        user::{self, Imported, User},
    },
};

use crate::{
    requests::{
        DjangoBlacklistRecord, DjangoUser, ImportFormat, ImportRevocationsRequest,
        ImportUsersRequest, TesseraUser,
    },
    services::admin_users::check_roles,
    views::{ImportFailure, ImportReport, ImportSkip, RevocationImport},
};

/// Most users one import takes.
pub const MAX_IMPORT_USERS: usize = 10_000;
/// Most blacklist records one import takes.
pub const MAX_IMPORT_RECORDS: usize = 100_000;
/// Users written per transaction.
const BATCH: usize = 1_000;

/// Imports users into a tenant (see [`ImportUsersRequest`]); audited once per batch.
pub fn users(
    conn: &mut Db,
    row: &Tenant,
    req: ImportUsersRequest,
    actor: &str,
) -> Result<ImportReport> {
    if req.users.len() > MAX_IMPORT_USERS {
        return Err(Error::field(
            "users",
            format!("at most {MAX_IMPORT_USERS} users an import; send the rest in another"),
        ));
    }
    let mut report = ImportReport::default();
    let mut ready: Vec<(usize, User)> = Vec::new();
    for (index, record) in req.users.into_iter().enumerate() {
        let username = record
            .pointer(match req.format {
                ImportFormat::Django => "/fields/username",
                ImportFormat::Tessera => "/username",
            })
            .and_then(Value::as_str)
            .map(str::to_owned);
        match read_user(&row.id, req.format, record) {
            Ok(u) => ready.push((index, u)),
            Err(errors) => report.failed.push(ImportFailure {
                index,
                username,
                errors,
            }),
        }
    }
    for batch in ready.chunks(BATCH) {
        let rows: Vec<User> = batch.iter().map(|(_, u)| u.clone()).collect();
        let outcomes = tessera_store::transaction(conn, |c| {
            let outcomes = user::insert_batch(c, &row.id, &rows)?;
            let created = outcomes.iter().filter(|o| **o == Imported::Created).count();
            if created > 0 {
                let ev = AuditEvent::new(
                    Some(row.audit_ref()),
                    actor,
                    "user.import",
                    &format!("{created} users"),
                    None,
                    Some(json!({"created": created, "format": req.format})),
                );
                audit::record(c, &ev)?;
            }
            Ok(outcomes)
        })?;
        for ((index, u), outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Imported::Created => report.created += 1,
                Imported::UsernameTaken => report.skipped.push(ImportSkip {
                    username: u.username.clone(),
                    reason: "a user with this username already exists".into(),
                }),
                Imported::ExternalIdTaken => report.failed.push(ImportFailure {
                    index: *index,
                    username: Some(u.username.clone()),
                    errors: one("external_id", "is another user's external_id"),
                }),
            }
        }
    }
    report.failed.sort_by_key(|f| f.index);
    Ok(report)
}

fn one(field: &str, message: &str) -> FieldErrors {
    FieldErrors::from([(field.to_owned(), vec![message.to_owned()])])
}

/// The field errors of a [`Error::Validation`], or the error's text under `record`.
fn field_errors(e: Error) -> FieldErrors {
    match e {
        Error::Validation { errors, .. } => errors,
        other => one("record", &other.to_string()),
    }
}

/// One record as a new user row, or what is wrong with it.
fn read_user(
    tenant_id: &tessera_core::ids::TenantId,
    format: ImportFormat,
    record: Value,
) -> std::result::Result<User, FieldErrors> {
    let unreadable = |e: serde_json::Error| one("record", &e.to_string());
    let fields = match format {
        ImportFormat::Django => {
            let r: DjangoUser = serde_json::from_value(record).map_err(unreadable)?;
            let mut roles = Vec::new();
            if r.fields.is_staff {
                roles.push("staff".to_owned());
            }
            if r.fields.is_superuser {
                roles.push("superuser".to_owned());
            }
            let external_id = match r.pk {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => return Err(one("pk", "must be a string or a number")),
            };
            let email = r.fields.email.filter(|e| !e.is_empty());
            Record {
                username: r.fields.username,
                // Django stores "" for no password at all: nobody logs in with it.
                password_hash: match r.fields.password.as_str() {
                    "" => "!".to_owned(),
                    _ => r.fields.password,
                },
                email,
                is_active: r.fields.is_active,
                roles,
                external_id: Some(external_id),
                date_joined: r.fields.date_joined,
                last_login: r.fields.last_login,
            }
        }
        ImportFormat::Tessera => {
            let r: TesseraUser = serde_json::from_value(record).map_err(unreadable)?;
            Record {
                username: r.username,
                password_hash: r.password_hash,
                email: r.email.filter(|e| !e.is_empty()),
                is_active: r.is_active,
                roles: r.roles,
                external_id: r.external_id,
                date_joined: r.date_joined,
                last_login: r.last_login,
            }
        }
    };
    fields.into_user(tenant_id)
}

/// A record's fields, whichever format it came in.
struct Record {
    username: String,
    password_hash: String,
    email: Option<String>,
    is_active: bool,
    roles: Vec<String>,
    external_id: Option<String>,
    date_joined: Option<String>,
    last_login: Option<String>,
}

impl Record {
    fn into_user(
        self,
        tenant_id: &tessera_core::ids::TenantId,
    ) -> std::result::Result<User, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut note = |r: Result<()>| {
            if let Err(e) = r {
                errors.extend(field_errors(e));
            }
        };
        note(check_username(&normalize_username(&self.username)));
        if let Some(e) = &self.email {
            note(check_email(e));
        }
        if let Some(x) = &self.external_id {
            note(check_external_id(x));
        }
        note(check_roles(&self.roles));
        if let Err(why) = check_imported_hash(&self.password_hash) {
            errors.insert("password".into(), vec![why]);
        }
        let time = |field: &str, text: Option<&str>, errors: &mut FieldErrors| match text {
            None => None,
            Some(t) => {
                let at = parse_rfc3339(t);
                if at.is_none() {
                    errors.insert(field.into(), vec!["must be an RFC 3339 time".into()]);
                }
                at
            }
        };
        let date_joined = time("date_joined", self.date_joined.as_deref(), &mut errors);
        let last_login = time("last_login", self.last_login.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut u = User::new(
            tenant_id,
            &self.username,
            self.email,
            self.password_hash,
            &self.roles,
        );
        u.is_active = self.is_active;
        u.external_id = self.external_id;
        u.date_joined = date_joined.unwrap_or(u.date_joined);
        u.last_login = last_login;
        Ok(u)
    }
}

/// One committed batch of imported revocations: its generation and its
/// `(jti, expiry)` pairs, for the revocation store.
pub type RevokedBatch = (i64, Vec<(String, i64)>);

/// Imports simplejwt's blacklist (what `manage.py dumpdata token_blacklist` prints):
/// every blacklisted token that has not expired is revoked until its expiry, in one
/// transaction and revocation generation per batch. Returns the report and, per
/// batch, its generation and `(jti, exp)` pairs (for the revocation store).
pub fn revocations(
    conn: &mut Db,
    row: &Tenant,
    req: ImportRevocationsRequest,
    actor: &str,
) -> Result<(RevocationImport, Vec<RevokedBatch>)> {
    let ImportRevocationsRequest { format: _, objects } = req;
    if objects.len() > MAX_IMPORT_RECORDS {
        return Err(Error::field(
            "objects",
            format!("at most {MAX_IMPORT_RECORDS} records an import"),
        ));
    }
    // OutstandingToken records by primary key; BlacklistedToken records name them.
    let mut outstanding: HashMap<String, (String, i64)> = HashMap::new();
    let mut blacklisted: Vec<String> = Vec::new();
    for (i, record) in objects.into_iter().enumerate() {
        let at = |why: String| Error::field(&format!("objects[{i}]"), why);
        let r: DjangoBlacklistRecord =
            serde_json::from_value(record).map_err(|e| at(e.to_string()))?;
        let pk = key_text(&r.pk).ok_or_else(|| at("pk must be a string or a number".into()))?;
        match r.model.as_str() {
            "token_blacklist.outstandingtoken" => {
                let jti = r
                    .fields
                    .get("jti")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let jti = TokenId::parse(jti)
                    .ok_or_else(|| at("jti must be 32 lowercase hex digits".into()))?;
                let exp = r
                    .fields
                    .get("expires_at")
                    .and_then(Value::as_str)
                    .and_then(parse_rfc3339)
                    .ok_or_else(|| at("expires_at must be an RFC 3339 time".into()))?;
                outstanding.insert(pk, (jti.to_string(), exp));
            }
            "token_blacklist.blacklistedtoken" => {
                let token = r
                    .fields
                    .get("token")
                    .and_then(key_text)
                    .ok_or_else(|| at("token must name an outstanding token".into()))?;
                blacklisted.push(token);
            }
            other => return Err(at(format!("model {other:?} is not token_blacklist's"))),
        }
    }
    let t = now();
    let mut report = RevocationImport::default();
    let mut live = Vec::new();
    for token in blacklisted {
        match outstanding.get(&token) {
            None => report.unknown += 1,
            // Expired beyond any leeway a tenant may allow: no check accepts it.
            Some((_, exp)) if *exp + MAX_LEEWAY <= t => report.expired += 1,
            Some(pair) => live.push(pair.clone()),
        }
    }
    let mut batches = Vec::new();
    for batch in live.chunks(BATCH) {
        let generation = tessera_store::transaction(conn, |c| {
            let generation = revocation::revoke_tokens(c, &row.id, batch, t)?;
            let ev = AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "revocation.import",
                &format!("{} tokens", batch.len()),
                None,
                Some(json!({"imported": batch.len()})),
            );
            audit::record(c, &ev)?;
            Ok(generation)
        })?;
        report.imported += batch.len();
        batches.push((generation, batch.to_vec()));
    }
    Ok((report, batches))
}

/// A Django primary key (or a foreign key naming one) as text.
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
