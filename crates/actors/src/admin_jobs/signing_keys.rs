//! The life of a tenant's signing keys, over one connection: list, rotate, retire,
//! import, and the scheduled rotation that publishes the next key ahead of its turn.
//! Every change is audited in its own transaction. Plain functions, testable
//! without actix; the admin actor only runs them.
use serde_json::json;
use tessera_core::{
    Error, Result,
    ids::{Kid, TenantId},
    key_lifecycle::{self, KeyOrigin, KeyStatus, Phase},
    key_material::KeyMaterial,
    master_key::MasterKey,
    time::now,
};
use tessera_store::Db;
use tessera_store::models::{
    audit::{self, AuditEvent},
    signing_key::{self, SigningKey},
    tenant::{self, Tenant},
};

/// The actor of changes Tessera makes by itself (scheduled rotation).
pub const SYSTEM: &str = "system";

/// One page of a tenant's keys, newest first, with what each does now.
pub fn list(
    conn: &mut Db,
    row: &Tenant,
    before: Option<&Kid>,
    limit: i64,
) -> Result<Vec<(SigningKey, Phase)>> {
    let overlap = row.settings()?.key_overlap();
    let t = now();
    // Stored statuses first catch up with the clock, so a page needs no other page.
    signing_key::catch_up(conn, &row.id, t, overlap)?;
    let keys = signing_key::list(conn, &row.id, before, limit)?;
    let phases = signing_key::phases(&keys, t, overlap);
    Ok(keys.into_iter().zip(phases).collect())
}

/// Rotates now: the published next key, if there is one, starts signing (resource
/// servers already have it), else a new key of the tenant's algorithm does. The
/// previous key keeps verifying until every token it signed has expired.
pub fn rotate(conn: &mut Db, row: &Tenant, master: &MasterKey, actor: &str) -> Result<SigningKey> {
    let s = row.settings()?;
    let (t, overlap) = (now(), s.key_overlap());
    let fresh = SigningKey::generate(&row.id, s.algorithm, master)?;
    tessera_store::transaction(conn, |c| {
        signing_key::catch_up(c, &row.id, t, overlap)?;
        let previous = signing_key::with_status(c, &row.id, KeyStatus::Active)?.map(|k| k.kid);
        let kid = match signing_key::promote_next(c, &row.id, t, overlap)? {
            Some(kid) => kid,
            None => {
                signing_key::retire_active(c, &row.id, t + overlap)?;
                signing_key::insert(c, &fresh)?;
                fresh.kid.clone()
            }
        };
        let before = json!({"active": previous});
        let after = json!({"active": kid, "previous_verifies_until": t + overlap});
        audit::record(
            c,
            &AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "key.rotate",
                kid.as_str(),
                Some(before),
                Some(after),
            ),
        )?;
        signing_key::by_kid(c, &row.id, &kid)?.ok_or(Error::NotFound("Key"))
    })
}

/// Retires a key at once (compromise): it leaves the JWKS and its tokens stop
/// verifying everywhere. Retiring the signing key hands signing to the published
/// next key or to a new key. Retiring a retired key changes nothing.
pub fn retire(
    conn: &mut Db,
    row: &Tenant,
    kid: &Kid,
    master: &MasterKey,
    actor: &str,
) -> Result<()> {
    let s = row.settings()?;
    let (t, overlap) = (now(), s.key_overlap());
    tessera_store::transaction(conn, |c| {
        signing_key::catch_up(c, &row.id, t, overlap)?;
        let key = signing_key::by_kid(c, &row.id, kid)?.ok_or(Error::NotFound("Key"))?;
        // A retired key that is still a legacy key (it verifies kid-less tokens until
        // `legacy_until`) is retired again: that window ends now too.
        if key.status == KeyStatus::Retired && key.legacy_until.is_none() {
            return Ok(());
        }
        signing_key::retire(c, &row.id, kid, t)?;
        let mut replaced_by = None;
        if key.status == KeyStatus::Active {
            replaced_by = match signing_key::promote_next(c, &row.id, t, overlap)? {
                Some(next) => Some(next),
                None => {
                    let fresh = SigningKey::generate(&row.id, s.algorithm, master)?;
                    signing_key::insert(c, &fresh)?;
                    Some(fresh.kid)
                }
            };
        }
        let before = json!({"status": key.status, "legacy_until": key.legacy_until});
        let after = json!({"status": KeyStatus::Retired, "active": replaced_by});
        audit::record(
            c,
            &AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "key.retire",
                kid.as_str(),
                Some(before),
                Some(after),
            ),
        )
    })
}

/// Imports an operator's key (e.g. a Django app's simplejwt `SIGNING_KEY`) as the
/// tenant's signing key, so resource servers that hold that key keep accepting
/// every token, old and new. The tenant's algorithm becomes the key's; the previous
/// key keeps verifying its tokens. With `legacy_ttl`, it is also the tenant's legacy
/// key for that long: it verifies the kid-less tokens the old system issued.
/// Returns the key and the tenant as changed.
pub fn import(
    conn: &mut Db,
    row: &Tenant,
    material: &KeyMaterial,
    legacy_ttl: Option<i64>,
    master: &MasterKey,
    actor: &str,
) -> Result<(SigningKey, Tenant)> {
    let before_settings = row.settings()?;
    let (t, overlap) = (now(), before_settings.key_overlap());
    let mut key = SigningKey::seal(&row.id, material, KeyOrigin::Imported, master)?;
    key.legacy_until = legacy_ttl.map(|ttl| t + ttl);
    let mut changed = row.clone();
    let mut settings = before_settings.clone();
    settings.algorithm = material.algorithm;
    changed.set_settings(&settings);
    changed.updated_at = t;
    tessera_store::transaction(conn, |c| {
        signing_key::catch_up(c, &row.id, t, overlap)?;
        if let Some(next) = signing_key::with_status(c, &row.id, KeyStatus::Next)?
            && next.algorithm != key.algorithm
        {
            signing_key::retire(c, &row.id, &next.kid, t)?;
        }
        signing_key::retire_active(c, &row.id, t + overlap)?;
        signing_key::insert(c, &key)?;
        if let Some(until) = key.legacy_until {
            signing_key::make_legacy(c, &row.id, &key.kid, until)?;
        }
        tenant::update(c, &changed)?;
        let before = json!({"algorithm": before_settings.algorithm});
        let after = json!({"kid": key.kid, "algorithm": key.algorithm,
            "status": KeyStatus::Active, "legacy_until": key.legacy_until});
        audit::record(
            c,
            &AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "key.import",
                key.kid.as_str(),
                Some(before),
                Some(after),
            ),
        )
    })?;
    Ok((key, changed))
}

/// One pass of scheduled rotation over every tenant that has it: stored statuses
/// catch up with the clock, and a tenant whose active key is due to be replaced
/// within one rotation lead gets its next key now, published at least one JWKS
/// cache lifetime before it signs. Safe on every node at once: each tenant is
/// handled under its row lock (and the one-next-key index would refuse a second
/// next key anyway). Returns the slugs whose keys changed.
pub fn scheduled_rotation(conn: &mut Db, master: &MasterKey) -> Result<Vec<String>> {
    let mut changed = Vec::new();
    for row in tenant::with_rotation(conn)? {
        match rotate_if_due(conn, &row.id, master) {
            Ok(true) => changed.push(row.slug.clone()),
            Ok(false) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(changed)
}

fn rotate_if_due(conn: &mut Db, id: &TenantId, master: &MasterKey) -> Result<bool> {
    tessera_store::transaction(conn, |c| {
        // Under the tenant's row lock, read afresh: a settings change made since the
        // list was read (rotation turned off, another interval) is honoured.
        if !tenant::lock_if_rotating(c, id)? {
            return Ok(false);
        }
        let row = tenant::by_id(c, id)?.ok_or(Error::TenantNotFound)?;
        let s = row.settings()?;
        let Some(interval) = s.key_rotation_interval else {
            return Ok(false);
        };
        let (t, overlap, lead) = (now(), s.key_overlap(), s.rotation_lead());
        let changed = signing_key::catch_up(c, id, t, overlap)?;
        if signing_key::with_status(c, id, KeyStatus::Next)?.is_some() {
            return Ok(changed);
        }
        let Some(active) = signing_key::with_status(c, id, KeyStatus::Active)? else {
            return Ok(changed);
        };
        let since = active.activated_at.unwrap_or(active.created_at);
        let Some(activates_at) = key_lifecycle::scheduled_rotation(since, interval, lead, t) else {
            return Ok(changed);
        };
        let mut next = SigningKey::generate(id, s.algorithm, master)?;
        next.status = KeyStatus::Next;
        next.activated_at = Some(activates_at);
        signing_key::insert(c, &next)?;
        let after = json!({"status": KeyStatus::Next, "activates_at": activates_at});
        let ev = AuditEvent::new(
            Some(row.audit_ref()),
            SYSTEM,
            "key.schedule",
            next.kid.as_str(),
            None,
            Some(after),
        );
        audit::record(c, &ev)?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    //! Scheduled rotation on a real (SQLite) database made per test.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tessera_core::{algorithm::SigningAlgorithm, settings::TenantSettings};
    use tessera_store::testing::{Scratch, scratch_db};

    /// A database with tenant `acme` (rotating every `interval` seconds when given)
    /// whose one active key signs since `active_since`.
    fn acme(interval: Option<i64>, active_since: i64) -> (Db, Tenant, MasterKey, Scratch) {
        let (mut c, scratch) = scratch_db();
        let mut settings = TenantSettings::new("Acme");
        settings.key_rotation_interval = interval;
        let row = Tenant::new("acme", &settings);
        tenant::insert(&mut c, &row).unwrap();
        let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let mut key = SigningKey::generate(&row.id, SigningAlgorithm::ES256, &master).unwrap();
        key.activated_at = Some(active_since);
        signing_key::insert(&mut c, &key).unwrap();
        (c, row, master, scratch)
    }

    fn next_key(c: &mut Db, row: &Tenant) -> Option<SigningKey> {
        signing_key::with_status(c, &row.id, KeyStatus::Next).unwrap()
    }

    #[test]
    fn a_key_due_for_rotation_gets_its_successor_published_ahead_of_time() {
        let t = now();
        let (mut c, row, master, _g) = acme(Some(3_600), t - 3_600);
        assert_eq!(scheduled_rotation(&mut c, &master).unwrap(), ["acme"]);
        let next = next_key(&mut c, &row).unwrap();
        let lead = row.settings().unwrap().rotation_lead();
        let at = next.activated_at.unwrap();
        // Overdue: it signs one JWKS lifetime (plus a second) from now, not at once.
        assert!(at >= t + lead && at <= now() + lead, "{at} vs {t} + {lead}");
        assert_eq!(next.algorithm, SigningAlgorithm::ES256);
        // A second pass (another node) publishes nothing more.
        assert!(scheduled_rotation(&mut c, &master).unwrap().is_empty());
        assert_eq!(next_key(&mut c, &row).unwrap().kid, next.kid);
    }

    #[test]
    fn a_key_not_yet_due_or_a_tenant_without_rotation_is_left_alone() {
        let t = now();
        let (mut c, row, master, _g) = acme(Some(3_600), t - 60);
        assert!(scheduled_rotation(&mut c, &master).unwrap().is_empty());
        assert!(next_key(&mut c, &row).is_none());
        let (mut c, row, master, _g) = acme(None, t - 86_400);
        assert!(scheduled_rotation(&mut c, &master).unwrap().is_empty());
        assert!(next_key(&mut c, &row).is_none());
    }
}
