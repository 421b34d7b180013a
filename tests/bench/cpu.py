"""CPU time by program over a window, from /proc (every thread of every process).
  python3 tests/bench/cpu.py snap FILE       -> writes a snapshot of all processes
  python3 tests/bench/cpu.py diff A B        -> the share of the machine each program
                                                used between snapshots A and B (JSON)
Programs are grouped by name: tessera, postgres, redis-server, wrk, bench-baseline,
and "other". A share is CPU seconds / (wall seconds x cores), so the column sums to the
machine's busy fraction; "idle" is what is left."""
import json
import os
import sys
import time

GROUPS = ("tessera", "bench-baseline", "postgres", "redis-server", "wrk")
TICK = os.sysconf("SC_CLK_TCK")


def snapshot():
    """{pid: [group, cpu seconds]} for every process, its threads included, and
    the wall clock under "at"."""
    out = {"at": time.monotonic()}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
        secs = (int(fields[11]) + int(fields[12])) / TICK
        group = next((g for g in GROUPS if name.startswith(g[:15])), "other")
        out[pid] = [group, secs]
    return out


def diff(a, b):
    """Share of the machine per group between snapshots (processes that started in
    the window count from zero)."""
    cores, secs = os.cpu_count(), b.pop("at") - a.pop("at")
    used = {g: 0.0 for g in GROUPS + ("other",)}
    for pid, (group, t) in b.items():
        used[group] += t - a.get(pid, [group, 0.0])[1]
    share = {g: max(v, 0.0) / (secs * cores) for g, v in used.items()}
    share["idle"] = max(0.0, 1.0 - sum(share.values()))
    return share


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        json.dump(snapshot(), open(sys.argv[2], "w"))
    else:
        a, b = (json.load(open(p)) for p in sys.argv[2:4])
        print(json.dumps(diff(a, b)))
