"""`make bench`: the build's speed against its import floor, measured side by side in one run.

For each of N paired runs (default 7), in fresh processes: the import floor (importing the libraries the
package uses: pandas, pandera, duckdb, yaml, requests, bs4, lxml, as issue 10 defines it), the import
floor of the libraries a build actually loads (found by running one), and a full `publish` into a fresh
temporary root. Prints the medians and the ratios, then a no-change `make` and the CLI's `--help`.
The goal (issue 10): the build within 1.3 x its import floor. Since the build no longer loads pandas,
pandera, requests, bs4 or lxml, the second floor is printed too: the build minus it is the build's own work
(goal, issue 21: under 0.4 s). Each build also writes its profile, stage by stage (PIPELINE_PROFILE:
pipeline/common/timing.py), printed as medians. The builds use the build cache as `make` does (warm, after
the first: the staged release is taken from it whole); two more sets show what a build costs after an input
changed (the cache holding only what does not depend on the tables) and with an empty cache (the first build
of a fresh clone).
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def timed(command: list[str], cwd: Path = ROOT, env: dict | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def profiled(python: str, root: Path, profiles: list, cache: Path | None = None, code: Path = ROOT) -> float:
    """One publish into `root` by the code in `code`, timed, its stage profile appended to `profiles`."""
    target = root / "profile.json"
    env = os.environ | {"PIPELINE_PROFILE": str(target)} | ({"PIPELINE_CACHE": str(cache)} if cache else {})
    seconds = timed([python, "-m", "pipeline", "--root", str(root), "publish"], cwd=code, env=env)
    profiles.append(json.loads(target.read_text(encoding="utf-8")))
    return seconds


def stage_medians(profiles: list[list]) -> dict[str, float]:
    """The median time of each stage over the runs, in the order of the first run."""
    names = [name for name, _ in profiles[0]]
    return {name: round(statistics.median(dict(p)[name] for p in profiles), 3) for name in names}


def every_stage(*columns: dict[str, float]) -> list[str]:
    """The stages of any of the columns, in the order they ran (a release taken from the cache skips some)."""
    names: list[str] = []
    for column in sorted(columns, key=len, reverse=True):
        names += [name for name in column if name not in names]
    return names


def parsed_only(cache: Path) -> Path:
    """A copy of the build cache with only what does not depend on the tables (the parsed YAML files, the
    empty database): the cache a build finds after an input changed (an erratum, a report, a snapshot)."""
    target = cache.parent / (cache.name + "-parsed")
    for kind in ("yaml", "database"):
        if (ROOT / "build" / "cache" / kind).is_dir():
            shutil.copytree(ROOT / "build" / "cache" / kind, target / kind)
    target.mkdir(mode=0o700, exist_ok=True)
    return target


INPUTS = ("pipeline", "raw", "schemas", "errata", "sources", "elections", "forensics", "releases", "pyproject.toml")


def edited_copy(base: Path) -> Path:
    """A copy of the repository's build inputs (the code with its compiled bytecode, so the same code
    digest and no compiling), with one erratum's evidence edited: the commonest change a maintainer makes,
    which changes one table (errata) and leaves the others as they were."""
    copy = base / "edited"
    if not copy.exists():
        for name in INPUTS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name)
            else:
                shutil.copy2(source, copy / name)
        errata = copy / "errata" / "errata.yaml"
        text = errata.read_text(encoding="utf-8")
        edited = re.sub(r"(evidence: >-\n(\s+))", r"\1(Reviewed again for the benchmark.) ", text, count=1)
        assert edited != text, "no erratum evidence to edit"
        errata.write_text(edited, encoding="utf-8")
    return copy


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
    floors, own_floors, builds, colds, profiles, cold_profiles = [], [], [], [], [], []
    changed, changed_profiles, edited, edited_profiles = [], [], [], []
    # Compiled bytecode for every module, as a user's builds leave it (even where the environment says
    # PYTHONDONTWRITEBYTECODE): a build that compiles a module it imports is measuring the compiler.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "pipeline")], check=True, env=env)
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        loaded = build_imports(python, fresh_root(base, -1))
        own_floor = "import " + ", ".join(loaded)
        timed([python, "-c", FLOOR])  # warm the file cache once
        for number in range(args.runs):
            floors.append(timed([python, "-c", FLOOR]))
            own_floors.append(timed([python, "-c", own_floor]))
            builds.append(profiled(python, fresh_root(base, number), profiles))
            empty = base / f"cache{number}"
            colds.append(profiled(python, fresh_root(base, 100 + number), cold_profiles, cache=empty))
            parsed = parsed_only(base / f"cache{number}")
            changed.append(profiled(python, fresh_root(base, 200 + number), changed_profiles, cache=parsed))
            warm = base / f"warm{number}"  # hard links: an entry is never written in place, only replaced
            shutil.copytree(ROOT / "build" / "cache", warm, copy_function=os.link)
            edited.append(
                profiled(python, fresh_root(base, 300 + number), edited_profiles, cache=warm, code=edited_copy(base))
            )
    subprocess.run(["make", "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # up to date first
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
        "cold_cache_build_s": round(statistics.median(colds), 3),
        "cold_cache_build_work_s": round(statistics.median(colds) - statistics.median(own_floors), 3),
        "changed_input_build_s": round(statistics.median(changed), 3),
        "changed_input_build_work_s": round(statistics.median(changed) - statistics.median(own_floors), 3),
        "edited_erratum_build_s": round(statistics.median(edited), 3),
        "edited_erratum_build_work_s": round(statistics.median(edited) - statistics.median(own_floors), 3),
        "stages_s": stage_medians(profiles),
        "edited_erratum_stages_s": stage_medians(edited_profiles),
        "changed_input_stages_s": stage_medians(changed_profiles),
        "cold_cache_stages_s": stage_medians(cold_profiles),
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
    print(
        f"after one erratum's evidence was edited (one table changed; the cache as make leaves it): "
        f"median {figures['edited_erratum_build_s']:.3f} s, own work {figures['edited_erratum_build_work_s']:.3f} s"
    )
    print(
        f"after every table changed (the cache holds only the parsed YAML and the empty database): median "
        f"{figures['changed_input_build_s']:.3f} s, own work {figures['changed_input_build_work_s']:.3f} s"
    )
    print(
        f"with an empty build cache (a fresh clone's first build): median {figures['cold_cache_build_s']:.3f} s, "
        f"own work {figures['cold_cache_build_work_s']:.3f} s"
    )
    columns = [
        figures["stages_s"],
        figures["edited_erratum_stages_s"],
        figures["changed_input_stages_s"],
        figures["cold_cache_stages_s"],
    ]
    print(
        "the build's own profile, stage by stage (medians; warm cache | an erratum edited | every table changed "
        "| empty cache):"
    )
    for name in every_stage(*columns):
        cells = " | ".join(f"{column[name]:6.3f} s" if name in column else f"{'-':>6}  " for column in columns)
        print(f"  {name:<36} {cells}")
    print(f"  {'(the stages in sequence)':<36} " + " | ".join(f"{sum(c.values()):6.3f} s" for c in columns))
    print(f"no-change make: {figures['noop_make_s']:.3f} s")
    print(f"python -m pipeline --help: median {figures['help_s']:.3f} s of 5 (goal <= 0.100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
