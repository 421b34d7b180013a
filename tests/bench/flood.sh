#!/usr/bin/env bash
# Does a login flood starve other routes? Three Tessera nodes share one Postgres and
# Redis, differing only in the hasher threads' scheduling (argon2.priority = normal,
# low, idle). Each round, for each node, GET /users/me with 8 connections alone, then
# again while 64 connections flood POST /token (argon2id) on the same node, twice:
#   - saturating: each connection sends its next request as soon as it has the answer
#     (it takes all the CPU it can get, so its latency is bound to grow with any other
#     load: 8 connections / req/s is its mean latency);
#   - paced: each connection waits PACE_MS (default 8) between requests, a light load
#     of under 1 000 req/s whose latency is what a flood adds to it.
# Then, as a control with no login at all, the paced load on the `normal` node beside
# argon2 running outside Tessera: one bench-baseline argon2 loop per core (the CPU a
# flood at the ceiling takes), at normal and at idle (SCHED_IDLE) priority.
# Prints medians over the rounds: /users/me req/s and p99 quiet and during the flood,
# the logins/s the flood got through, and the login ceiling (cores / one argon2id
# verify, measured alone in each round).
#   tests/bench/flood.sh [SECONDS_PER_RUN=8] [ROUNDS=3]
set -euo pipefail
DUR=${1:-8}
ROUNDS=${2:-3}
source "$(dirname "$0")/lib.sh"
bench_env tessera_flood
PRIORITIES=(normal low idle)
for i in 0 1 2; do
  port=$((18191 + i))
  # One public URL for all nodes, as behind a load balancer: tokens name one issuer.
  TESSERA__HTTP__BIND="127.0.0.1:$port" TESSERA__PUBLIC_URL="http://127.0.0.1:18191" \
    TESSERA__ARGON2__PRIORITY="${PRIORITIES[$i]}" target/release/tessera serve 2>"$WORK/node$i.log" &
  PIDS+=($!)
done
trap scratch_cleanup EXIT
for port in 18191 18192 18193; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
N=http://127.0.0.1:18191
post "$N" /v1/admin/tenants '{"slug":"bench","access_token_ttl":3600,"login_rate_limit":100000}' >/dev/null
post "$N" /v1/admin/tenants/bench/users '{"username":"alice","password":"correct horse battery"}' >/dev/null
ACCESS=$(curl -sf -X POST "$N/v1/tenants/bench/token" -H 'Content-Type: application/json' \
  -d '{"username":"alice","password":"correct horse battery"}' | field access)
lua me GET "" "Bearer $ACCESS"
{ cat "$WORK/me.lua"; echo "function delay() return ${PACE_MS:-8} end"; } >"$WORK/me_paced.lua"
lua login POST '{"username":"alice","password":"correct horse battery"}'

# flood NAME URL LUA: the /users/me run NAME beside a login flood on the node at URL;
# the logins answered 200 per second appended to $WORK/logins_NAME.
flood() {
  wrk -t1 -c64 -d"$((DUR + 2))s" -s "$WORK/login.lua" "$2/v1/tenants/bench/token" >"$WORK/flood.out" 2>&1 &
  local f=$!
  sleep 1
  run "$1" "$2/v1/tenants/bench/users/me" "$3" 8
  wait "$f"
  # Logins answered 200 per second (timeouts under the flood answer 503).
  python3 - "$WORK/flood.out" "$((DUR + 2))" >>"$WORK/logins_$1" <<'PY'
import re, sys
o = open(sys.argv[1]).read()
total = int(re.search(r"(\d+) requests in", o).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", o)
print((total - (int(bad.group(1)) if bad else 0)) / float(sys.argv[2]))
PY
}

# outside NAME POLICY: the paced run NAME on the `normal` node beside one argon2 loop
# per core outside Tessera, at chrt's POLICY (--other or --idle).
outside() {
  local loops=() c
  for c in $(seq 1 "$(nproc)"); do
    timeout $((DUR + 2)) chrt "$2" 0 target/release/bench-baseline argon2-reuse 1000000 >/dev/null &
    loops+=($!)
  done
  sleep 1
  run "$1" "$N/v1/tenants/bench/users/me" me_paced 8
  wait "${loops[@]}" || true # ended by timeout
}

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for i in 0 1 2; do
    url="http://127.0.0.1:$((18191 + i))"
    p=${PRIORITIES[$i]}
    for load in me me_paced; do
      # Let any backlog of the previous flood drain first (queued hashes outlive wrk).
      sleep 3
      run "quiet_${load}_$p" "$url/v1/tenants/bench/users/me" "$load" 8
      sleep 3
      flood "flood_${load}_$p" "$url" "$load"
    done
  done
  for policy in other idle; do
    sleep 3
    run quiet_outside_$policy "$N/v1/tenants/bench/users/me" me_paced 8
    outside "outside_$policy" "--$policy"
  done
  target/release/bench-baseline argon2-reuse 21 >>"$WORK/argon_reuse"
done

python3 - "$WORK" "$(nproc)" "${PACE_MS:-8}" <<'PY'
import statistics, sys
work, cores, pace = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, "tests/bench")
from medians import med
verify_ms = statistics.median(float(l) for l in open(f"{work}/argon_reuse"))
ceiling = cores * 1000 / verify_ms
for load, title in [("me", "saturating (8 connections, no pause)"),
                    ("me_paced", f"paced (8 connections, {pace} ms between requests)")]:
    print(f"/users/me {title}:\n")
    print("| argon2.priority | /users/me quiet req/s | quiet p99 ms | during flood req/s | flood p99 ms | p99 flood / quiet | logins/s (200) during flood | of the ceiling |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in ["normal", "low", "idle"]:
        (qr, qp), (fr, fp) = med(f"quiet_{load}_{p}"), med(f"flood_{load}_{p}")
        logins = statistics.median(float(l) for l in open(f"{work}/logins_flood_{load}_{p}"))
        print(f"| {p} | {qr:.0f} | {qp:.2f} | {fr:.0f} | {fp:.2f} | {fp / qp:.1f}× | {logins:.0f} | {logins / ceiling:.0%} |")
    print()
print(f"/users/me paced beside argon2 outside Tessera (no logins; one loop per core):\n")
print("| loops' priority | quiet p99 ms | beside the loops req/s | p99 ms | p99 beside / quiet |")
print("|---|---:|---:|---:|---:|")
for policy, label in [("other", "normal"), ("idle", "idle (SCHED_IDLE)")]:
    (_, qp), (fr, fp) = med(f"quiet_outside_{policy}"), med(f"outside_{policy}")
    print(f"| {label} | {qp:.2f} | {fr:.0f} | {fp:.2f} | {fp / qp:.1f}× |")
print()
print(f"login ceiling: {cores} cores / {verify_ms:.2f} ms (one argon2id verify alone, median over the rounds) = {ceiling:.0f}/s")
PY
