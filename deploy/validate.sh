#!/usr/bin/env bash
# Validates what can be validated here without Docker or a cluster:
# - the Kubernetes manifests against the bundled 1.37 schemas (kubernetes-validate,
#   --strict: unknown fields are errors);
# - the ServiceMonitor (deploy/k8s/prometheus) against models of the
#   prometheus-operator CRDs (unknown fields are errors), and its port against the
#   Service's;
# - the release: the image tags and the migration Job's name carry the workspace
#   version (never `latest`);
# - the Dockerfile with hadolint;
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
"$VENV/bin/hadolint" deploy/Dockerfile
echo "deploy/Dockerfile: ok (hadolint)"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
VERSION="$VERSION" "$VENV/bin/python" - <<'PY'
import os, yaml
from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor
for base in ("deploy/k8s", "deploy/k8s/prometheus"):
    k = yaml.safe_load(open(f"{base}/kustomization.yaml"))
    missing = [r for r in k["resources"] if not os.path.exists(f"{base}/{r}")]
    assert not missing, f"{base}/kustomization.yaml names missing files: {missing}"
# The ServiceMonitor: strict against the CRD's models, and its port names one of the
# Service's, which its selector matches.
doc = yaml.safe_load(open("deploy/k8s/prometheus/servicemonitor.yaml"))
ServiceMonitor.model_validate(doc, extra="forbid", by_alias=True)
svc = yaml.safe_load(open("deploy/k8s/service.yaml"))
wanted = doc["spec"]["selector"]["matchLabels"]
assert wanted.items() <= svc["metadata"]["labels"].items(), f"{wanted} does not select the Service"
ports = {p["name"] for p in svc["spec"]["ports"]}
for e in doc["spec"]["endpoints"]:
    assert e["port"] in ports, f"ServiceMonitor port {e['port']} is not one of the Service's {ports}"
print("deploy/k8s/prometheus/servicemonitor.yaml: ok")
# The release: images tagged with the version, the migration Job named for it.
version = os.environ["VERSION"]
images = []
for f in ("deploy/k8s/deployment.yaml", "deploy/k8s/migrate-job.yaml"):
    spec = yaml.safe_load(open(f))["spec"]["template"]["spec"]
    images += [c["image"] for c in spec["containers"]]
images.append(yaml.safe_load(open("deploy/docker-compose.yml"))["x-tessera"]["image"])
bad = [i for i in images if i != f"tessera:{version}"]
assert not bad, f"images must be tagged tessera:{version}: {bad}"
job = yaml.safe_load(open("deploy/k8s/migrate-job.yaml"))["metadata"]["name"]
assert job == "tessera-migrate-" + version.replace(".", "-"), f"the migration Job {job} is not named for {version}"
print(f"release {version}: image tags and migration Job ok")
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
