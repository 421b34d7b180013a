#!/usr/bin/env bash
# Moving from simplejwt, measured on one release node (Postgres + Redis):
# - users imported per second: a 10 000-user `dumpdata auth.user` file (Django's
#   default-cost hashes) POSTed to …/users/import into a fresh tenant, ROUNDS times;
# - the login time of each Django hasher (the first login: Django's hash checked,
#   then re-hashed with argon2id in the same request) and of argon2id (the second
#   login), PER users each, one login at a time.
# Prints medians.   tests/bench/migration.sh [ROUNDS=3] [PER=5]
set -euo pipefail
ROUNDS=${1:-3}
PER=${2:-5}
source "$(dirname "$0")/lib.sh"
bench_env tessera_migration
VENV=target/compat-venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s tests/compat/requirements.txt "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/compat/requirements.txt
  cp tests/compat/requirements.txt "$VENV/requirements.txt"
fi
TESSERA__HTTP__BIND=127.0.0.1:18195 target/release/tessera serve 2>"$WORK/node.log" &
PIDS+=($!)
trap scratch_cleanup EXIT
N=http://127.0.0.1:18195
for _ in $(seq 1 100); do curl -sf "$N/healthz" >/dev/null && break; sleep 0.1; done
"$VENV/bin/python" tests/bench/django_dump.py 10000 "$PER" "$WORK/users.json"
python3 -c "import json,sys; json.dump({'format': 'django', 'users': json.load(open(sys.argv[1]))}, open(sys.argv[2], 'w'))" \
  "$WORK/users.json" "$WORK/body.json"
echo "dump: $(du -h "$WORK/body.json" | cut -f1)" >&2

for r in $(seq 1 "$ROUNDS"); do
  post "$N" /v1/admin/tenants "{\"slug\":\"import-$r\",\"login_rate_limit\":100000}" >/dev/null
  curl -sf -o "$WORK/report.json" -w '%{time_total}\n' -X POST "$N/v1/admin/tenants/import-$r/users/import" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "@$WORK/body.json" >>"$WORK/import_secs"
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['created']==10000 and not r['failed'], r" "$WORK/report.json"
done

# Logins: each user of import-1 with a hash of its own, twice.
login() { curl -sf -o /dev/null -w '%{time_total}\n' -X POST "$N/v1/tenants/import-1/token" \
  -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}"; }
for h in pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 bcrypt scrypt; do
  for i in $(seq 0 $((PER - 1))); do
    login "${h}_$i" "pw-$h-$i" >>"$WORK/login_$h"
    login "${h}_$i" "pw-$h-$i" >>"$WORK/login_argon2id"
  done
done

python3 - "$WORK" "$ROUNDS" "$PER" <<'PY'
import statistics, sys
work, rounds, per = sys.argv[1], sys.argv[2], sys.argv[3]
secs = [float(l) for l in open(f"{work}/import_secs")]
print(f"import of 10 000 users, {rounds} rounds: median {statistics.median(secs):.2f} s"
      f" = {10000 / statistics.median(secs):,.0f} users/s (runs: {', '.join(f'{s:.2f}' for s in secs)})")
print(f"login (median of {per}, ms; first login = Django's hash checked + argon2id re-hash):")
for h in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "argon2id"]:
    v = [float(l) * 1000 for l in open(f"{work}/login_{h}")]
    print(f"  {h:<14} {statistics.median(v):7.1f}")
PY
