#!/usr/bin/env bash
# Makes sure this machine's Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379) are up,
# starting them with the machine's own commands when they are not. Sourced by the other scripts.
set -euo pipefail

ensure_services() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  for _ in $(seq 1 60); do
    if pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  echo "PostgreSQL or Redis did not come up" >&2
  return 1
}

# ensure_database NAME: creates the Postgres database if it does not exist.
ensure_database() {
  local name=$1
  if ! psql -h 127.0.0.1 -U root -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" | grep -q 1; then
    psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE \"$name\""
  fi
}

# scratch_deployment NAME: what every node of a throwaway shared-mode deployment shares —
# a fresh Postgres database NAME, a Redis prefix of this run's own, a new master key (all
# exported as TESSERA__*), a scratch folder (WORK) and an empty PIDS list for its
# processes. scratch_cleanup undoes it all.
scratch_deployment() {
  SCRATCH_DB=$1
  psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>/dev/null
  WORK=$(mktemp -d)
  PIDS=()
  export TESSERA__DATABASE__URL="postgres://root@127.0.0.1:5432/$1"
  export TESSERA__REDIS__URL="redis://127.0.0.1:6379"
  export TESSERA__REDIS__PREFIX="$1-$$:"
  export TESSERA__KEYS__MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
}

# scratch_cleanup: stops the processes in PIDS, deletes the Redis keys, the database and
# the scratch folder of scratch_deployment.
scratch_cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  redis-cli -h 127.0.0.1 --scan --pattern "${TESSERA__REDIS__PREFIX}*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null
  psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $SCRATCH_DB" 2>/dev/null || true
  rm -rf "$WORK"
}
