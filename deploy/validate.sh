#!/usr/bin/env bash
# Validates what can be validated here without Docker or a cluster:
# - the Kubernetes manifests against the bundled 1.37 schemas (kubernetes-validate,
#   --strict: unknown fields are errors);
# - docker-compose.yml parses, and names every service the topology needs;
# - deploy/tessera.toml is read and checked by `tessera check-config`;
# - haproxy.cfg is checked by `haproxy -c` when HAProxy is installed.
# Usage: bash deploy/validate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/deploy-venv
if [ ! -x "$VENV/bin/kubernetes-validate" ] || ! cmp -s deploy/requirements.txt "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r deploy/requirements.txt
  cp deploy/requirements.txt "$VENV/requirements.txt"
fi
manifests=$(ls deploy/k8s/*.yaml | grep -v kustomization.yaml)
"$VENV/bin/kubernetes-validate" --strict --quiet $manifests
"$VENV/bin/python" - <<'PY'
import yaml
k = yaml.safe_load(open("deploy/k8s/kustomization.yaml"))
import os
missing = [r for r in k["resources"] if not os.path.exists(f"deploy/k8s/{r}")]
assert not missing, f"kustomization names missing files: {missing}"
c = yaml.safe_load(open("deploy/docker-compose.yml"))
need = {"postgres", "redis", "tessera-1", "tessera-2", "lb"}
assert need <= set(c["services"]), f"compose lacks {need - set(c['services'])}"
for name in ("postgres", "redis"):
    assert "healthcheck" in c["services"][name], f"{name} has no healthcheck"
print("compose and kustomization: ok")
PY
cargo build -q --locked -p tessera-server --bin tessera
TESSERA__KEYS__MASTER_KEY=$(head -c 32 /dev/urandom | base64) \
  target/debug/tessera --config deploy/tessera.toml check-config >/dev/null
echo "deploy/tessera.toml: ok"
if command -v haproxy >/dev/null; then
  LB_BIND=127.0.0.1:1 NODE1=127.0.0.1:2 NODE2=127.0.0.1:3 haproxy -c -q -f deploy/haproxy.cfg
  echo "deploy/haproxy.cfg: ok"
fi
echo "deploy/: valid"
