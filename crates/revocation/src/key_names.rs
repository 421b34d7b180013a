//! Redis key names, all under one prefix.
use tessera_core::revocation::RevocationKind;

/// Key names. Every key of one tenant carries the tenant id as a Redis Cluster hash
/// tag (`{…}`), so that a check's one `MGET` (session, token, cut-off and the tenant's
/// "filled" marker) and a login's rate-limit pipeline stay in one slot, while
/// different tenants spread over the cluster.
#[derive(Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn entry(&self, tenant_id: &str, kind: RevocationKind, subject: &str) -> String {
        format!(
            "{}rv:{{{}}}:{}:{}",
            self.prefix,
            tenant_id,
            kind.as_str(),
            subject
        )
    }

    /// The tenant's revocation generation the store holds everything up to; absent
    /// when the store lost its contents (or never had them).
    pub(crate) fn filled(&self, tenant_id: &str) -> String {
        format!("{}rv:{{{}}}:gen", self.prefix, tenant_id)
    }

    /// The generations written out of order, waiting for the ones before them (a
    /// sorted set, the generation as score).
    pub(crate) fn landed(&self, tenant_id: &str) -> String {
        format!("{}rv:{{{}}}:landed", self.prefix, tenant_id)
    }

    /// How many chunks the refill `refill` of the tenant has written (deleted by its
    /// last part; one that never came leaves it to expire, in 10 minutes).
    pub(crate) fn refill_chunks(&self, tenant_id: &str, refill: &str) -> String {
        format!("{}rv:{{{}}}:refill:{}", self.prefix, tenant_id, refill)
    }

    /// A login rate-limit counter of the tenant (`what`: `user:…` or `ip:…`).
    pub(crate) fn rate(&self, tenant_id: &str, what: &str) -> String {
        format!("{}rl:{{{}}}:{}", self.prefix, tenant_id, what)
    }

    pub(crate) fn channel(&self) -> String {
        format!("{}changes", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_and_distinct() {
        let k = Keys::new("t1:");
        assert_eq!(
            k.entry("ten_a", RevocationKind::Session, "s1"),
            "t1:rv:{ten_a}:sid:s1"
        );
        assert_ne!(
            k.entry("ten_a", RevocationKind::Token, "x"),
            k.entry("ten_b", RevocationKind::Token, "x")
        );
        assert_eq!(k.filled("ten_a"), "t1:rv:{ten_a}:gen");
        assert_eq!(k.rate("ten_a", "ip:1.2.3.4"), "t1:rl:{ten_a}:ip:1.2.3.4");
        // The tags are the kinds' stored names, as in the database's revocations.
        assert_eq!(
            k.entry("t", RevocationKind::User, "u"),
            format!("t1:rv:{{t}}:{}:u", RevocationKind::User)
        );
    }

    #[test]
    fn one_tenants_keys_share_a_cluster_slot() {
        let k = Keys::new("p:");
        let slot = |key: &str| redis::cluster_routing::Slot::for_key(key);
        let a = slot(&k.filled("ten_a"));
        for key in [
            k.entry("ten_a", RevocationKind::Session, "s"),
            k.entry("ten_a", RevocationKind::User, "u"),
            k.landed("ten_a"),
            k.refill_chunks("ten_a", "r1"),
            k.rate("ten_a", "user:abc"),
        ] {
            assert_eq!(slot(&key), a, "{key}");
        }
        let others: std::collections::HashSet<_> = (0..20)
            .map(|i| slot(&k.filled(&format!("ten_{i}"))))
            .collect();
        assert!(others.len() > 10, "tenants spread over slots: {others:?}");
    }
}
