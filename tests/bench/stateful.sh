#!/usr/bin/env bash
# The stateful routes at the machine's limit, for an HS256 and an ES256 tenant, at 32
# and 64 connections (shared mode, durable: every rotation and revocation committed
# with synchronous commit before the answer), with verify beside them as the yardstick
# and the share of the machine each program used during each run (cpu.py):
#   - POST /token/refresh, rotating: each connection presents a token of its wrk
#     thread's pool and puts the successor from the answer back (lib.sh's
#     ROTATE_LUA), so every request really rotates (no reuse, no 401);
#   - POST /token/revoke (logout): each thread logs out sessions of its own, one
#     request each, from a stock made by a login run before (the node hashes with
#     cheap argon2 costs so that stock is quick to make; logins are measured by
#     run.sh and flood.sh, not here);
#   - GET /users/me and POST /token/verify with one access token.
# Then the bare baseline (bench-baseline, no actors): the same ES256 verify, one
# Redis round trip and the same refresh statement per request, on its own. Last, the
# store alone (bench-baseline store): the batched refresh and logout statements driven
# straight from a thread per client, no HTTP, crypto, Redis or actors, for the most
# rows a second Postgres commits this way on this machine. And, measured first and
# printed last, what one signature costs (bench-sign): jsonwebtoken's encode, which
# parses the key each time, against Tessera's key parsed once, for every algorithm.
# wrk runs WRK_THREADS threads (default 2, the issue's `wrk -t2`).
# Prints Markdown tables of the medians over the rounds.
#   tests/bench/stateful.sh [SECONDS=5] [ROUNDS=2] [CONNS="32 64"]
set -euo pipefail
DUR=${1:-5}
ROUNDS=${2:-2}
CONNS_LIST=${3:-32 64}
source "$(dirname "$0")/lib.sh"
bench_env tessera_stateful_bench
export TESSERA__ARGON2__MEMORY_KIB=8 TESSERA__ARGON2__ITERATIONS=1
# The signatures first, while nothing else runs; their table is printed last.
target/release/bench-sign 2000 5 >"$WORK/sign.md"
N=http://127.0.0.1:18197
B=http://127.0.0.1:18198
# Loopback is a trusted proxy, so the stock's logins can name clients of their own in
# X-Forwarded-For: batched logins outrun one address's login_rate_limit (at most
# 100 000 a minute).
TESSERA__HTTP__TRUSTED_PROXIES=127.0.0.1 \
  TESSERA__HTTP__BIND=127.0.0.1:18197 TESSERA__PUBLIC_URL=$N target/release/tessera serve 2>"$WORK/node.log" &
PIDS+=($!)
trap 'scratch_cleanup; redis-cli -h 127.0.0.1 del bench:rv:filled >/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && break; sleep 0.1; done
for alg in hs256 es256; do
  post "$N" /v1/admin/tenants "{\"slug\":\"rot-$alg\",\"algorithm\":\"${alg^^}\",\"login_rate_limit\":100000,\"refresh_token_ttl\":86400,\"access_token_ttl\":3600}" >/dev/null
  post "$N" "/v1/admin/tenants/rot-$alg/users" '{"username":"alice","password":"correct horse battery"}' >/dev/null
  bench_login "$N" "rot-$alg" | field access >"$WORK/access_$alg"
  # Users whose logins make the logout runs' sessions: a login locks its user's row
  # until it commits, so logins of one user would queue behind each other.
  for u in $(seq 1 64); do
    post "$N" "/v1/admin/tenants/rot-$alg/users" "{\"username\":\"s$u\",\"password\":\"correct horse battery\"}" >/dev/null
  done
done
TENANT_ID=$(psql -h 127.0.0.1 -U root -d tessera_stateful_bench -tAc "SELECT id FROM tenants WHERE slug='rot-es256'")
# The store alone writes to a tenant of its own, which no request names: its
# revocations are never in Redis, and a node refills only the tenants it serves.
post "$N" /v1/admin/tenants '{"slug":"store-alone","algorithm":"HS256"}' >/dev/null
post "$N" /v1/admin/tenants/store-alone/users '{"username":"alice","password":"correct horse battery"}' >/dev/null
TENANT_HS=$(psql -h 127.0.0.1 -U root -d tessera_stateful_bench -tAc "SELECT id FROM tenants WHERE slug='store-alone'")
target/release/bench-baseline serve 127.0.0.1:18198 "$(curl -sf "$N/v1/tenants/rot-es256/.well-known/jwks.json")" \
  "$N/v1/tenants/rot-es256" "$TESSERA__DATABASE__URL" "$TESSERA__REDIS__URL" "$TENANT_ID" 2>"$WORK/baseline.log" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "$B/me" && break; sleep 0.1; done

# chains ALG CONNS PREFIX: one fresh refresh token per connection and one more per
# thread, dealt out to one file per wrk thread (PREFIX1 … PREFIX$WRK_THREADS): before
# the run wrk calls request() once to check the script, which takes a token from the
# first thread's pool for good.
chains() {
  rm -f "$3"*
  for i in $(seq 1 $(($2 + WRK_THREADS))); do
    bench_login "$N" "rot-$1" | field refresh >>"$3$(((i - 1) % WRK_THREADS + 1))"
  done
}

# sessions ALG PREFIX: sessions for a logout run, made by a login run of
# STOCK_SECONDS (default 7 × SECONDS), dealt out to one file per wrk thread.
sessions() {
  login_stock "$N/v1/tenants/rot-$1/token" "${STOCK_SECONDS:-$((DUR * 7))}" "$WRK_THREADS" "$2"
}

# store_alone NAME KIND BATCH CLIENTS: bench-baseline store (KIND refresh or logout)
# on the store-alone tenant; appends "rows/s 0" to $WORK/NAME and the machine's shares to
# $WORK/NAME.cpu, sampled as `measured` does once the stock is made.
STORE_RUNS="refresh 16 1, refresh 64 1, refresh 64 2, logout 16 1, logout 64 1, logout 64 2"
store_alone() {
  local b
  target/release/bench-baseline store "$2" "$TESSERA__DATABASE__URL" "$TENANT_HS" alice "$DUR" "$3" "$4" \
    >"$WORK/store.out" 2>"$WORK/store.err" &
  b=$!
  until grep -q measuring "$WORK/store.err"; do
    kill -0 "$b" 2>/dev/null || { cat "$WORK/store.err" >&2; exit 1; }
    sleep 0.05
  done
  sleep 1
  python3 tests/bench/cpu.py snap "$WORK/cpu_before"
  sleep $((DUR > 3 ? DUR - 2 : 1))
  python3 tests/bench/cpu.py snap "$WORK/cpu_after"
  wait "$b" || { cat "$WORK/store.err" >&2; exit 1; }
  python3 tests/bench/cpu.py diff "$WORK/cpu_before" "$WORK/cpu_after" >>"$WORK/$1.cpu"
  echo "$(cat "$WORK/store.out") 0" >>"$WORK/$1"
}


for r in $(seq 1 "$ROUNDS"); do
  for conns in $CONNS_LIST; do
    echo "round $r/$ROUNDS, $conns connections" >&2
    for alg in hs256 es256; do
      access=$(cat "$WORK/access_$alg")
      lua "verify_$alg" POST "{\"token\":\"$access\"}"
      lua "me_$alg" GET "" "Bearer $access"
      run "verify_${alg}_$conns" "$N/v1/tenants/rot-$alg/token/verify" "verify_$alg" "$conns"
      run "me_${alg}_$conns" "$N/v1/tenants/rot-$alg/users/me" "me_$alg" "$conns"
      chains "$alg" "$conns" "$WORK/chain_"
      { per_thread "$WORK/chain_"; echo "$ROTATE_LUA"; } >"$WORK/rot.lua"
      measured "refresh_${alg}_$conns" -t"$WRK_THREADS" -c"$conns" -d"${DUR}s" --latency -s "$WORK/rot.lua" "$N/v1/tenants/rot-$alg/token/refresh"
      sessions "$alg" "$WORK/stock_"
      { per_thread "$WORK/stock_"; echo "$LOGOUT_LUA"; } >"$WORK/logout.lua"
      measured "logout_${alg}_$conns" -t"$WRK_THREADS" -c"$conns" -d"${DUR}s" --latency -s "$WORK/logout.lua" "$N/v1/tenants/rot-$alg/token/revoke"
      made=$(grep -o '[0-9]* requests in' "$WORK/wrk.out" | grep -o '^[0-9]*')
      # Threads share the load unevenly: a tenth of the stock is the margin.
      if [ $((made * 10)) -ge $(($(cat "$WORK/stock_total") * 9)) ]; then
        echo "logout $alg $conns: $made requests from a stock of $(cat "$WORK/stock_total"): the stock ran out, the figure counts repeated logouts; raise STOCK_SECONDS" >&2
        exit 1
      fi
    done
    # The bare baseline's refresh, on the ES256 tenant's chains.
    chains es256 "$conns" "$WORK/chain_"
    { per_thread "$WORK/chain_"; echo "$ROTATE_LUA"; } >"$WORK/base.lua"
    measured "refresh_base_$conns" -t"$WRK_THREADS" -c"$conns" -d"${DUR}s" --latency -s "$WORK/base.lua" "$B/refresh"
  done
  echo "round $r/$ROUNDS, the store alone" >&2
  IFS=, read -ra runs <<<"$STORE_RUNS"
  for run in "${runs[@]}"; do
    read -r kind batch clients <<<"$run"
    store_alone "store_${kind}_${batch}_$clients" "$kind" "$batch" "$clients"
  done
done

CONNS_LIST="$CONNS_LIST" STORE_RUNS="$STORE_RUNS" python3 - "$WORK" <<'PY'
import os, sys
sys.path.insert(0, "tests/bench")
from medians import med, cpu
conns = os.environ["CONNS_LIST"].split()
print("| route | tenant | conns | req/s | p99 ms | CPU: tessera / postgres / redis / wrk / idle |")
print("|---|---|---:|---:|---:|---|")
rows = [("POST /token/verify", "verify"), ("GET /users/me", "me"),
        ("POST /token/refresh (rotating)", "refresh"), ("POST /token/revoke (logout)", "logout")]
for c in conns:
    for label, name in rows:
        for alg in ("hs256", "es256"):
            r, p = med(f"{name}_{alg}_{c}")
            print(f"| {label} | {alg.upper()} | {c} | {r:.0f} | {p:.2f} | {cpu(f'{name}_{alg}_{c}')} |")
    r, p = med(f"refresh_base_{c}")
    print(f"| bare baseline: refresh (ES256 verify + 1 Redis + the same statement, no actors, no batching) | ES256 | {c} | {r:.0f} | {p:.2f} | {cpu(f'refresh_base_{c}', ('bench-baseline', 'postgres', 'redis-server', 'wrk', 'idle'))} |")
print()
print("| the store alone (no HTTP, crypto, Redis or actors) | batch | clients | rows/s | CPU: bench-baseline / postgres / idle |")
print("|---|---:|---:|---:|---|")
for run in os.environ["STORE_RUNS"].split(","):
    kind, batch, clients = run.split()
    name = f"store_{kind}_{batch}_{clients}"
    what = "refresh_many (rotating)" if kind == "refresh" else "revoke_many (logout)"
    print(f"| {what} | {batch} | {clients} | {med(name)[0]:.0f} | {cpu(name, ('bench-baseline', 'postgres', 'idle'))} |")
print()
print("| ratio | tenant | conns | value |")
print("|---|---|---:|---:|")
for c in conns:
    for alg in ("hs256", "es256"):
        me, v = med(f"me_{alg}_{c}")[0], med(f"verify_{alg}_{c}")[0]
        print(f"| /users/me ÷ /token/verify | {alg.upper()} | {c} | {me / v:.0%} |")
    print(f"| refresh ES256 ÷ bare baseline refresh | ES256 | {c} | {med(f'refresh_es256_{c}')[0] / med(f'refresh_base_{c}')[0]:.0%} |")
PY
echo
cat "$WORK/sign.md"
