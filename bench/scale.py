"""`make bench-scale`: the station-level path at 100 thousand, 1 million and 10 million vote rows.

For each size, a synthetic set is drawn (`python -m pipeline synth`, one station per 8 vote rows: the 7
parties and 'against all'). Then, in fresh processes taking turns (R repeats each, medians reported):
- the bare scan the issue names: `SELECT count(*), sum(votes)` over station_votes.parquet (DuckDB answers
  count(*) from the Parquet footer and reads one column);
- a full scan: every column of the three station tables read once (count, sum, max);
- the path: validate + cross-check + forensics (`check_returns`, as `python -m pipeline stations` runs it),
  with its peak memory (the process's maximum resident set, libraries included).
Times are measured inside each process, after its imports. `--write` puts the table into docs/scale.md
between its `results` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = 8

BARE = """
import duckdb, json, resource, sys, time
con = duckdb.connect()
started = time.perf_counter()
con.execute("SELECT count(*), sum(votes) FROM read_parquet(?)", [sys.argv[1] + "/station_votes.parquet"]).fetchall()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FULL = """
import duckdb, json, resource, sys, time
con = duckdb.connect()
folder = sys.argv[1]
started = time.perf_counter()
con.execute(
    "SELECT count(*), sum(votes), max(station_id), max(protocol_version), max(region_id), max(option_id) "
    "FROM read_parquet(?)", [folder + "/station_votes.parquet"]).fetchall()
con.execute(
    "SELECT count(*), max(station_id), max(protocol_version), sum(registered_voters_count), sum(ballots_issued_count), "
    "sum(ballots_cast_count), sum(invalid_ballots_count) FROM read_parquet(?)", [folder + "/station_ballots.parquet"]
).fetchall()
con.execute(
    "SELECT count(*), max(station_id), max(region_id), max(counted_in_region_id), "
    "max(territorial_commission_number), max(station_number), bool_or(is_abroad) FROM read_parquet(?)",
    [folder + "/stations.parquet"]).fetchall()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PATH = """
import json, resource, sys, time
from pathlib import Path
import duckdb, numpy
from pipeline.stations.commands import check_returns
started = time.perf_counter()
result = check_returns(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "parts": result["seconds"]}))
"""


# The forensic tests on stations of realistic size: at 10 million rows the synthetic stations (which must
# sum to the published totals) have about 10 voters each, too few for most tests to look at; so the tests
# are also timed on as many stations drawn as repeated elections of 10,223 stations (regions kept apart).
REALISTIC = """
import json, math, sys, time
import numpy as np
from pathlib import Path
from pipeline.stations import read_release
from pipeline.stations.forensics import run
from pipeline.stations.synth import generate
stations = int(sys.argv[1])
published = read_release(Path(sys.argv[2]))
parts = []
for seed in range(1, math.ceil(stations / 10_223) + 1):
    e = generate(published, 10_223, seed)
    region = np.array([int(r[3:]) for r in e.counted_in]) + 100 * seed
    parts.append((e.registered, e.cast, e.votes.sum(axis=1), e.votes[:, e.leader], region))
arrays = [np.concatenate([p[i] for p in parts])[:stations] for i in range(5)]
started = time.perf_counter()
rows = run(np, *arrays)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "tested": {r["test_id"]: r["stations_tested"] for r in rows}}))
"""


def child(code: str, *argv: str) -> dict:
    run = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode:
        raise SystemExit(f"bench-scale: a measured process failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory = 0
    import duckdb
    import numpy

    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:,} MB of memory, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, numpy {numpy.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000,10000000", help="vote rows, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--release", type=Path, default=ROOT / "processed")
    parser.add_argument("--write", action="store_true", help="write the table into docs/scale.md")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    lines = [
        f"Machine: {machine()}. Medians of {args.repeats} runs.",
        "",
        "| vote rows | stations | bare scan | full scan | validate | cross-checks | forensics | path | "
        "path / bare scan | path / full scan | path per million rows | peak memory of the path | "
        "forensics on stations of realistic size |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    print(lines[0])
    for rows in (int(r) for r in args.rows.split(",")):
        stations = rows // OPTIONS
        folder = work / f"rows-{rows}"
        subprocess.run(
            [sys.executable, "-m", "pipeline", "synth", "--stations", str(stations), "--seed", "1", "--out",
             str(folder), "--release", str(args.release)],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        bare, full, path, realistic = [], [], [], []
        for _ in range(args.repeats):
            bare.append(child(BARE, str(folder)))
            full.append(child(FULL, str(folder)))
            path.append(child(PATH, str(folder), str(args.release)))
            realistic.append(child(REALISTIC, str(stations), str(args.release)))
        b = statistics.median(r["seconds"] for r in bare)
        f = statistics.median(r["seconds"] for r in full)
        p = statistics.median(r["seconds"] for r in path)
        parts = {k: statistics.median(r["parts"][k] for r in path) for k in path[0]["parts"]}
        peak = max(r["peak_mb"] for r in path)
        real = statistics.median(r["seconds"] for r in realistic)
        lines.append(
            f"| {rows:,} | {stations:,} | {b:.3f} s | {f:.3f} s | {parts['validate']:.3f} s | "
            f"{parts['cross-checks']:.3f} s | {parts['forensics']:.3f} s | {p:.3f} s | {p / b:.0f} x | {p / f:.1f} x | "
            f"{p / rows * 1e6:.2f} s | {peak:,.0f} MB | {real:.3f} s |"
        )
        print(
            f"{rows:,} rows ({stations:,} stations): path {p:.3f} s = {p / b:.0f} x the bare scan ({b:.3f} s), "
            f"{p / f:.1f} x a full scan ({f:.3f} s); validate {parts['validate']:.3f} s, cross-checks "
            f"{parts['cross-checks']:.3f} s, forensics {parts['forensics']:.3f} s (on stations of realistic size "
            f"{real:.3f} s); peak memory {peak:,.0f} MB",
            flush=True,
        )
    if args.write:
        doc = ROOT / "docs" / "scale.md"
        text = doc.read_text(encoding="utf-8")
        head, _, rest = text.partition("<!-- results -->")
        _, _, tail = rest.partition("<!-- /results -->")
        doc.write_text(head + "<!-- results -->\n" + "\n".join(lines) + "\n<!-- /results -->" + tail, encoding="utf-8")
        print(f"written into {doc}")


if __name__ == "__main__":
    main()
