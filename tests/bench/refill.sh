#!/usr/bin/env bash
# A Redis that lost a tenant's revocations, refilled from Postgres: how long the first
# check after the loss waits, and how long Redis runs nothing else meanwhile (its
# slow log of scripts over 1 ms). One node, one HS256 tenant whose SECONDS of logins
# (default 15) are all logged out, then ROUNDS times (default 3): every key of the node
# deleted and one GET /users/me.
#   tests/bench/refill.sh [SECONDS=15] [ROUNDS=3]
# BIN (default target/release/tessera) runs another build, e.g. one kept from before a
# change, against the same load. It resets the Redis server's slow log, and sets its
# slow-log threshold and length for the run (both put back at the end).
set -euo pipefail
SECONDS_OF_LOGINS=${1:-15}
ROUNDS=${2:-3}
source "$(dirname "$0")/lib.sh"
bench_env tessera_refill_bench
export TESSERA__ARGON2__MEMORY_KIB=8 TESSERA__ARGON2__ITERATIONS=1 TESSERA__HTTP__TRUSTED_PROXIES=127.0.0.1
export TESSERA__MANAGEMENT__BIND=127.0.0.1:18412
URL=http://127.0.0.1:18411
put_back() {
  redis-cli config set slowlog-log-slower-than "${SLOWER_WAS:-10000}" >/dev/null || true
  redis-cli config set slowlog-max-len "${LEN_WAS:-128}" >/dev/null || true
  scratch_cleanup
}
trap put_back EXIT
SLOWER_WAS=$(redis-cli config get slowlog-log-slower-than | tail -1)
LEN_WAS=$(redis-cli config get slowlog-max-len | tail -1)
TESSERA__HTTP__BIND=127.0.0.1:18411 TESSERA__PUBLIC_URL=$URL "${BIN:-target/release/tessera}" serve 2>"$WORK/node.log" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
post "$URL" /v1/admin/tenants '{"slug":"refill","algorithm":"HS256","login_rate_limit":100000,"refresh_token_ttl":86400,"access_token_ttl":3600}' >/dev/null
for u in alice $(seq -f "s%g" 1 64); do
  post "$URL" /v1/admin/tenants/refill/users "{\"username\":\"$u\",\"password\":\"correct horse battery\"}" >/dev/null
done
login_stock "$URL/v1/tenants/refill/token" "$SECONDS_OF_LOGINS" 2 "$WORK/tok_"
{ per_thread "$WORK/tok_"; echo "$LOGOUT_LUA"; } >"$WORK/logout.lua"
# Long enough for every session to be logged out once (then the last one again).
wrk -t2 -c64 -d"$(($(cat "$WORK/tok_total") / 3000 + 3))s" -s "$WORK/logout.lua" \
  "$URL/v1/tenants/refill/token/revoke" >/dev/null
revoked=$(psql -h 127.0.0.1 -U root -d tessera_refill_bench -Atc "SELECT count(*) FROM revocations")
access=$(bench_login "$URL" refill | field access)
me() { curl -s --max-time 30 -o /dev/null -w "%{http_code} %{time_total}" -H "Authorization: Bearer $access" "$URL/v1/tenants/refill/users/me"; }
me >/dev/null # the store filled once
redis-cli config set slowlog-log-slower-than 1000 >/dev/null
redis-cli config set slowlog-max-len 10000 >/dev/null
redis-cli slowlog reset >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  redis-cli --scan --pattern "${TESSERA__REDIS__PREFIX}*" | xargs -r -n 1000 redis-cli del >/dev/null
  echo "$(me) $(me)" >>"$WORK/rounds"
done
redis-cli --json slowlog get 10000 >"$WORK/slowlog.json"
python3 - "$revoked" "$WORK/rounds" "$WORK/slowlog.json" <<'PY'
import json, statistics, sys
revoked, rounds, slow = int(sys.argv[1]), sys.argv[2], json.load(open(sys.argv[3]))
rows = [l.split() for l in open(rounds)]
assert all(r[0] == "200" and r[2] == "200" for r in rows), rows
first = [float(r[1]) * 1000 for r in rows]
after = [float(r[3]) * 1000 for r in rows]
scripts = [e[2] / 1000 for e in slow if str(e[3][0]).upper().startswith("EVAL")]
print(f"| live revocations of the tenant | {revoked} |")
print(f"| first GET /users/me after the loss, ms (median of {len(rows)}) | {statistics.median(first):.0f} ({', '.join(f'{x:.0f}' for x in first)}) |")
print(f"| the next one, ms | {statistics.median(after):.2f} |")
print(f"| scripts over 1 ms in Redis's slow log | {len(scripts)} |")
if scripts:
    print(f"| longest script, ms | {max(scripts):.1f} |")
    print(f"| median script over 1 ms, ms | {statistics.median(scripts):.1f} |")
PY
