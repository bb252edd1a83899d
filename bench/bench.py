"""`make bench`: the build's speed against its import floor, measured side by side in one run.

For each of N paired runs (default 7), in fresh processes: the import floor (importing the libraries the
package uses: pandas, pandera, duckdb, yaml, requests, bs4, lxml, as issue 10 defines it), the import
floor of the libraries a build actually loads (found by running one), and a full `publish` into a fresh
temporary root. Prints the medians and the ratios, then a no-change `make` and the CLI's `--help`.
The goal (issue 10): the build within 1.3 x its import floor. Since the build no longer loads pandas,
pandera, requests, bs4 or lxml, the second floor is printed too: the build minus it is the build's own work.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import pandas, pandera.pandas, duckdb, yaml, requests, bs4, lxml"
GOAL = 1.3


def timed(command: list[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def build_imports(python: str, root: Path) -> list[str]:
    """The third-party packages a `publish` loads (top-level names, from outside the standard library)."""
    probe = (
        "import sys, sysconfig\n"
        "from pipeline.cli import main\n"
        "sys.argv = ['pipeline', '--root', sys.argv[1], 'publish']\n"
        "main()\n"
        "site = sysconfig.get_paths()['purelib']\n"
        "names = {m.split('.')[0] for m, mod in list(sys.modules.items())\n"
        "         if (getattr(mod, '__file__', None) or '').startswith(site)}\n"
        "print(' '.join(sorted(n for n in names if not n.startswith('_'))), file=sys.stderr)\n"
    )
    result = subprocess.run([python, "-c", probe, str(root)], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stderr.strip().splitlines()[-1].split()


def fresh_root(base: Path, number: int) -> Path:
    root = base / f"root{number}"
    shutil.copytree(ROOT / "raw", root / "raw")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="paired runs (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    python = sys.executable
    floors, own_floors, builds = [], [], []
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        loaded = build_imports(python, fresh_root(base, -1))
        own_floor = "import " + ", ".join(loaded)
        timed([python, "-c", FLOOR])  # warm the file cache once
        for number in range(args.runs):
            floors.append(timed([python, "-c", FLOOR]))
            own_floors.append(timed([python, "-c", own_floor]))
            builds.append(timed([python, "-m", "pipeline", "--root", str(fresh_root(base, number)), "publish"]))
    make_noop = timed(["make", "--quiet"])
    helps = [timed([python, "-m", "pipeline", "--help"]) for _ in range(5)]
    figures = {
        "runs": args.runs,
        "import_floor_s": round(statistics.median(floors), 3),
        "build_s": round(statistics.median(builds), 3),
        "ratio": round(statistics.median(builds) / statistics.median(floors), 2),
        "build_imports": loaded,
        "build_import_floor_s": round(statistics.median(own_floors), 3),
        "build_work_s": round(statistics.median(builds) - statistics.median(own_floors), 3),
        "goal_ratio": GOAL,
        "noop_make_s": round(make_noop, 3),
        "help_s": round(statistics.median(helps), 3),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"import floor ({FLOOR}): median {figures['import_floor_s']:.3f} s of {args.runs}")
    print(f"full build (python -m pipeline publish, fresh root): median {figures['build_s']:.3f} s of {args.runs}")
    print(f"ratio build / floor: {figures['ratio']:.2f} (goal <= {GOAL})")
    print(
        f"the build loads only {', '.join(loaded)}: their import floor is {figures['build_import_floor_s']:.3f} s, "
        f"so the build's own work takes {figures['build_work_s']:.3f} s"
    )
    print(f"no-change make: {figures['noop_make_s']:.3f} s")
    print(f"python -m pipeline --help: median {figures['help_s']:.3f} s of 5 (goal <= 0.100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
