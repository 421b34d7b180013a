#!/usr/bin/env bash
# Load benchmark of Tessera's hot paths against a bare actix-web baseline, in one run.
#   tests/bench/run.sh [SECONDS_PER_RUN=8] [ROUNDS=3]
# Release builds, wrk on 127.0.0.1 only, bounded: 6 runs a round, each SECONDS long.
# Prints a Markdown table of median req/s and p99 over the rounds, the ratios to the
# baseline, and the login ceiling (cores / one argon2id verify).
set -euo pipefail
DUR=${1:-8}
ROUNDS=${2:-3}
CONNS=${CONNS:-64}
source "$(dirname "$0")/lib.sh"
DB=tessera_bench
bench_env "$DB"
export TESSERA__HTTP__BIND="127.0.0.1:18181"
export TESSERA__PUBLIC_URL="http://127.0.0.1:18181"
T=http://127.0.0.1:18181
B=http://127.0.0.1:18182
target/release/tessera serve 2>"$WORK/tessera.log" &
PIDS=($!)
cleanup() {
  scratch_cleanup
  redis-cli -h 127.0.0.1 del bench:rv:filled >/dev/null # the baseline's marker
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "$T/healthz" >/dev/null && break; sleep 0.1; done

bench_tenants "$T"
JWKS=$(curl -sf "$T/v1/tenants/bench/.well-known/jwks.json")
TENANT_ID=$(psql -h 127.0.0.1 -U root -d $DB -tAc "SELECT id FROM tenants WHERE slug='bench'")
target/release/bench-baseline serve 127.0.0.1:18182 "$JWKS" "$T/v1/tenants/bench" "$TESSERA__DATABASE__URL" "$TESSERA__REDIS__URL" "$TENANT_ID" 2>"$WORK/baseline.log" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "$B/me" && break; sleep 0.1; done

lua verify POST "{\"token\":\"$ACCESS\"}"
lua me GET "" "Bearer $ACCESS"
lua refresh POST "{\"refresh\":\"$REFRESH\"}"
lua login POST '{"username":"alice","password":"correct horse battery"}'

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run verify_t "$T/v1/tenants/bench/token/verify" verify "$CONNS"
  run verify_b "$B/verify" verify "$CONNS"
  run me_t "$T/v1/tenants/bench/users/me" me "$CONNS"
  run me_b "$B/me" me "$CONNS"
  run refresh_t "$T/v1/tenants/bench-norot/token/refresh" refresh "$CONNS"
  # One argon2id verify, alone, measured in each round just before its login run (this
  # VM's CPU speed drifts minute to minute): the argon2 crate's own verify, which
  # allocates its work area per call, and with a reused work area, as Tessera's hasher
  # threads do. The faster of the two sets the login ceiling: the stricter target.
  target/release/bench-baseline argon2 21 >>"$WORK/argon_alloc"
  target/release/bench-baseline argon2-reuse 21 >>"$WORK/argon_reuse"
  run login_t "$T/v1/tenants/bench/token" login 16
done

CORES=$(nproc)
python3 - "$WORK" "$CORES" <<'PY'
import statistics, sys
work, cores = sys.argv[1], int(sys.argv[2])
alloc_ms = statistics.median(float(l) for l in open(f"{work}/argon_alloc"))
reuse_ms = statistics.median(float(l) for l in open(f"{work}/argon_reuse"))
argon_ms = min(alloc_ms, reuse_ms)
sys.path.insert(0, "tests/bench")
from medians import med
print("| route | Tessera req/s | Tessera p99 ms | baseline req/s | baseline p99 ms | Tessera / baseline |")
print("|---|---:|---:|---:|---:|---:|")
for route, t, b in [("POST /token/verify (ES256)", "verify_t", "verify_b"), ("GET /users/me (ES256)", "me_t", "me_b")]:
    (tr, tp), (br, bp) = med(t), med(b)
    print(f"| {route} | {tr:.0f} | {tp:.2f} | {br:.0f} | {bp:.2f} | {tr / br:.0%} |")
rr, rp = med("refresh_t")
print(f"| POST /token/refresh (ES256, no rotation) | {rr:.0f} | {rp:.2f} | – | – | – |")
lr, lp = med("login_t")
ceiling = cores * 1000 / argon_ms
print(f"| POST /token (argon2id m=19456 t=2 p=1) | {lr:.0f} | {lp:.2f} | ceiling {ceiling:.0f} | – | {lr / ceiling:.0%} of ceiling |")
print(f"\none argon2id verify (median over rounds of 21-sample medians): {alloc_ms:.2f} ms with the crate's verify, {reuse_ms:.2f} ms with a reused work area;")
print(f"cores: {cores}; login ceiling = cores / {argon_ms:.2f} ms = {ceiling:.0f}/s")
PY
