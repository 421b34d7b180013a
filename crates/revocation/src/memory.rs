//! The in-process revocation store of the embedded, single-node mode: the same keys
//! and expiries as in Redis, kept in this process's memory. It starts empty, without
//! any tenant's "filled" marker, so each tenant's first check refills it from the
//! database exactly as an emptied Redis is refilled: nothing revoked revives across a
//! restart.
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeSet, HashMap};

use crate::generation::{Write, advance};

/// Expired entries are swept when a map has grown this much since the last sweep.
const SWEEP_EVERY: usize = 4096;

/// A value and the Unix second it stops existing (Redis's EXAT).
#[derive(Debug, Clone, Copy)]
struct Stored {
    value: i64,
    until: i64,
}

/// Keys with expiry (revocations and each tenant's "filled" marker) and fixed-window
/// counters.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    entries: RwLock<Swept>,
    counters: Mutex<Swept>,
    landed: Mutex<HashMap<String, BTreeSet<i64>>>,
}

/// A map that drops its expired entries now and then as it grows.
#[derive(Debug)]
struct Swept {
    map: HashMap<String, Stored>,
    next_sweep: usize,
}

impl Default for Swept {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            next_sweep: SWEEP_EVERY,
        }
    }
}

impl Swept {
    fn sweep_if_grown(&mut self, now: i64) {
        if self.map.len() >= self.next_sweep {
            self.map.retain(|_, s| s.until > now);
            self.next_sweep = self.map.len() + SWEEP_EVERY;
        }
    }
}

impl Memory {
    /// The live values of `keys` at `now` (an expired key reads as absent).
    pub(crate) fn get<const N: usize>(&self, keys: [&str; N], now: i64) -> [Option<i64>; N] {
        let entries = self.entries.read();
        keys.map(|k| {
            entries
                .map
                .get(k)
                .filter(|s| s.until > now)
                .map(|s| s.value)
        })
    }

    /// Stores `(key, value, until)` triples.
    #[cfg(test)]
    pub(crate) fn set(&self, items: impl IntoIterator<Item = (String, i64, i64)>, now: i64) {
        let mut entries = self.entries.write();
        for (key, value, until) in items {
            entries.map.insert(key, Stored { value, until });
        }
        entries.sweep_if_grown(now);
    }

    /// Stores entries and moves the tenant's generation `marker` for `write`, at
    /// once (as the Redis script does); whether the marker was set.
    pub(crate) fn write(
        &self,
        items: impl IntoIterator<Item = (String, i64, i64)>,
        (marker, landed): (String, String),
        write: Write,
        now: i64,
    ) -> bool {
        let mut entries = self.entries.write();
        for (key, value, until) in items {
            // Never backwards: the larger value (a later cut-off), the later expiry.
            let e = entries.map.entry(key).or_insert(Stored { value, until });
            let live = e.until > now;
            e.value = if live { e.value.max(value) } else { value };
            e.until = if live { e.until.max(until) } else { until };
        }
        let cur = entries.map.get(&marker).map(|s| s.value);
        let mut all = self.landed.lock();
        let set = all.entry(landed).or_default();
        let next = advance(cur, set, write);
        if let Some(value) = next {
            entries.map.insert(
                marker,
                Stored {
                    value,
                    until: i64::MAX,
                },
            );
        }
        entries.sweep_if_grown(now);
        next.is_some()
    }

    /// Counts one hit on each key in its fixed window of `window` seconds; returns
    /// `(count, seconds left in the window)` per key, as INCR + EXPIRE NX + TTL do.
    pub(crate) fn hit(&self, keys: &[String], window: i64, now: i64) -> Vec<(i64, i64)> {
        let mut counters = self.counters.lock();
        let out = keys
            .iter()
            .map(|k| {
                let c = counters.map.entry(k.clone()).or_insert(Stored {
                    value: 0,
                    until: now + window,
                });
                if c.until <= now {
                    *c = Stored {
                        value: 0,
                        until: now + window,
                    };
                }
                c.value += 1;
                (c.value, c.until - now)
            })
            .collect();
        counters.sweep_if_grown(now);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let m = Memory::default();
        m.set([("a".to_owned(), 7, 100), ("b".to_owned(), 8, 50)], 10);
        assert_eq!(m.get(["a", "b", "c"], 10), [Some(7), Some(8), None]);
        assert_eq!(m.get(["a", "b"], 50), [Some(7), None]);
    }

    #[test]
    fn an_entry_never_goes_back() {
        use crate::generation::Write;
        let m = Memory::default();
        let marker = || ("g".to_owned(), "l".to_owned());
        let full = Write::Refill {
            from: None,
            generation: 2,
        };
        m.write([("u".to_owned(), 200, 900)], marker(), full, 10);
        // An older cut-off with a shorter life lands late: the later one stays.
        let late = Write::Revocation { generation: 1 };
        m.write([("u".to_owned(), 100, 500)], marker(), late, 10);
        assert_eq!(m.get(["u", "g"], 10), [Some(200), Some(2)]);
        assert_eq!(m.get(["u"], 899), [Some(200)]);
    }

    #[test]
    fn counters_count_per_window_and_restart_after_it() {
        let m = Memory::default();
        let keys = ["u".to_owned(), "ip".to_owned()];
        assert_eq!(m.hit(&keys, 60, 1000), vec![(1, 60), (1, 60)]);
        assert_eq!(m.hit(&keys[..1], 60, 1030), vec![(2, 30)]);
        // Both windows began at 1000 and have ended: each count starts again.
        assert_eq!(m.hit(&keys, 60, 1060), vec![(1, 60), (1, 60)]);
    }

    #[test]
    fn expired_entries_are_swept_as_the_map_grows() {
        let m = Memory::default();
        m.set((0..SWEEP_EVERY).map(|i| (format!("old{i}"), 1, 5)), 1);
        assert_eq!(m.entries.read().map.len(), SWEEP_EVERY, "none expired yet");
        m.set((0..SWEEP_EVERY).map(|i| (format!("new{i}"), 1, 100)), 10);
        assert_eq!(m.entries.read().map.len(), SWEEP_EVERY, "the old ones went");
    }
}
