//! The store's revocation generation marker: which of the tenant's revocations (by
//! the generation the database gave their transaction) the store is known to hold.
//! A write of generation `g` advances the marker only over an unbroken run of
//! generations (one that landed early waits in a "landed" set); a refill advances it
//! to the generation it read, but only if the store lost nothing since the refill
//! began. So a marker never claims a revocation the store does not have, and a node
//! that knows the database's generation is ahead refills the difference.
use std::collections::BTreeSet;

/// A write to the store, as the marker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// The revocations of one committed transaction of generation `gen`.
    Revocation {
        /// Its generation.
        generation: i64,
    },
    /// Every live revocation after generation `from` (all of them for `None`), read
    /// from the database when its generation was `gen`.
    Refill {
        /// The marker the refill started from (`None`: the store had none).
        from: Option<i64>,
        /// The database's generation when read.
        generation: i64,
    },
}

impl Write {
    /// The script's arguments: the generation, and `from` (-2 for a revocation, -1
    /// for a full refill).
    pub(crate) fn args(self) -> (i64, i64) {
        match self {
            Write::Revocation { generation } => (generation, -2),
            Write::Refill {
                from: None,
                generation,
            } => (generation, -1),
            Write::Refill {
                from: Some(f),
                generation,
            } => (generation, f.max(0)),
        }
    }
}

/// The marker after `write`, given the marker `cur` and the generations that landed
/// ahead of it; `None` leaves the marker as it is (absent stays absent).
pub(crate) fn advance(cur: Option<i64>, landed: &mut BTreeSet<i64>, write: Write) -> Option<i64> {
    let mut next = match (write, cur) {
        // An emptied store: only a full refill may say what it holds.
        (Write::Revocation { .. }, None) => return None,
        (Write::Revocation { generation }, Some(c)) => {
            if generation > c {
                landed.insert(generation);
            }
            c
        }
        (
            Write::Refill {
                from: None,
                generation,
            },
            c,
        ) => c.map_or(generation, |c| c.max(generation)),
        (
            Write::Refill {
                from: Some(f),
                generation,
            },
            Some(c),
        ) if c >= f => c.max(generation),
        // The store lost data after this refill read its marker: the next check
        // refills again.
        (Write::Refill { .. }, _) => return cur,
    };
    while landed.remove(&(next + 1)) {
        next += 1;
    }
    landed.retain(|g| *g > next);
    Some(next)
}

/// Lua: `put(key, value, until_)` writes one entry, which never goes back: it keeps
/// the larger value (a user's later cut-off) and the later expiry, whatever order
/// writes land in.
macro_rules! put_entry {
    () => {
        r"
local function put(key, value, until_)
  local old = redis.call('GET', key)
  if old and tonumber(old) > value then value = tonumber(old) end
  local expires = redis.call('EXPIRETIME', key)
  if expires > until_ then until_ = expires end
  redis.call('SET', key, value, 'EXAT', until_)
end
"
    };
}

/// The same as [`advance`], in Redis, atomic with the entries' writes. KEYS: the
/// marker, the landed set, a refill's chunk count ([`CHUNK_SCRIPT`]), then the
/// entries; ARGV: the generation, `from` (see [`Write::args`]), the chunks the refill
/// wrote before this last part (-1: none, the key is not read), then each entry's
/// value and EXAT. A refill whose chunk count is not what it wrote (the store lost
/// data since its first chunk) moves nothing.
pub(crate) const SCRIPT: &str = concat!(
    put_entry!(),
    r"
local chunks = tonumber(ARGV[3])
if chunks >= 0 then
  local wrote = tonumber(redis.call('GET', KEYS[3]) or '0')
  redis.call('DEL', KEYS[3])
  if wrote ~= chunks then return 0 end
end
for i = 1, #KEYS - 3 do
  put(KEYS[3 + i], tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i]))
end
local gen = tonumber(ARGV[1])
local from = tonumber(ARGV[2])
local raw = redis.call('GET', KEYS[1])
local cur = nil
if raw then cur = tonumber(raw) end
local nxt
if from == -2 then
  if cur == nil then return 0 end
  if gen > cur then redis.call('ZADD', KEYS[2], gen, gen) end
  nxt = cur
elseif from == -1 then
  nxt = math.max(cur or gen, gen)
elseif cur ~= nil and cur >= from then
  nxt = math.max(cur, gen)
else
  return 0
end
while redis.call('ZSCORE', KEYS[2], nxt + 1) do
  nxt = nxt + 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nxt)
redis.call('SET', KEYS[1], nxt)
return 1
"
);

/// One chunk of a refill too large for one script: its entries, counted in a key of
/// the refill's own, which the chunk expects to hold the chunks written before it
/// (absent before the first). KEYS: the count, then the entries; ARGV: the chunks
/// before this one, then each entry's value and EXAT. Returns 0, writing nothing,
/// when the count is not what it expects: the store lost data since the first chunk.
pub(crate) const CHUNK_SCRIPT: &str = concat!(
    put_entry!(),
    r"
local before = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= before then return 0 end
for i = 1, #KEYS - 1 do
  put(KEYS[1 + i], tonumber(ARGV[2 * i]), tonumber(ARGV[1 + 2 * i]))
end
redis.call('SET', KEYS[1], before + 1, 'EX', 600)
return 1
"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cur: Option<i64>, landed: &mut BTreeSet<i64>, w: Write) -> Option<i64> {
        advance(cur, landed, w)
    }

    #[test]
    fn writes_in_order_advance_one_by_one() {
        let mut l = BTreeSet::new();
        let m = run(Some(4), &mut l, Write::Revocation { generation: 5 });
        assert_eq!(m, Some(5));
        assert_eq!(run(m, &mut l, Write::Revocation { generation: 6 }), Some(6));
        assert!(l.is_empty());
    }

    #[test]
    fn an_early_write_waits_for_the_one_before_it() {
        let mut l = BTreeSet::new();
        let m = run(Some(4), &mut l, Write::Revocation { generation: 6 });
        assert_eq!(m, Some(4), "5 has not landed");
        assert_eq!(run(m, &mut l, Write::Revocation { generation: 5 }), Some(6));
        assert!(l.is_empty());
    }

    #[test]
    fn a_lost_write_holds_the_marker_back_until_a_refill() {
        let mut l = BTreeSet::new();
        // 5 was lost; 6 and 7 land.
        let m = run(Some(4), &mut l, Write::Revocation { generation: 6 });
        let m = run(m, &mut l, Write::Revocation { generation: 7 });
        assert_eq!(m, Some(4));
        let m = run(
            m,
            &mut l,
            Write::Refill {
                from: Some(4),
                generation: 7,
            },
        );
        assert_eq!(m, Some(7));
        assert!(l.is_empty());
    }

    #[test]
    fn an_emptied_store_takes_only_a_full_refill() {
        let mut l = BTreeSet::new();
        assert_eq!(run(None, &mut l, Write::Revocation { generation: 3 }), None);
        assert_eq!(
            run(
                None,
                &mut l,
                Write::Refill {
                    from: Some(2),
                    generation: 3
                }
            ),
            None
        );
        assert_eq!(
            run(
                None,
                &mut l,
                Write::Refill {
                    from: None,
                    generation: 3
                }
            ),
            Some(3)
        );
    }

    #[test]
    fn a_refill_that_lost_the_race_with_a_data_loss_leaves_the_marker() {
        let mut l = BTreeSet::new();
        // The refill read marker 9, then the store was restored to marker 6.
        assert_eq!(
            run(
                Some(6),
                &mut l,
                Write::Refill {
                    from: Some(9),
                    generation: 12
                }
            ),
            Some(6)
        );
        // A refill behind a marker that moved on keeps the higher one.
        assert_eq!(
            run(
                Some(10),
                &mut l,
                Write::Refill {
                    from: Some(9),
                    generation: 9
                }
            ),
            Some(10)
        );
    }

    #[test]
    fn script_arguments() {
        assert_eq!(Write::Revocation { generation: 3 }.args(), (3, -2));
        assert_eq!(
            Write::Refill {
                from: None,
                generation: 3
            }
            .args(),
            (3, -1)
        );
        assert_eq!(
            Write::Refill {
                from: Some(2),
                generation: 3
            }
            .args(),
            (3, 2)
        );
    }
}
