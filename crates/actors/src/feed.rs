//! Wake-ups for the revocation feed's long polls: one `watch` channel per tenant that
//! has a waiter, carrying the newest revocation generation this node has heard of
//! (its own revocations, other nodes' over pub/sub, and the generation poll). A
//! waiter holds one receiver and no database connection; a tenant's channel goes
//! when its last waiter does.
use parking_lot::Mutex;
use std::collections::HashMap;
use tessera_core::ids::TenantId;
use tokio::sync::watch;

/// The pub/sub message that tells every node a tenant's revocation generation moved:
/// `rev:{tenant id}:{generation}` (slugs, the other messages, never hold a colon).
pub const MESSAGE_PREFIX: &str = "rev:";

/// Per-tenant wake-ups of waiting feed requests.
#[derive(Default)]
pub struct RevocationFeed {
    tenants: Mutex<HashMap<TenantId, watch::Sender<i64>>>,
}

impl RevocationFeed {
    /// A receiver woken whenever the tenant's generation moves.
    pub fn subscribe(&self, tenant_id: &TenantId) -> watch::Receiver<i64> {
        let mut tenants = self.tenants.lock();
        tenants.retain(|_, tx| tx.receiver_count() > 0);
        tenants
            .entry(tenant_id.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// The tenant's generation reached `generation`: wakes its waiters if it moved.
    pub fn notify(&self, tenant_id: &TenantId, generation: i64) {
        if let Some(tx) = self.tenants.lock().get(tenant_id) {
            tx.send_if_modified(|g| {
                let moved = generation > *g;
                *g = (*g).max(generation);
                moved
            });
        }
    }

    /// Wakes every waiter (after notifications may have been missed): each looks again.
    pub fn wake_all(&self) {
        for tx in self.tenants.lock().values() {
            tx.send_modify(|_| ());
        }
    }

    /// Reads a pub/sub message; true if it was the feed's (`rev:…`).
    pub fn on_message(&self, message: &str) -> bool {
        let Some(rest) = message.strip_prefix(MESSAGE_PREFIX) else {
            return false;
        };
        if let Some((tenant, generation)) = rest.rsplit_once(':')
            && let Ok(generation) = generation.parse()
        {
            self.notify(&TenantId::from(tenant), generation);
        }
        true
    }

    /// The message that tells other nodes about a tenant's new generation.
    pub fn message(tenant_id: &TenantId, generation: i64) -> String {
        format!("{MESSAGE_PREFIX}{tenant_id}:{generation}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_when_their_tenant_moves_and_only_then() {
        let feed = RevocationFeed::default();
        let (a, b) = (TenantId::from("ten_a"), TenantId::from("ten_b"));
        let mut rx = feed.subscribe(&a);
        feed.notify(&b, 5);
        feed.notify(&a, 0);
        assert!(!rx.has_changed().unwrap(), "another tenant, or no move");
        assert!(feed.on_message(&RevocationFeed::message(&a, 3)));
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 3);
        feed.notify(&a, 2);
        assert!(!rx.has_changed().unwrap(), "never backwards");
        feed.wake_all();
        assert!(rx.has_changed().unwrap());
        assert!(
            !feed.on_message("acme"),
            "a tenant change is not the feed's"
        );
        drop(rx);
        feed.subscribe(&b);
        assert_eq!(
            feed.tenants.lock().len(),
            1,
            "a tenant without waiters goes"
        );
    }
}
