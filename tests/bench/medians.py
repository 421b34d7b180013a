"""Reads what lib.sh's `run` recorded in the run's scratch folder (the script's first
argument): one "req/s p99-ms" line per run of a name."""
import json
import statistics
import sys


def med(name):
    """Median req/s and median p99 (ms) of every run recorded under `name`."""
    rows = [tuple(map(float, line.split())) for line in open(f"{sys.argv[1]}/{name}")]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)


def cpu(name, groups=("tessera", "postgres", "redis-server", "wrk", "idle")):
    """The median share of the machine (%) each program used over the runs of `name`
    (what lib.sh's `measured` recorded), as "a / b / c"."""
    rows = [json.loads(line) for line in open(f"{sys.argv[1]}/{name}.cpu")]
    return " / ".join(f"{100 * statistics.median(r[g] for r in rows):.0f}%" for g in groups)
