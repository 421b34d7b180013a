#!/usr/bin/env bash
# The test command: starts Postgres/Redis if needed, checks formatting and lints,
# then runs every test (core unit tests and the end-to-end suite against the real services).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_services
ensure_database test
# A venv per pinned requirements file, made again only when the file changes.
venv() {
  local dir=target/$1 reqs=$2
  if [ ! -x "$dir/bin/python" ] || ! cmp -s "$reqs" "$dir/requirements.txt"; then
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$reqs"
    cp "$reqs" "$dir/requirements.txt"
  fi
}
# Pinned Django + DRF + simplejwt, for the check that they accept Tessera's tokens.
venv compat-venv tests/compat/requirements.txt
export TESSERA_COMPAT_PYTHON="$PWD/target/compat-venv/bin/python"
# schemathesis, run against the real server on both backends (tests/e2e/contract.rs).
venv schemathesis-venv tests/schemathesis/requirements.txt
export TESSERA_SCHEMATHESIS="$PWD/target/schemathesis-venv/bin/schemathesis"
# Chromium and its WebDriver, for the browser-mode test (tests/e2e/browser.rs).
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Tests of what only Postgres + Redis have (faults, several nodes, Redis Cluster) are
# #[ignore]d with their reason; this pass, on Postgres + Redis, runs them too.
cargo test --workspace --locked -- --include-ignored
# The end-to-end suite again on the zero-setup mode (SQLite + in-process revocations);
# the runner reports the shared-only tests as ignored, each with its reason.
TESSERA_TEST_BACKEND=embedded cargo test --workspace --locked --test e2e
# deploy/: Kubernetes manifests against their schemas, compose, tessera.toml, haproxy.cfg.
bash deploy/validate.sh
