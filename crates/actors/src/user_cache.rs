//! The per-node user cache: what `GET /users/me` answers, without a database read per
//! request. It is kept exact by change notifications: any change to a user (login,
//! which sets `last_login`; a patch, deactivation, password change or deletion) drops
//! the entry on this node at once and on every other node through Redis pub/sub
//! (`user:{tenant}:{user}`); a lost subscription drops everything. An entry is also
//! used for at most the tenant cache's maximum age, so a node that missed a message
//! catches up within it. The revocation check still runs on every request: the cache
//! only saves the read of the profile.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tessera_core::ids::{TenantId, UserId};

use crate::views::UserView;

/// The prefix of a user-change notification.
const MESSAGE_PREFIX: &str = "user:";

/// One cached profile of an active user.
#[derive(Clone)]
struct Entry {
    view: Arc<UserView>,
    read_at: Instant,
}

/// Profiles by (tenant, user), bounded in count.
pub struct UserCache {
    entries: Option<quick_cache::sync::Cache<(TenantId, UserId), Entry>>,
    max_age: Duration,
    /// Bumped by every change: a read that started before a change is not cached.
    changes: AtomicU64,
}

/// What a read saw of the change counter, to cache its result only if nothing
/// changed meanwhile.
#[derive(Clone, Copy)]
pub struct ReadTicket(u64);

impl UserCache {
    /// A cache of at most `capacity` profiles (0: none), each used for `max_age`.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        Self {
            entries: (capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)),
            max_age,
            changes: AtomicU64::new(0),
        }
    }

    /// The cached profile, if fresh.
    pub fn get(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<UserView>> {
        let entries = self.entries.as_ref()?;
        let key = (tenant.clone(), user.clone());
        let entry = entries.get(&key)?;
        if entry.read_at.elapsed() < self.max_age {
            Some(entry.view)
        } else {
            entries.remove(&key);
            None
        }
    }

    /// Taken before reading a user from the database.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.changes.load(Ordering::Acquire))
    }

    /// Caches what a read that took `ticket` found, unless a change came since.
    pub fn put(&self, ticket: ReadTicket, tenant: &TenantId, user: &UserId, view: Arc<UserView>) {
        let Some(entries) = &self.entries else {
            return;
        };
        let read_at = Instant::now();
        if self.changes.load(Ordering::Acquire) == ticket.0 {
            entries.insert((tenant.clone(), user.clone()), Entry { view, read_at });
        }
    }

    /// Drops one user's profile (a change on this node or announced by another).
    pub fn invalidate(&self, tenant: &TenantId, user: &UserId) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.remove(&(tenant.clone(), user.clone()));
        }
    }

    /// Drops everything (the change notifications were lost for a while).
    pub fn clear(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// Handles a change notification; false when it is not about a user.
    pub fn on_message(&self, message: &str) -> bool {
        let Some(rest) = message.strip_prefix(MESSAGE_PREFIX) else {
            return false;
        };
        if let Some((tenant, user)) = rest.split_once(':') {
            self.invalidate(&TenantId::from(tenant), &UserId::from(user));
        }
        true
    }

    /// The notification that tells other nodes a user changed.
    pub fn message(tenant: &TenantId, user: &UserId) -> String {
        format!("{MESSAGE_PREFIX}{tenant}:{user}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn view(name: &str) -> Arc<UserView> {
        Arc::new(UserView {
            id: "usr_1".into(),
            username: name.into(),
            email: None,
            is_active: true,
            roles: Vec::new(),
            date_joined: "2026-11-27T00:00:00Z".into(),
            last_login: None,
            external_id: None,
        })
    }

    #[test]
    fn a_change_drops_the_entry_and_a_read_from_before_it_is_not_cached() {
        let cache = UserCache::new(10, Duration::from_secs(30));
        let (t, u) = (TenantId::from("ten_a"), UserId::from("usr_1"));
        let ticket = cache.ticket();
        cache.put(ticket, &t, &u, view("alice"));
        assert_eq!(cache.get(&t, &u).unwrap().username, "alice");
        // A read starts, then a change lands, then the read's (old) result arrives.
        let ticket = cache.ticket();
        assert!(cache.on_message(&UserCache::message(&t, &u)));
        assert!(cache.get(&t, &u).is_none());
        cache.put(ticket, &t, &u, view("stale"));
        assert!(
            cache.get(&t, &u).is_none(),
            "a read older than a change is not kept"
        );
        // Other messages are not about users; "*" is handled by clear().
        assert!(!cache.on_message("acme"));
        cache.put(cache.ticket(), &t, &u, view("alice"));
        cache.clear();
        assert!(cache.get(&t, &u).is_none());
    }

    #[test]
    fn entries_age_out_and_a_zero_capacity_caches_nothing() {
        let cache = UserCache::new(10, Duration::ZERO);
        let (t, u) = (TenantId::from("ten_a"), UserId::from("usr_1"));
        cache.put(cache.ticket(), &t, &u, view("alice"));
        assert!(cache.get(&t, &u).is_none());
        let off = UserCache::new(0, Duration::from_secs(30));
        off.put(off.ticket(), &t, &u, view("alice"));
        assert!(off.get(&t, &u).is_none());
    }
}
