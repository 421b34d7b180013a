#!/usr/bin/env bash
# A code change against a baseline, in one run: two nodes, one built from this tree (B)
# and one from an earlier revision (A), share one database and Redis and take turns
# under the same load — rotating refresh (HS256 and ES256), logout (HS256) and, as the
# stateless yardstick, POST /token/verify (HS256), 64 connections — round after round,
# the order flipping each round, so the machine's noise falls on both alike. Prints the
# medians of each and B ÷ A.
#   tests/bench/ab.sh BASE_REV [SECONDS=5] [ROUNDS=4]
# BASE_REV is built in a worktree under /tmp (its own target folder: the first run
# builds it whole); BASE_REV `.` runs this tree's build as A too, and B_ENV (say
# "TESSERA__DATABASE__POOL_SIZE=4") is what only node B's environment adds: a setting
# against the default. A_WRK_THREADS (say 64) runs node A's load with that many wrk
# threads instead of WRK_THREADS (2): with BASE_REV `.`, the load generator's cost.
# A_BIN (a tessera binary kept from an earlier build) runs A from that file, with
# BASE_REV naming what it was built from: no worktree, no second build. CONNS (say 32)
# loads each route with that many connections instead of 64 (at least the wrk threads).
set -euo pipefail
BASE_REV=$1
DUR=${2:-5}
ROUNDS=${3:-4}
CONNS=${CONNS:-64}
BASE_TREE=${BASE_TREE:-/tmp/tessera-ab-base}
if [ "$BASE_REV" != . ] && [ -z "${A_BIN:-}" ]; then
  if [ ! -d "$BASE_TREE" ]; then git worktree add -f "$BASE_TREE" "$BASE_REV" -q; fi
  git -C "$BASE_TREE" checkout -q --detach "$BASE_REV"
  (cd "$BASE_TREE" && cargo build --release --locked -q -p tessera-server --bin tessera)
fi
source "$(dirname "$0")/lib.sh"
bench_env tessera_ab_bench
export TESSERA__ARGON2__MEMORY_KIB=8 TESSERA__ARGON2__ITERATIONS=1 TESSERA__HTTP__TRUSTED_PROXIES=127.0.0.1
declare -A URL=([A]=http://127.0.0.1:18301 [B]=http://127.0.0.1:18302)
declare -A BIN=([A]=$BASE_TREE/target/release/tessera [B]=target/release/tessera)
[ "$BASE_REV" = . ] && BIN[A]=target/release/tessera
[ -n "${A_BIN:-}" ] && BIN[A]=$A_BIN
declare -A ENV=([A]="" [B]="${B_ENV:-}")
declare -A THREADS=([A]=${A_WRK_THREADS:-$WRK_THREADS} [B]=$WRK_THREADS)
for node in A B; do
  # shellcheck disable=SC2086 # ENV holds whole NAME=VALUE words
  env ${ENV[$node]} TESSERA__HTTP__BIND=${URL[$node]#http://} TESSERA__PUBLIC_URL=${URL[$node]} \
    "${BIN[$node]}" serve 2>"$WORK/node_$node.log" &
  PIDS+=($!)
done
trap scratch_cleanup EXIT
for node in A B; do
  for _ in $(seq 1 100); do curl -sf "${URL[$node]}/healthz" >/dev/null && break; sleep 0.1; done
done
N=${URL[B]}
for alg in hs256 es256; do
  post "$N" /v1/admin/tenants "{\"slug\":\"ab-$alg\",\"algorithm\":\"${alg^^}\",\"login_rate_limit\":100000,\"refresh_token_ttl\":86400,\"access_token_ttl\":3600}" >/dev/null
  for u in alice $(seq -f "s%g" 1 64); do
    post "$N" "/v1/admin/tenants/ab-$alg/users" "{\"username\":\"$u\",\"password\":\"correct horse battery\"}" >/dev/null
  done
done

# tokens NODE ALG SECONDS: one file of refresh tokens per wrk thread of NODE's load
# ($WORK/tok_1 …), from a login run of SECONDS.
tokens() {
  login_stock "${URL[$1]}/v1/tenants/ab-$2/token" "$3" "${THREADS[$1]}" "$WORK/tok_" 2>/dev/null
}

# load NAME NODE ALG KIND: one CONNS-connection run of KIND (refresh or logout) on NODE.
load() {
  {
    per_thread "$WORK/tok_"
    if [ "$4" = refresh ]; then echo "$ROTATE_LUA"; else echo "$LOGOUT_LUA"; fi
  } >"$WORK/load.lua"
  local path=token/refresh
  [ "$4" = logout ] && path=token/revoke
  measured "$1" -t"${THREADS[$2]}" -c"$CONNS" -d"${DUR}s" --latency -s "$WORK/load.lua" "${URL[$2]}/v1/tenants/ab-$3/$path"
}

# An access token from each node: its issuer is the node's public URL.
for node in A B; do
  lua "verify_$node" POST "{\"token\":\"$(bench_login "${URL[$node]}" ab-hs256 | field access)\"}"
done

for r in $(seq 1 "$ROUNDS"); do
  order="A B"
  [ $((r % 2)) = 0 ] && order="B A"
  echo "round $r/$ROUNDS ($order)" >&2
  for node in $order; do
    for alg in hs256 es256; do
      tokens "$node" "$alg" 2
      load "refresh_${alg}_$node" "$node" "$alg" refresh
    done
    tokens "$node" hs256 "${STOCK_SECONDS:-$((DUR * 3))}"
    load "logout_hs256_$node" "$node" hs256 logout
    measured "verify_hs256_$node" -t"${THREADS[$node]}" -c"$CONNS" -d"${DUR}s" --latency -s "$WORK/verify_$node.lua" "${URL[$node]}/v1/tenants/ab-hs256/token/verify"
  done
done

python3 - "$WORK" "$BASE_REV, wrk -t${THREADS[A]} -c$CONNS" "this tree, wrk -t${THREADS[B]} -c$CONNS" <<'PY'
import sys
sys.path.insert(0, "tests/bench")
from medians import med, cpu
base = sys.argv[2]
print(f"| route | A ({base}) req/s | B ({sys.argv[3]}) req/s | B ÷ A | CPU A, then B: tessera / postgres / idle |")
print("|---|---:|---:|---:|---|")
for name, label in [("refresh_hs256", "POST /token/refresh (rotating), HS256"),
                    ("refresh_es256", "POST /token/refresh (rotating), ES256"),
                    ("logout_hs256", "POST /token/revoke (logout), HS256"),
                    ("verify_hs256", "POST /token/verify, HS256")]:
    a, b = med(f"{name}_A")[0], med(f"{name}_B")[0]
    shares = ", then ".join(cpu(f"{name}_{n}", ("tessera", "postgres", "idle")) for n in "AB")
    print(f"| {label} | {a:.0f} | {b:.0f} | {b / a:.0%} | {shares} |")
PY
