"""Reads what lib.sh's `run` recorded in the run's scratch folder (the script's first
argument): one "req/s p99-ms" line per run of a name."""
import statistics
import sys


def med(name):
    """Median req/s and median p99 (ms) of every run recorded under `name`."""
    rows = [tuple(map(float, line.split())) for line in open(f"{sys.argv[1]}/{name}")]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
