#!/usr/bin/env bash
# The run command, with nothing to set up: builds a release binary and runs
# `tessera serve` without a database URL — the embedded mode. The SQLite file, the
# master key (made on first start) and nothing else live in ./tessera-data; revocations
# are kept in process; no Postgres and no Redis are needed. One node only: for several,
# see scripts/run-shared.sh. Serves on 127.0.0.1:8080. Arguments replace `serve`, e.g.
#   scripts/run.sh admin create-key --name ops
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA__HTTP__BIND="${TESSERA__HTTP__BIND:-127.0.0.1:8080}"
export TESSERA__PUBLIC_URL="${TESSERA__PUBLIC_URL:-http://${TESSERA__HTTP__BIND}}"
cargo build --release --locked -q -p tessera-server
if [ $# -eq 0 ]; then set -- serve; fi
exec target/release/tessera "$@"
