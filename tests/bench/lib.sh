# Shared by the benchmark scripts (sourced): services, wrk, release build, and the
# helpers that write wrk scripts and record one run's req/s and p99.
# Needs WORK (a scratch folder) and DUR (seconds per run) set before `run` is used.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/services.sh
ensure_services
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q -p tessera-server -p tessera-tests --bin tessera --bin bench-baseline

# post URL PATH JSON: an admin call with $KEY
post() { curl -sf -X POST "$1$2" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$3"; }
# field NAME: a field of the JSON on stdin
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

lua() { # name method body [authorization]
  {
    echo "wrk.method = \"$2\""
    echo "wrk.body = '$3'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    if [ -n "${4:-}" ]; then echo "wrk.headers[\"Authorization\"] = \"$4\""; fi
  } > "$WORK/$1.lua"
}

# run NAME URL LUA CONNS -> appends "rps p99ms" to $WORK/NAME
run() {
  local out
  out=$(wrk -t2 -c"$4" -d"${DUR}s" --latency -s "$WORK/$3.lua" "$2")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  python3 - "$out" >>"$WORK/$1" <<'PY'
import re, sys
o = sys.argv[1]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1))
v, u = re.search(r"99%\s+([\d.]+)(us|ms|s)", o).groups()
print(rps, float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u])
PY
}
