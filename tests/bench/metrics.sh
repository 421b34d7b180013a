#!/usr/bin/env bash
# /metrics with many tenants: the exposition's size and scrape time with per-tenant
# series capped at the default (metrics.tenant_series = 20), at the maximum (1000) and
# off (0). Tenants are created through the admin API (each with its signing key); then
# every tenant gets failed logins (argon2 made cheap for the bench), so each has
# activity to count. Prints the median over SCRAPES scrapes per setting.
#   tests/bench/metrics.sh [TENANTS=10000] [SCRAPES=20]
set -euo pipefail
TENANTS=${1:-10000}
SCRAPES=${2:-20}
DUR=10
source "$(dirname "$0")/lib.sh"
bench_env tessera_metrics_bench
trap scratch_cleanup EXIT
export TESSERA__ARGON2__MEMORY_KIB=8 TESSERA__ARGON2__ITERATIONS=1
N=http://127.0.0.1:18195 M=http://127.0.0.1:18296
start() { # start TENANT_SERIES
  TESSERA__HTTP__BIND=127.0.0.1:18195 TESSERA__MANAGEMENT__BIND=127.0.0.1:18296 \
    TESSERA__METRICS__TENANT_SERIES=$1 target/release/tessera serve 2>>"$WORK/node.log" &
  NODE=$!
  PIDS+=("$NODE")
  for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && return; sleep 0.1; done
  echo "node did not start" >&2; exit 1
}
start 20
echo "creating $TENANTS tenants" >&2
seq 1 "$TENANTS" | xargs -P 8 -I{} curl -sf -o /dev/null -X POST "$N/v1/admin/tenants" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"slug":"tenant-{}"}'
cat >"$WORK/logins.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"username":"nobody","password":"wrong password"}'
wrk.headers["Content-Type"] = "application/json"
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/tenants/tenant-" .. (i % $TENANTS + 1) .. "/token")
end
LUA
for series in 20 1000 0; do
  if [ -z "${NODE:-}" ]; then start "$series"; fi
  wrk -t2 -c16 -d"${DUR}s" -s "$WORK/logins.lua" "$N" >/dev/null
  for _ in $(seq 1 "$SCRAPES"); do
    curl -sf -o /dev/null -w '%{size_download} %{time_total}\n' "$M/metrics"
  done >"$WORK/scrape_$series"
  kill "$NODE"; wait "$NODE" 2>/dev/null || true
  NODE=
done
python3 - "$WORK" "$TENANTS" <<'PY'
import statistics, sys
work, tenants = sys.argv[1], sys.argv[2]
print(f"/metrics with {tenants} tenants, each with an active key and login activity (median of the scrapes)")
print("| metrics.tenant_series | size | scrape time |")
print("|---:|---:|---:|")
for series in ("0", "20", "1000"):
    rows = [l.split() for l in open(f"{work}/scrape_{series}")]
    size = statistics.median(int(r[0]) for r in rows)
    ms = statistics.median(float(r[1]) for r in rows) * 1000
    print(f"| {series} | {size / 1024:.1f} KB | {ms:.1f} ms |")
PY
