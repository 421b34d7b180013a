#!/usr/bin/env bash
# docker-compose.yml's topology as plain processes on 127.0.0.1, for machines without
# Docker: this machine's Postgres and Redis (started if down; a database and Redis
# prefix of this run's own), two `tessera serve` nodes and HAProxy (Debian's package,
# installed if missing) with deploy/haproxy.cfg. Then a smoke test through the balancer;
# everything stops by itself at the end.
#   bash deploy/local-compose.sh          # smoke test
#   bash deploy/local-compose.sh load     # and /users/me load: two nodes, then one
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_services
command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
cargo build --release --locked -q -p tessera-server --bin tessera
BIN=target/release/tessera
LB=http://127.0.0.1:18380 N1=127.0.0.1:18381 N2=127.0.0.1:18382
# Each node's management listener (/metrics): the public port does not serve it.
M1=127.0.0.1:18391 M2=127.0.0.1:18392
scratch_deployment tessera_compose
export TESSERA__PUBLIC_URL="$LB"
export TESSERA__HTTP__TRUSTED_PROXIES="127.0.0.1"
export TESSERA__LOG__FORMAT=json TESSERA__LOG__LEVEL=warn
trap scratch_cleanup EXIT
up() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "$1 never answered" >&2; exit 1; }
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }

TESSERA__HTTP__BIND=$N1 TESSERA__MANAGEMENT__BIND=$M1 $BIN serve 2>"$WORK/node1.log" & PIDS+=($!)
up "http://$N1/readyz"
TESSERA__HTTP__BIND=$N2 TESSERA__MANAGEMENT__BIND=$M2 TESSERA__DATABASE__MIGRATE_ON_START=false $BIN serve 2>"$WORK/node2.log" & PIDS+=($!)
up "http://$N2/readyz"
LB_BIND=127.0.0.1:18380 NODE1=$N1 NODE2=$N2 haproxy -db -f deploy/haproxy.cfg 2>"$WORK/lb.log" & PIDS+=($!)
up "$LB/readyz"
echo "up: balancer $LB -> $N1, $N2"

KEY=$($BIN admin create-key --name compose)
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
call() { curl -s -X "$1" "$LB$2" -H 'Content-Type: application/json' "${@:3}"; }
call POST /v1/admin/tenants -H "Authorization: Bearer $KEY" -d '{"slug":"acme","allow_signup":true}' >/dev/null
call POST /v1/tenants/acme/users -d '{"username":"alice","password":"correct horse"}' | grep -q usr_ || fail sign-up
PAIR=$(call POST /v1/tenants/acme/token -d '{"username":"alice","password":"correct horse"}')
ACCESS=$(echo "$PAIR" | json '["access"]'); REFRESH=$(echo "$PAIR" | json '["refresh"]')
# Round robin: six reads land on both nodes; each node's metrics show its share.
for _ in 1 2 3 4 5 6; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$LB/v1/tenants/acme/users/me" -H "Authorization: Bearer $ACCESS")" = 200 ] || fail "/users/me"
done
for n in $M1 $M2; do
  curl -s "http://$n/metrics" | grep -q 'route="/v1/tenants/{tenant}/users/me",status="200"} [1-9]' || fail "node $n served no /users/me"
done
# The client address behind the balancer is the forwarded one (here, loopback).
call GET /v1/tenants/acme/users/me/sessions -H "Authorization: Bearer $ACCESS" | grep -q '"ip":"127.0.0.1"' || fail sessions
NEW=$(call POST /v1/tenants/acme/token/refresh -d "{\"refresh\":\"$REFRESH\"}" | json '["access"]')
call POST /v1/tenants/acme/token/revoke -d "{\"token\":\"$NEW\"}" >/dev/null
for _ in 1 2 3 4; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$LB/v1/tenants/acme/users/me" -H "Authorization: Bearer $NEW")" = 401 ] || fail "revoked token accepted"
done
KID=$(call POST /v1/admin/tenants/acme/keys -H "Authorization: Bearer $KEY" | json '["kid"]')
sleep 1
for n in $N1 $N2; do
  curl -s "http://$n/v1/tenants/acme/.well-known/jwks.json" | grep -q "$KID" || fail "node $n lacks the rotated key after 1 s"
done
echo "smoke test through the balancer: ok (sign-up, login, reads on both nodes, refresh, revoke on every node, rotation seen by both)"

if [ "${1:-}" = load ]; then
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS" >"$WORK/me.lua"
  TOKEN=$(call POST /v1/tenants/acme/token -d '{"username":"alice","password":"correct horse"}' | json '["access"]')
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$WORK/me.lua"
  rps() { wrk -t2 -c64 -d"${DUR:-8}s" -s "$WORK/me.lua" "$1/v1/tenants/acme/users/me" | awk '/Requests\/sec/ {print $2}'; }
  for round in 1 2 3; do
    echo "round $round: two nodes via LB $(rps $LB) req/s; one node direct $(rps http://$N1) req/s"
  done
  kill "${PIDS[1]}"
  if wait "${PIDS[1]}"; then echo "node2 drained and exited 0 on SIGTERM"; else
    echo "node2 exited $? on SIGTERM; its log ends:"; tail -5 "$WORK/node2.log"; fi
  sleep 2
  for round in 1 2 3; do
    echo "round $round: one node via LB (node2 stopped) $(rps $LB) req/s"
  done
fi
