#!/usr/bin/env bash
# The embedded mode (SQLite + in-process revocations) against the shared mode
# (Postgres + Redis), same binary, same routes, in one run:
#   tests/bench/embedded.sh [SECONDS_PER_RUN=8] [ROUNDS=3]
# Release build, wrk on 127.0.0.1 only, bounded: 6 runs a round, each SECONDS long.
# Prints a Markdown table of median req/s and p99 per route and mode.
set -euo pipefail
DUR=${1:-8}
ROUNDS=${2:-3}
CONNS=${CONNS:-64}
source "$(dirname "$0")/lib.sh"
bench_env tessera_bench_modes
S=http://127.0.0.1:18191
E=http://127.0.0.1:18192
TESSERA__HTTP__BIND=127.0.0.1:18191 TESSERA__PUBLIC_URL=$S target/release/tessera serve 2>"$WORK/shared.log" &
PIDS=($!)
# The embedded node: no database URL, its own data folder (its own master key).
env -u TESSERA__DATABASE__URL -u TESSERA__KEYS__MASTER_KEY TESSERA__DATA_DIR="$WORK/data" \
  TESSERA__HTTP__BIND=127.0.0.1:18192 TESSERA__PUBLIC_URL=$E target/release/tessera serve 2>"$WORK/embedded.log" &
PIDS+=($!)
trap scratch_cleanup EXIT
for u in $S $E; do for _ in $(seq 1 100); do curl -sf "$u/healthz" >/dev/null && break; sleep 0.1; done; done
SHARED_KEY=$KEY
EMBEDDED_KEY=$(env -u TESSERA__DATABASE__URL -u TESSERA__KEYS__MASTER_KEY TESSERA__DATA_DIR="$WORK/data" target/release/tessera admin create-key --name bench)

for mode in shared embedded; do
  if [ $mode = shared ]; then U=$S; KEY=$SHARED_KEY; else U=$E; KEY=$EMBEDDED_KEY; fi
  bench_tenants "$U"
  lua "verify_$mode" POST "{\"token\":\"$ACCESS\"}"
  lua "me_$mode" GET "" "Bearer $ACCESS"
  lua "refresh_$mode" POST "{\"refresh\":\"$REFRESH\"}"
done
lua login POST '{"username":"alice","password":"correct horse battery"}'

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for route in verify me refresh; do
    case $route in
      verify) path=/v1/tenants/bench/token/verify ;;
      me) path=/v1/tenants/bench/users/me ;;
      refresh) path=/v1/tenants/bench-norot/token/refresh ;;
    esac
    run "${route}_shared" "$S$path" "${route}_shared" "$CONNS"
    run "${route}_embedded" "$E$path" "${route}_embedded" "$CONNS"
  done
  run login_shared "$S/v1/tenants/bench/token" login 16
  run login_embedded "$E/v1/tenants/bench/token" login 16
done

python3 - "$WORK" <<'PY'
import sys; sys.path.insert(0, "tests/bench")
from medians import med
print("| route | shared req/s | shared p99 ms | embedded req/s | embedded p99 ms | embedded / shared |")
print("|---|---:|---:|---:|---:|---:|")
for route, name in [("POST /token/verify (ES256)", "verify"), ("GET /users/me (ES256)", "me"),
                    ("POST /token/refresh (no rotation)", "refresh"), ("POST /token (argon2id)", "login")]:
    (sr, sp), (er, ep) = med(f"{name}_shared"), med(f"{name}_embedded")
    print(f"| {route} | {sr:.0f} | {sp:.2f} | {er:.0f} | {ep:.2f} | {er / sr:.0%} |")
PY
