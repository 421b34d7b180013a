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
