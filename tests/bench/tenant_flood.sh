#!/usr/bin/env bash
# Do floods of random tenant slugs or of bogus admin keys slow a real tenant down?
# One Tessera node (Postgres + Redis) whose tenants are read again every second
# (cache.tenant_max_age_secs = 1, so the real tenant is reloaded during each flood).
# Each round: GET /users/me (16 connections) alone, then while 16 connections ask for
# the JWKS of random slugs (each a tenant lookup that finds nothing), then while 16
# connections send random admin keys. Prints medians over the rounds.
#   tests/bench/tenant_flood.sh [SECONDS_PER_RUN=8] [ROUNDS=3]
set -euo pipefail
DUR=${1:-8}
ROUNDS=${2:-3}
source "$(dirname "$0")/lib.sh"
bench_env tessera_tenant_flood
TESSERA__HTTP__BIND=127.0.0.1:18194 TESSERA__CACHE__TENANT_MAX_AGE_SECS=1 \
  target/release/tessera serve 2>"$WORK/node.log" &
PIDS+=($!)
trap scratch_cleanup EXIT
N=http://127.0.0.1:18194
for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && break; sleep 0.1; done
bench_tenants "$N"
lua me GET "" "Bearer $ACCESS"
cat >"$WORK/slugs.lua" <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/tenants/s" .. math.random(1, 2000000000) .. "/.well-known/jwks.json")
end
LUA
cat >"$WORK/keys.lua" <<'LUA'
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/admin/tenants", {["Authorization"] = "Bearer tsk_" .. math.random(1, 2000000000)})
end
LUA

# flood NAME LUA PATH: runs /users/me while LUA floods PATH; records the flood's req/s.
flood() {
  wrk -t1 -c16 -d"$((DUR + 2))s" -s "$WORK/$2.lua" "$N$3" >"$WORK/flood.out" 2>&1 &
  local f=$!
  sleep 1
  run "$1" "$N/v1/tenants/bench/users/me" me 16
  wait "$f"
  python3 - "$WORK/flood.out" >>"$WORK/$1_flood" <<'PY'
import re, sys
print(float(re.search(r"Requests/sec:\s+([\d.]+)", open(sys.argv[1]).read()).group(1)))
PY
}

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run quiet "$N/v1/tenants/bench/users/me" me 16
  flood slugs slugs /
  flood keys keys /
done

python3 - "$WORK" <<'PY'
import statistics, sys
sys.path.insert(0, "tests/bench")
from medians import med
work = sys.argv[1]
qr, qp = med("quiet")
print("| beside /users/me | /users/me req/s | p99 ms | req/s vs quiet | flood req/s |")
print("|---|---:|---:|---:|---:|")
print(f"| nothing | {qr:.0f} | {qp:.2f} | 100% | – |")
for name, what in [("slugs", "random slugs (JWKS of unknown tenants)"), ("keys", "random admin keys")]:
    r, p = med(name)
    f = statistics.median(float(l) for l in open(f"{work}/{name}_flood"))
    print(f"| {what} | {r:.0f} | {p:.2f} | {100 * r / qr:.0f}% | {f:.0f} |")
PY
