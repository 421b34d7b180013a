# Shared by the benchmark scripts (sourced): services, wrk, release build, and the
# helpers that write wrk scripts and record one run's req/s and p99.
# Needs WORK (a scratch folder) and DUR (seconds per run) set before `run` is used.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/services.sh
ensure_services
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q -p tessera-server -p tessera-tests --bin tessera --bin bench-baseline --bin bench-verify --bin bench-sign

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

# record NAME WRK_OUTPUT -> appends "rps p99ms" to $WORK/NAME (a non-2xx answer fails)
record() {
  if grep -q "Non-2xx" <<<"$2"; then echo "$1: non-2xx answers:" >&2; echo "$2" >&2; exit 1; fi
  python3 - "$2" >>"$WORK/$1" <<'PY'
import re, sys
o = sys.argv[1]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1))
v, u = re.search(r"99%\s+([\d.]+)(us|ms|s)", o).groups()
print(rps, float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u])
PY
}

# measured NAME WRK_ARGS... -> runs wrk (for DUR seconds, at least 3), appends
# "rps p99ms" to $WORK/NAME and the share of the machine each program used (cpu.py)
# to $WORK/NAME.cpu, sampled from 1 s in to 1 s before the end: the steady state.
measured() {
  local name=$1 w
  shift
  wrk "$@" >"$WORK/wrk.out" &
  w=$!
  sleep 1
  python3 tests/bench/cpu.py snap "$WORK/cpu_before"
  sleep $((DUR > 3 ? DUR - 2 : 1))
  python3 tests/bench/cpu.py snap "$WORK/cpu_after"
  wait "$w"
  python3 tests/bench/cpu.py diff "$WORK/cpu_before" "$WORK/cpu_after" >>"$WORK/$name.cpu"
  record "$name" "$(cat "$WORK/wrk.out")"
}

# run NAME URL LUA CONNS -> appends "rps p99ms" to $WORK/NAME (and NAME.cpu, as measured)
run() {
  measured "$1" -t2 -c"$4" -d"${DUR}s" --latency -s "$WORK/$3.lua" "$2"
}

# bench_tenants URL: with $KEY, tenants `bench` and `bench-norot` (no refresh rotation),
# rate limit out of the way (logins come from one address), each with user alice;
# sets ACCESS (of bench) and REFRESH (of bench-norot).
bench_tenants() {
  post "$1" /v1/admin/tenants '{"slug":"bench","access_token_ttl":3600,"login_rate_limit":100000}' >/dev/null
  post "$1" /v1/admin/tenants '{"slug":"bench-norot","access_token_ttl":3600,"rotate_refresh_tokens":false,"login_rate_limit":100000}' >/dev/null
  local t
  for t in bench bench-norot; do post "$1" "/v1/admin/tenants/$t/users" '{"username":"alice","password":"correct horse battery"}' >/dev/null; done
  ACCESS=$(bench_login "$1" bench | field access)
  REFRESH=$(bench_login "$1" bench-norot | field refresh)
}
bench_login() { curl -sf -X POST "$1/v1/tenants/$2/token" -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct horse battery"}'; }

# bench_env NAME: a scratch deployment (scripts/services.sh: database NAME, WORK, the
# shared TESSERA__* variables, PIDS), the schema migrated and an admin key (KEY).
# Scripts `trap scratch_cleanup EXIT` once their processes are in PIDS.
bench_env() {
  scratch_deployment "$1"
  export TESSERA__LOG__LEVEL="warn"
  # Several nodes may run at once: each management listener takes a free port.
  export TESSERA__MANAGEMENT__BIND="127.0.0.1:0"
  target/release/tessera migrate 2>/dev/null
  KEY=$(target/release/tessera admin create-key --name bench)
}

# per_thread PREFIX: the head of a wrk script whose thread n takes the tokens of the
# file PREFIXn, one a line, as its own (`mine`).
per_thread() {
  cat <<LUA
local n = 0
function setup(thread)
  n = n + 1
  thread:set("id", n)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  mine = {}
  for line in io.lines("$1" .. id) do mine[#mine + 1] = line end
end
LUA
}

# login_stock URL SECONDS N PREFIX: refresh tokens (each a session of its own) from a
# 64-connection login run of SECONDS on the token route URL over the users s1…s64 (whose
# password is "correct horse battery"), dealt out to N files PREFIX1 … PREFIXN; PREFIXtotal
# holds their count.
login_stock() {
  cat >"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local out = io.open("$WORK/stock", "a")
out:setvbuf("line") -- one write a token: the two threads append whole lines
local k = 0
function request()
  k = k + 1
  -- A client address of its own for every 256 logins (see the node's start).
  wrk.headers["X-Forwarded-For"] = "10.9." .. math.floor(k / 65536) % 256 .. "." .. math.floor(k / 256) % 256
  return wrk.format(nil, nil, nil, '{"username":"s' .. (k % 64 + 1) .. '","password":"correct horse battery"}')
end
function response(status, headers, body)
  local r = body:match('"refresh":"([^"]+)"')
  if status == 200 and r then out:write(r, "\n") end
end
LUA
  rm -f "$WORK/stock"
  wrk -t2 -c64 -d"$2s" -s "$WORK/login.lua" "$1" | grep Requests/sec >&2
  python3 - "$WORK/stock" "$3" "$4" <<'PY'
import sys
tokens = [l.strip() for l in open(sys.argv[1]) if l.strip()]
n, prefix = int(sys.argv[2]), sys.argv[3]
for i in range(n):
    open(f"{prefix}{i + 1}", "w").write("\n".join(tokens[i::n]) + "\n")
print(f"login stock: {len(tokens)} sessions, {len(tokens) // n} a thread", file=sys.stderr)
open(f"{prefix}total", "w").write(str(len(tokens)))
PY
}

# The body of a wrk logout script (after per_thread): each request logs out the
# thread's next session. A thread that ran out of sessions logs its last one out again
# (answered 200, nothing to write): a stock must exceed the requests a thread makes.
LOGOUT_LUA='
local i = 0
function request()
  i = math.min(i + 1, #mine)
  return wrk.format(nil, nil, nil, "{\"token\":\"" .. mine[i] .. "\"}")
end'

# wrk threads for the stateful runs: the issue's load is `wrk -t2`. Each thread's
# connections share the refresh tokens or sessions of one file (per_thread).
WRK_THREADS=${WRK_THREADS:-2}

# A rotating refresh pool per thread: a request takes a token out of the thread's pool
# (`mine`: one a connection and one more, since wrk calls request() once before the
# run to check the script) and its answer puts the successor back, so every
# request really rotates (no reuse, no 401). A connection's answer is handled before its
# next request, so the pool never runs dry while the answers are 200.
ROTATE_LUA='
function request()
  local token = table.remove(mine) or "spent"
  return wrk.format(nil, nil, nil, "{\"refresh\":\"" .. token .. "\"}")
end
function response(status, headers, body)
  local next = body:match("\"refresh\":\"([^\"]+)\"")
  if status == 200 and next then mine[#mine + 1] = next end
end'
