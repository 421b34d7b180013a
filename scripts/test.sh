#!/usr/bin/env bash
# The test command: starts Postgres/Redis if needed, checks formatting and lints,
# then runs every test (core unit tests and the end-to-end suite against the real services).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_services
ensure_database test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
