//! The lifecycle of a signing key: the states a key is stored in, where it came from,
//! and what it does at a given moment ([`Phase`]). Time moves keys along (a next key
//! starts signing, a retiring key's window closes) before the stored status catches
//! up, so every reader asks [`lifecycle`] rather than the stored status.

text_enum!(
    /// The stored status of a signing key.
    KeyStatus {
        /// Published ahead of its turn: it signs from `activated_at`.
        Next => "next",
        /// Signs new tokens.
        Active => "active",
        /// Only verifies, until `not_after`.
        Retiring => "retiring",
        /// Does nothing any more.
        Retired => "retired",
    }
);

text_enum!(
    /// Where a signing key came from.
    KeyOrigin {
        /// Made by Tessera.
        Generated => "generated",
        /// Brought by an operator.
        Imported => "imported",
    }
);

/// What the lifecycle needs of a stored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredKey {
    /// The stored status.
    pub status: KeyStatus,
    /// When it started (or, for a next key, starts) signing.
    pub activated_at: Option<i64>,
    /// For a retiring key: verifies until then.
    pub not_after: Option<i64>,
}

/// What a key does at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Published in the JWKS; signs from `activates_at`.
    Next {
        /// Unix seconds.
        activates_at: i64,
    },
    /// Signs new tokens.
    Active,
    /// Only verifies, until `until`.
    Retiring {
        /// Unix seconds.
        until: i64,
    },
    /// Neither signs nor verifies.
    Retired,
}

impl Phase {
    /// The status this phase is shown (and eventually stored) as.
    pub fn status(self) -> KeyStatus {
        match self {
            Phase::Next { .. } => KeyStatus::Next,
            Phase::Active => KeyStatus::Active,
            Phase::Retiring { .. } => KeyStatus::Retiring,
            Phase::Retired => KeyStatus::Retired,
        }
    }

    /// Whether tokens signed by the key still verify (and it is in the JWKS).
    pub fn verifies(self) -> bool {
        self != Phase::Retired
    }

    /// When time alone ends this phase (a next key starts signing, a retiring key's
    /// window closes); `None` when only an operator or another key can.
    pub fn changes_at(self) -> Option<i64> {
        match self {
            Phase::Next { activates_at } => Some(activates_at),
            Phase::Retiring { until } => Some(until),
            Phase::Active | Phase::Retired => None,
        }
    }
}

fn retiring_until(until: i64, now: i64) -> Phase {
    if until > now {
        Phase::Retiring { until }
    } else {
        Phase::Retired
    }
}

/// The phase of each of a tenant's keys at `now`; `overlap` is how long a key keeps
/// verifying after it stops signing (the longest life of a token it signed). A next
/// key whose time has come is active, and the active key it took over from retires
/// `overlap` after the take-over.
pub fn lifecycle(keys: &[StoredKey], now: i64, overlap: i64) -> Vec<Phase> {
    let took_over = keys
        .iter()
        .filter(|k| k.status == KeyStatus::Next)
        .filter_map(|k| k.activated_at)
        .filter(|&at| at <= now)
        .max();
    keys.iter()
        .map(|k| match k.status {
            KeyStatus::Next => match k.activated_at {
                Some(at) if at > now => Phase::Next { activates_at: at },
                _ => Phase::Active,
            },
            KeyStatus::Active => {
                took_over.map_or(Phase::Active, |at| retiring_until(at + overlap, now))
            }
            KeyStatus::Retiring => retiring_until(k.not_after.unwrap_or(0), now),
            KeyStatus::Retired => Phase::Retired,
        })
        .collect()
}

/// When the next key of a scheduled rotation should be published so that it sits in
/// the JWKS for at least `publish_ahead` seconds (the JWKS cache lifetime, plus one)
/// before it signs: `Some(activates_at)` when a rotation every `interval` seconds is
/// due for the active key that signs since `active_since`, none when it is not due
/// yet. A rotation that is late activates `publish_ahead` from now, never earlier.
pub fn scheduled_rotation(
    active_since: i64,
    interval: i64,
    publish_ahead: i64,
    now: i64,
) -> Option<i64> {
    let due = active_since.saturating_add(interval);
    (now >= due.saturating_sub(publish_ahead)).then(|| due.max(now + publish_ahead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(status: KeyStatus, activated_at: Option<i64>, not_after: Option<i64>) -> StoredKey {
        StoredKey {
            status,
            activated_at,
            not_after,
        }
    }

    #[test]
    fn statuses_and_origins_round_trip_through_their_names() {
        for s in [
            KeyStatus::Next,
            KeyStatus::Active,
            KeyStatus::Retiring,
            KeyStatus::Retired,
        ] {
            assert_eq!(s.as_str().parse::<KeyStatus>().ok(), Some(s));
        }
        assert_eq!(
            "imported".parse::<KeyOrigin>().ok(),
            Some(KeyOrigin::Imported)
        );
        assert!("Active".parse::<KeyStatus>().is_err());
        assert!("".parse::<KeyOrigin>().is_err());
    }

    #[test]
    fn a_lone_active_key_signs() {
        let keys = [key(KeyStatus::Active, Some(10), None)];
        assert_eq!(lifecycle(&keys, 1_000, 60), [Phase::Active]);
    }

    #[test]
    fn a_next_key_waits_for_its_time_then_takes_over() {
        let keys = [
            key(KeyStatus::Next, Some(100), None),
            key(KeyStatus::Active, Some(10), None),
        ];
        assert_eq!(
            lifecycle(&keys, 99, 60),
            [Phase::Next { activates_at: 100 }, Phase::Active]
        );
        // At its time it signs, and the old key verifies for the overlap after it.
        assert_eq!(
            lifecycle(&keys, 100, 60),
            [Phase::Active, Phase::Retiring { until: 160 }]
        );
        assert_eq!(
            lifecycle(&keys, 159, 60),
            [Phase::Active, Phase::Retiring { until: 160 }]
        );
        assert_eq!(lifecycle(&keys, 160, 60), [Phase::Active, Phase::Retired]);
    }

    #[test]
    fn a_next_key_without_a_time_is_active() {
        let keys = [key(KeyStatus::Next, None, None)];
        assert_eq!(lifecycle(&keys, 5, 60), [Phase::Active]);
    }

    #[test]
    fn a_retiring_key_verifies_until_its_window_closes() {
        let keys = [
            key(KeyStatus::Active, Some(0), None),
            key(KeyStatus::Retiring, Some(0), Some(50)),
            key(KeyStatus::Retiring, Some(0), None),
            key(KeyStatus::Retired, Some(0), Some(1)),
        ];
        let at_49 = lifecycle(&keys, 49, 60);
        assert_eq!(at_49[1], Phase::Retiring { until: 50 });
        assert!(at_49[1].verifies());
        assert_eq!(at_49[2], Phase::Retired, "no window: retired");
        assert_eq!(at_49[3], Phase::Retired);
        assert!(!at_49[3].verifies());
        assert_eq!(lifecycle(&keys, 50, 60)[1], Phase::Retired);
    }

    #[test]
    fn phases_name_their_status_and_when_time_changes_them() {
        assert_eq!(Phase::Next { activates_at: 7 }.status(), KeyStatus::Next);
        assert_eq!(Phase::Next { activates_at: 7 }.changes_at(), Some(7));
        assert_eq!(Phase::Retiring { until: 9 }.changes_at(), Some(9));
        assert_eq!(Phase::Active.changes_at(), None);
        assert_eq!(Phase::Retired.status().as_str(), "retired");
    }

    #[test]
    fn a_scheduled_rotation_publishes_its_key_ahead_of_time() {
        // Active since 1 000, every 3 600 s, published 301 s ahead.
        assert_eq!(scheduled_rotation(1_000, 3_600, 301, 4_298), None);
        assert_eq!(scheduled_rotation(1_000, 3_600, 301, 4_299), Some(4_600));
        assert_eq!(scheduled_rotation(1_000, 3_600, 301, 4_500), Some(4_801));
        // Long overdue (a node was down): still published ahead, never at once.
        assert_eq!(scheduled_rotation(1_000, 3_600, 301, 90_000), Some(90_301));
        assert_eq!(scheduled_rotation(i64::MAX - 5, 3_600, 301, 0), None);
    }
}
