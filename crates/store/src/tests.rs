//! The store's own logic, on a real (SQLite) database made per test: refresh-token
//! rotation and reuse, revocation records that never go back, key status catch-up,
//! and password-change times. The end-to-end suite runs the same code on Postgres.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use tessera_core::{
    algorithm::SigningAlgorithm,
    ids::{SessionId, TenantId, TokenId, UserId},
    key_lifecycle::KeyStatus,
    master_key::MasterKey,
    revocation::RevocationKind,
    settings::TenantSettings,
};

use crate::{
    Db,
    models::{
        revocation, session,
        session::{RefreshOutcome, RefreshToken, Rotation, Session},
        signing_key::{self, SigningKey},
        tenant::{self, Tenant},
        user::{self, User},
    },
};

fn db() -> (Db, crate::testing::Scratch) {
    crate::testing::scratch_db()
}

fn tenant(c: &mut Db) -> Tenant {
    let row = Tenant::new("acme", &TenantSettings::new("Acme"));
    tenant::insert(c, &row).unwrap();
    row
}

fn user(c: &mut Db, t: &TenantId) -> User {
    let row = User::new(t, "alice", None, "$argon2id$stub".into(), &[]);
    user::insert(c, &row).unwrap();
    row
}

/// A session of `u` started at `now`, lasting an hour, with its first token.
fn login(c: &mut Db, t: &TenantId, u: &UserId, now: i64) -> (SessionId, TokenId) {
    let (sid, jti) = (SessionId::generate(), TokenId::generate());
    let s = Session {
        sid: sid.clone(),
        tenant_id: t.clone(),
        user_id: u.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now + 3600,
        user_agent: None,
        ip: None,
        revoked_at: None,
    };
    let first = RefreshToken {
        jti: jti.clone(),
        tenant_id: t.clone(),
        sid: sid.clone(),
        parent_jti: None,
        user_id: u.clone(),
        issued_at: now,
        expires_at: now + 600,
        used_at: None,
        revoked_at: None,
    };
    assert!(session::start(c, &s, &first, None, None).unwrap());
    (sid, jti)
}

fn rotation(reuse_interval: i64) -> Rotation {
    Rotation {
        jti: TokenId::generate(),
        ttl: 600,
        reuse_interval,
    }
}

#[test]
fn a_rotated_out_refresh_token_presented_again_is_reuse() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let u = user(&mut c, &t.id);
    let (sid, first) = login(&mut c, &t.id, &u.id, 1_000);
    let rot = rotation(0);
    let (out, next) = session::refresh(&mut c, &t.id, &first, 1_010, Some(&rot)).unwrap();
    assert!(matches!(
        out,
        RefreshOutcome::Accepted {
            session_expires_at: 4_600,
            ..
        }
    ));
    let next = next.unwrap();
    assert_eq!(next.jti, rot.jti);
    assert_eq!(next.expires_at, 1_610);
    // The first token again: reuse of this session, nothing issued.
    let (out, none) = session::refresh(&mut c, &t.id, &first, 1_011, Some(&rotation(0))).unwrap();
    assert!(matches!(out, RefreshOutcome::Reused { sid: s } if s == sid));
    assert!(none.is_none());
    // The successor still works (revoking the session is the caller's move).
    let (out, _) = session::refresh(&mut c, &t.id, &next.jti, 1_012, Some(&rotation(0))).unwrap();
    assert!(matches!(out, RefreshOutcome::Accepted { .. }));
}

#[test]
fn within_the_reuse_interval_the_same_successor_comes_back() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let u = user(&mut c, &t.id);
    let (_, first) = login(&mut c, &t.id, &u.id, 1_000);
    let (_, next) = session::refresh(&mut c, &t.id, &first, 1_000, Some(&rotation(5))).unwrap();
    let next = next.unwrap();
    let (out, again) = session::refresh(&mut c, &t.id, &first, 1_005, Some(&rotation(5))).unwrap();
    assert!(matches!(out, RefreshOutcome::Accepted { .. }));
    assert_eq!(
        again.unwrap(),
        next,
        "a lost answer gets the same successor"
    );
    let (out, _) = session::refresh(&mut c, &t.id, &first, 1_006, Some(&rotation(5))).unwrap();
    assert!(
        matches!(out, RefreshOutcome::Reused { .. }),
        "past the window"
    );
}

#[test]
fn a_token_of_a_revoked_session_an_inactive_user_or_another_tenant_is_rejected() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let u = user(&mut c, &t.id);
    let (sid, first) = login(&mut c, &t.id, &u.id, 1_000);
    let other = Tenant::new("other", &TenantSettings::new("Other"));
    tenant::insert(&mut c, &other).unwrap();
    let (out, _) = session::refresh(&mut c, &other.id, &first, 1_001, None).unwrap();
    assert!(matches!(out, RefreshOutcome::Rejected), "tenant isolation");

    let changes = user::UserChanges {
        is_active: Some(false),
        ..Default::default()
    };
    user::update(&mut c, &t.id, &u.id, &changes).unwrap();
    let (out, _) = session::refresh(&mut c, &t.id, &first, 1_001, None).unwrap();
    assert!(matches!(out, RefreshOutcome::Rejected), "inactive user");

    let revoked = session::revoke(&mut c, &t.id, &sid, 1_002)
        .unwrap()
        .unwrap();
    assert_eq!(revoked.what, 4_600, "lasts until the session's end");
    assert!(revoked.generation > 0, "a revocation takes a generation");
    assert!(!session::refresh_token_is_live(&mut c, &t.id, &first, 1_003).unwrap());
    // Revoking it again is recorded already: no new generation.
    let again = session::revoke(&mut c, &t.id, &sid, 1_004)
        .unwrap()
        .unwrap();
    assert_eq!(again.generation, 0);
}

#[test]
fn revocation_records_keep_the_latest_cut_off_and_the_longest_life() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let g1 = revocation::next_generation(&mut c, &t.id).unwrap();
    revocation::upsert(
        &mut c,
        &t.id,
        RevocationKind::User,
        "usr_1",
        (500, 9_000),
        g1,
    )
    .unwrap();
    let g2 = revocation::next_generation(&mut c, &t.id).unwrap();
    assert_eq!(g2, g1 + 1);
    // A late write of an older cut-off and a shorter life changes neither.
    revocation::upsert(
        &mut c,
        &t.id,
        RevocationKind::User,
        "usr_1",
        (400, 8_000),
        g2,
    )
    .unwrap();
    let (generation, rows) = revocation::live(&mut c, &t.id, 1_000, None).unwrap();
    assert_eq!(generation, g2);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].revoked_at, rows[0].expires_at), (500, 9_000));
    assert_eq!(rows[0].generation, g2);
    // Only what came after a generation, and nothing expired.
    assert!(
        revocation::live(&mut c, &t.id, 1_000, Some(g2))
            .unwrap()
            .1
            .is_empty()
    );
    assert!(
        revocation::live(&mut c, &t.id, 9_400, None)
            .unwrap()
            .1
            .is_empty()
    );
}

#[test]
fn stored_key_statuses_catch_up_with_the_clock() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    let mut active = SigningKey::generate(&t.id, SigningAlgorithm::HS256, &master).unwrap();
    active.activated_at = Some(100);
    signing_key::insert(&mut c, &active).unwrap();
    let mut next = SigningKey::generate(&t.id, SigningAlgorithm::HS256, &master).unwrap();
    next.status = KeyStatus::Next;
    next.activated_at = Some(200);
    signing_key::insert(&mut c, &next).unwrap();

    assert!(
        !signing_key::catch_up(&mut c, &t.id, 199, 50).unwrap(),
        "not yet"
    );
    assert!(signing_key::catch_up(&mut c, &t.id, 200, 50).unwrap());
    let status =
        |c: &mut Db, k: &SigningKey| signing_key::by_kid(c, &t.id, &k.kid).unwrap().unwrap();
    assert_eq!(status(&mut c, &next).status, KeyStatus::Active);
    let old = status(&mut c, &active);
    assert_eq!(
        (old.status, old.not_after),
        (KeyStatus::Retiring, Some(250))
    );
    assert!(
        !signing_key::catch_up(&mut c, &t.id, 249, 50).unwrap(),
        "a second runner changes nothing"
    );
    assert!(signing_key::catch_up(&mut c, &t.id, 250, 50).unwrap());
    assert_eq!(status(&mut c, &active).status, KeyStatus::Retired);
    // The material still opens with the master key after the round trip.
    assert!(status(&mut c, &next).material(&master).is_ok());
}

#[test]
fn a_password_change_time_only_moves_forward() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let u = user(&mut c, &t.id);
    let changed_at = |c: &mut Db| {
        user::by_id(c, &t.id, &u.id)
            .unwrap()
            .unwrap()
            .password_changed_at
    };
    let first = changed_at(&mut c);
    assert!(user::set_password(&mut c, &t.id, &u.id, "$argon2id$a").unwrap());
    assert!(user::set_password(&mut c, &t.id, &u.id, "$argon2id$b").unwrap());
    let third = changed_at(&mut c);
    assert!(
        third >= first + 2,
        "two changes within a second still move it: {first} -> {third}"
    );
    assert!(!user::set_password(&mut c, &t.id, &UserId::generate(), "x").unwrap());
}

#[test]
fn a_batch_of_logouts_shares_one_generation_per_tenant() {
    let (mut c, _g) = db();
    let t = tenant(&mut c);
    let u = user(&mut c, &t.id);
    let sids: Vec<SessionId> = (0..3)
        .map(|_| login(&mut c, &t.id, &u.id, 1_000).0)
        .collect();
    let other = Tenant::new("other", &TenantSettings::new("Other"));
    tenant::insert(&mut c, &other).unwrap();
    let before = revocation::live(&mut c, &t.id, 1_000, None).unwrap().0;
    let items = vec![
        (t.id.clone(), sids[0].clone()),
        (t.id.clone(), sids[1].clone()),
        (other.id.clone(), sids[2].clone()), // another tenant's view of a session
        (t.id.clone(), sids[1].clone()),     // the same logout twice
        (t.id.clone(), SessionId::generate()),
    ];
    let done = crate::models::session_batch::revoke_many(&mut c, 1_001, &items).unwrap();
    let g: Vec<Option<i64>> = done
        .iter()
        .map(|d| d.as_ref().map(|r| r.generation))
        .collect();
    // One generation for the tenant's batch: its store write is one atomic write.
    let (g0, g1) = (g[0].unwrap(), g[1].unwrap());
    assert_eq!(g0, before + 1, "{g:?}");
    assert_eq!(g1, g0, "{g:?}");
    assert_eq!(g[3], g[1], "the same session twice: the same answer");
    assert_eq!((g[2], g[4]), (None, None), "no such session of the tenant");
    let (generation, rows) = revocation::live(&mut c, &t.id, 1_001, None).unwrap();
    assert_eq!(generation, g0);
    assert_eq!(rows.len(), 2);
    // A replayed logout takes no new generation.
    let again = crate::models::session_batch::revoke_many(&mut c, 1_002, &items[..1]).unwrap();
    assert_eq!(again[0].as_ref().map(|r| r.generation), Some(0));
    // The session the other tenant named is untouched.
    let third = session::revoke(&mut c, &t.id, &sids[2], 1_003)
        .unwrap()
        .unwrap();
    assert!(third.generation > g0, "sids[2] was still live");
}
