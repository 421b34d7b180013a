#!/usr/bin/env bash
# Rotating refresh at the machine's limit, for an HS256 and an ES256 tenant (shared
# mode, durable: every rotation committed before the answer). Each of CONNS wrk threads
# has one connection and a refresh chain of its own: it presents its refresh token and
# keeps the successor from the answer, so every request really rotates (no reuse, no
# 401). Prints the median req/s and p99 over the rounds.
#   tests/bench/stateful.sh [SECONDS=5] [ROUNDS=2] [CONNS=32]
set -euo pipefail
DUR=${1:-5}
ROUNDS=${2:-2}
CONNS=${3:-32}
source "$(dirname "$0")/lib.sh"
bench_env tessera_stateful_bench
N=http://127.0.0.1:18197
TESSERA__HTTP__BIND=127.0.0.1:18197 target/release/tessera serve 2>"${NODELOG:-$WORK/node.log}" &
PIDS+=($!)
trap scratch_cleanup EXIT
for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && break; sleep 0.1; done
for alg in hs256 es256; do
  post "$N" /v1/admin/tenants "{\"slug\":\"rot-$alg\",\"algorithm\":\"${alg^^}\",\"login_rate_limit\":100000,\"refresh_token_ttl\":86400}" >/dev/null
  post "$N" "/v1/admin/tenants/rot-$alg/users" '{"username":"alice","password":"correct horse battery"}' >/dev/null
done
# chains ALG: one fresh refresh token per wrk thread, as a Lua table.
chains() {
  echo "local tokens = {"
  for _ in $(seq 1 "$CONNS"); do
    printf '"%s",\n' "$(bench_login "$N" "rot-$1" | field refresh)"
  done
  echo "}"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for alg in hs256 es256; do
    {
      chains "$alg"
      cat <<'LUA'
local n = 0
function setup(thread)
  n = n + 1
  thread:set("token", tokens[n])
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  return wrk.format(nil, nil, nil, '{"refresh":"' .. token .. '"}')
end
function response(status, headers, body)
  local next = body:match('"refresh":"([^"]+)"')
  if status == 200 and next then token = next end
end
LUA
    } >"$WORK/rot_$alg.lua"
    measured "refresh_$alg" -t"$CONNS" -c"$CONNS" -d"${DUR}s" --latency -s "$WORK/rot_$alg.lua" "$N/v1/tenants/rot-$alg/token/refresh"
  done
done
CONNS="$CONNS" python3 - "$WORK" <<'PY'
import os, sys
sys.path.insert(0, "tests/bench")
from medians import med, cpu
print(f"| route ({os.environ['CONNS']} connections) | req/s | p99 ms | CPU: tessera / postgres / redis / wrk / idle |")
print("|---|---:|---:|---|")
for alg in ("hs256", "es256"):
    r, p = med(f"refresh_{alg}")
    print(f"| POST /token/refresh, rotating ({alg.upper()}) | {r:.0f} | {p:.2f} | {cpu(f'refresh_{alg}')} |")
PY
