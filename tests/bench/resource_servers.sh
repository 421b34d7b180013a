#!/usr/bin/env bash
# What resource servers cost, on one release node (Postgres + Redis):
# - POST /token/introspect (a client credential, the same hot path) next to
#   POST /token/verify, alternating, ROUNDS rounds;
# - /token/verify again while IDLE revocation-feed long polls wait (wait=30, asked
#   again as each ends), against verify without them in the same round;
# - tessera-verify's offline verifications per second on one thread (bench-verify).
# Prints medians.   tests/bench/resource_servers.sh [SECONDS_PER_RUN=8] [ROUNDS=3] [IDLE=2000]
set -euo pipefail
DUR=${1:-8}
ROUNDS=${2:-3}
IDLE=${3:-2000}
source "$(dirname "$0")/lib.sh"
bench_env tessera_resource_servers
ulimit -n "$(ulimit -Hn)" # each waiting long poll is a socket at both ends
TESSERA__HTTP__BIND=127.0.0.1:18196 TESSERA__PUBLIC_URL=http://127.0.0.1:18196 target/release/tessera serve 2>"$WORK/node.log" &
PIDS+=($!)
trap scratch_cleanup EXIT
N=http://127.0.0.1:18196
for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && break; sleep 0.1; done
bench_tenants "$N"
CLIENT=$(post "$N" /v1/admin/tenants/bench/clients '{"name":"bench"}')
BASIC=$(python3 -c "import base64,json,sys; c=json.loads(sys.argv[1]); print(base64.b64encode((c['client_id']+':'+c['client_secret']).encode()).decode())" "$CLIENT")
lua verify POST "{\"token\":\"$ACCESS\"}"
lua introspect POST "{\"token\":\"$ACCESS\"}" "Basic $BASIC"
curl -sf -X POST "$N/v1/tenants/bench/token/introspect" -H "Authorization: Basic $BASIC" \
  -H 'Content-Type: application/json' -d "{\"token\":\"$ACCESS\"}" | grep -q '"active":true'

# IDLE connections, each a feed long poll asked again whenever it ends.
cat >"$WORK/idle.py" <<'PY'
import asyncio, sys
host, port, n, basic, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
req = (f"GET /v1/tenants/bench/revocations?since=999999999&wait=30 HTTP/1.1\r\nHost: {host}\r\n"
       f"Authorization: Basic {basic}\r\n\r\n").encode()
async def one():
    r, w = await asyncio.open_connection(host, port)
    while True:
        w.write(req)
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
        await r.readexactly(length)
async def main():
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(secs)
    print(sum(1 for t in tasks if not t.done()), flush=True)
asyncio.run(main())
PY

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  run verify "$N/v1/tenants/bench/token/verify" verify 64
  run introspect "$N/v1/tenants/bench/token/introspect" introspect 64
  run quiet "$N/v1/tenants/bench/token/verify" verify 64
  python3 "$WORK/idle.py" 127.0.0.1 18196 "$IDLE" "$BASIC" "$((DUR + 4))" >>"$WORK/idle_alive" &
  sleep 3
  run busy "$N/v1/tenants/bench/token/verify" verify 64
  wait $!
done

python3 - "$WORK" "$IDLE" "$ROUNDS" <<'PY'
import sys
sys.path.insert(0, "tests/bench")
from medians import med
work, idle, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
(vr, vp), (ir, ip) = med("verify"), med("introspect")
(qr, qp), (br, bp) = med("quiet"), med("busy")
alive = [int(l) for l in open(f"{work}/idle_alive")]
print(f"| route (medians of {rounds} rounds) | req/s | p99 ms | vs verify |")
print("|---|---:|---:|---:|")
print(f"| POST /token/verify | {vr:.0f} | {vp:.2f} | 100% |")
print(f"| POST /token/introspect | {ir:.0f} | {ip:.2f} | {100 * ir / vr:.0f}% |")
print(f"| POST /token/verify, no long polls | {qr:.0f} | {qp:.2f} | 100% |")
print(f"| POST /token/verify beside {idle} waiting feed long polls | {br:.0f} | {bp:.2f} | {100 * br / qr:.0f}% |")
print(f"long polls still waiting at the end of each round: {alive}")
PY

# tessera-verify, offline, one thread: verifications per second (the same token, with
# the revocation feed followed), three rounds, median.
CLIENT_ID=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['client_id'])" "$CLIENT")
CLIENT_SECRET=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['client_secret'])" "$CLIENT")
target/release/bench-verify "$N/v1/tenants/bench" "$CLIENT_ID" "$CLIENT_SECRET" "$ACCESS" 20000 3 >"$WORK/offline"
python3 -c "import statistics,sys; v=[float(l) for l in open(sys.argv[1])]; print(f'tessera-verify offline, one core: median {statistics.median(v):,.0f} verifications/s (rounds: {v})')" "$WORK/offline"
