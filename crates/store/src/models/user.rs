//! `users`: a tenant's end users. Every query is scoped by tenant id.
use diesel::prelude::*;
use tessera_core::{
    Error, Result,
    ids::{TenantId, UserId},
    password::{normalize_username, username_key},
    time::now,
};

use crate::{
    Db, DbResultExt,
    schema::{refresh_tokens, sessions, users},
};

/// A user row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    /// Public id (`usr_…`).
    pub id: UserId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Unique within the tenant.
    pub username: String,
    /// Optional e-mail.
    pub email: Option<String>,
    /// argon2id PHC string; never leaves the store except to the hasher.
    pub password_hash: String,
    /// Inactive users cannot log in or refresh.
    pub is_active: bool,
    /// JSON array text of role names.
    pub roles: String,
    /// Unix seconds.
    pub date_joined: i64,
    /// Unix seconds of the last login.
    pub last_login: Option<i64>,
    /// Unix seconds of the last password change.
    pub password_changed_at: i64,
    /// What the username is unique and found by: NFKC, lower-cased.
    pub username_key: String,
    /// The user's id in the system they were imported from (a Django primary key),
    /// carried as the `user_id` claim; unique within the tenant when set.
    pub external_id: Option<String>,
}

impl User {
    /// A new active user.
    pub fn new(
        tenant_id: &TenantId,
        username: &str,
        email: Option<String>,
        password_hash: String,
        roles: &[String],
    ) -> Self {
        let t = now();
        Self {
            id: UserId::generate(),
            tenant_id: tenant_id.clone(),
            username: normalize_username(username),
            username_key: username_key(username),
            email,
            password_hash,
            is_active: true,
            roles: serde_json::Value::from(roles.to_vec()).to_string(),
            date_joined: t,
            last_login: None,
            password_changed_at: t,
            external_id: None,
        }
    }

    /// The roles as a list (an unreadable value reads as none).
    pub fn role_list(&self) -> Vec<String> {
        serde_json::from_str(&self.roles).unwrap_or_default()
    }
}

/// Inserts a user; a taken username in the tenant is a conflict.
pub fn insert(conn: &mut Db, row: &User) -> Result<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .db()
        .map_err(|e| match e {
            Error::Conflict(_) => {
                Error::Conflict("A user with that username already exists".into())
            }
            other => other,
        })?;
    Ok(())
}

/// What became of one user of an import batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// Created.
    Created,
    /// The tenant already has a user of this username (or the batch had it before).
    UsernameTaken,
    /// Another user of the tenant has this external id.
    ExternalIdTaken,
}

/// Inserts a batch of new users of one tenant in one transaction, leaving out those
/// whose username (or external id) the tenant or an earlier row of the batch already
/// has: importing the same users again creates nobody twice. Answers per row.
pub fn insert_batch(conn: &mut Db, tenant_id: &TenantId, rows: &[User]) -> Result<Vec<Imported>> {
    crate::transaction(conn, |c| {
        let names: Vec<&str> = rows.iter().map(|u| u.username_key.as_str()).collect();
        let externals: Vec<&str> = rows
            .iter()
            .filter_map(|u| u.external_id.as_deref())
            .collect();
        let mut taken_names: std::collections::HashSet<String> = users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::username_key.eq_any(&names))
            .select(users::username_key)
            .load(c)
            .db()?
            .into_iter()
            .collect();
        let mut taken_externals: std::collections::HashSet<String> = users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::external_id.eq_any(&externals))
            .select(users::external_id.assume_not_null())
            .load(c)
            .db()?
            .into_iter()
            .collect();
        let mut fresh = Vec::new();
        let outcomes = rows
            .iter()
            .map(|u| {
                if !taken_names.insert(u.username_key.clone()) {
                    Imported::UsernameTaken
                } else if u
                    .external_id
                    .as_ref()
                    .is_some_and(|x| !taken_externals.insert(x.clone()))
                {
                    Imported::ExternalIdTaken
                } else {
                    fresh.push(u);
                    Imported::Created
                }
            })
            .collect();
        // One multi-row INSERT per chunk, built for each backend (the multi-backend
        // connection has no batch insert).
        for chunk in fresh.chunks(500) {
            let chunk: Vec<&User> = chunk.to_vec();
            let insert = diesel::insert_into(users::table).values(chunk);
            match c {
                Db::Pg(c) => insert.execute(c),
                Db::Sqlite(c) => insert.execute(c),
            }
            .db()?;
        }
        Ok(outcomes)
    })
}

/// The tenant's user with this username, in any case or Unicode form.
pub fn by_username(conn: &mut Db, tenant_id: &TenantId, username: &str) -> Result<Option<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::username_key.eq(username_key(username)))
        .select(User::as_select())
        .first(conn)
        .optional()
        .db()
}

/// The tenant's user with this external id (e.g. a Django primary key).
pub fn by_external_id(
    conn: &mut Db,
    tenant_id: &TenantId,
    external_id: &str,
) -> Result<Option<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::external_id.eq(external_id))
        .select(User::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Refuses an external id another user of the tenant has (409).
pub fn check_external_id_free(
    conn: &mut Db,
    tenant_id: &TenantId,
    external_id: &str,
    except: Option<&UserId>,
) -> Result<()> {
    match by_external_id(conn, tenant_id, external_id)? {
        Some(other) if Some(&other.id) != except => Err(Error::Conflict(
            "A user with that external_id already exists".into(),
        )),
        _ => Ok(()),
    }
}

/// The tenant's user with this id.
pub fn by_id(conn: &mut Db, tenant_id: &TenantId, id: &UserId) -> Result<Option<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Replaces a user's password hash; returns whether the user exists. The change
/// time moves strictly forward (`now`, or a second past the last change when that
/// was as late), so a login can tell a change from a rehash even within one second.
pub fn set_password(conn: &mut Db, tenant_id: &TenantId, id: &UserId, hash: &str) -> Result<bool> {
    let t = now();
    let n = diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id)),
    )
    .set((
        users::password_hash.eq(hash),
        users::password_changed_at.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "CASE WHEN password_changed_at >= {t} THEN password_changed_at + 1 ELSE {t} END"
        ))),
    ))
    .execute(conn)
    .db()?;
    Ok(n > 0)
}

diesel::define_sql_function!(
    /// SQL `lower()`, for case-insensitive search on Postgres and SQLite alike.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>
);

/// The tenant's users in creation order after the cursor `after` (a user id);
/// `search` matches part of the username or e-mail, ignoring case.
pub fn list(
    conn: &mut Db,
    tenant_id: &TenantId,
    search: Option<&str>,
    after: Option<&UserId>,
    limit: i64,
) -> Result<Vec<User>> {
    let mut q = users::table
        .filter(users::tenant_id.eq(tenant_id.clone()))
        .select(User::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(users::id.gt(a.clone()));
    }
    if let Some(s) = search {
        let escaped: String = username_key(s)
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        q = q.filter(
            users::username_key
                .nullable()
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::email).like(pattern).escape('\\')),
        );
    }
    q.load(conn).db()
}

/// The columns an admin change of a user writes: only those it changes (`None`
/// leaves a column as it is), so a concurrent password change is never undone by
/// an older copy of the row.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New active flag.
    pub is_active: Option<bool>,
    /// New roles (JSON array text).
    pub roles: Option<String>,
    /// New e-mail (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// New password hash (use [`set_password`], which also moves the change time).
    pub password_hash: Option<String>,
    /// New external id (`Some(None)` clears it).
    pub external_id: Option<Option<String>>,
}

impl UserChanges {
    /// Whether nothing would be written.
    pub fn is_empty(&self) -> bool {
        self.is_active.is_none()
            && self.roles.is_none()
            && self.email.is_none()
            && self.password_hash.is_none()
            && self.external_id.is_none()
    }
}

/// Locks a tenant's user row for the rest of the transaction (a no-op write, which
/// both backends take as the row's lock): every transaction that changes a user and
/// its sessions takes the user row first, so no two of them deadlock.
pub fn lock(conn: &mut Db, tenant_id: &TenantId, id: &UserId) -> Result<()> {
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id)),
    )
    .set(users::is_active.eq(users::is_active))
    .execute(conn)
    .db()?;
    Ok(())
}

/// Writes the changed columns of a tenant's user.
pub fn update(
    conn: &mut Db,
    tenant_id: &TenantId,
    id: &UserId,
    changes: &UserChanges,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(id)),
    )
    .set(changes)
    .execute(conn)
    .db()?;
    Ok(())
}

/// Deletes a tenant's user with their sessions and refresh tokens.
pub fn delete(conn: &mut Db, tenant_id: &TenantId, id: &UserId) -> Result<bool> {
    crate::retrying(conn, |c| {
        let sessions = sessions::table
            .filter(sessions::tenant_id.eq(tenant_id))
            .filter(sessions::user_id.eq(id))
            .select(sessions::sid);
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::sid.eq_any(sessions)))
            .execute(c)?;
        let n = diesel::delete(
            users::table
                .filter(users::tenant_id.eq(tenant_id))
                .filter(users::id.eq(id)),
        )
        .execute(c)?;
        Ok(n > 0)
    })
}
