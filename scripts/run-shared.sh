#!/usr/bin/env bash
# The shared mode, as several nodes run it: starts Postgres/Redis if needed, creates the
# `tessera` database and a master key (kept in ./tessera-data/master.key) on first use,
# builds a release binary and runs `tessera serve` on 127.0.0.1:8080 against them.
# Arguments replace `serve`, e.g.
#   scripts/run-shared.sh admin create-key --name ops
# (scripts/run.sh is the zero-setup mode: no Postgres, no Redis.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_services
ensure_database tessera
mkdir -p tessera-data
chmod 700 tessera-data
if [ ! -s tessera-data/master.key ]; then
  (umask 077; head -c 32 /dev/urandom | base64 > tessera-data/master.key)
fi
export TESSERA__DATABASE__URL="${TESSERA__DATABASE__URL:-postgres://root@127.0.0.1:5432/tessera}"
export TESSERA__REDIS__URL="${TESSERA__REDIS__URL:-redis://127.0.0.1:6379}"
export TESSERA__KEYS__MASTER_KEY="${TESSERA__KEYS__MASTER_KEY:-$(cat tessera-data/master.key)}"
export TESSERA__HTTP__BIND="${TESSERA__HTTP__BIND:-127.0.0.1:8080}"
export TESSERA__PUBLIC_URL="${TESSERA__PUBLIC_URL:-http://${TESSERA__HTTP__BIND}}"
cargo build --release --locked -q -p tessera-server
if [ $# -eq 0 ]; then set -- serve; fi
exec target/release/tessera "$@"
