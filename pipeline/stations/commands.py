"""The station-level commands: `synth` (draw a synthetic set) and `stations` (validate, cross-check and
test a folder of station returns)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pipeline.common.errors import PipelineError

# What the station commands write (synthetic sets, --json results) never goes into the repository or
# --root, but for their scratch folder build/: a synthetic file must never be mistaken for a published
# one, and nothing may overwrite the code, the inputs or the release.
SCRATCH = "build"


def parse_anomaly(text: str) -> tuple[str, float]:
    """KIND=FRACTION, e.g. whole_pct=0.02 (an argparse type)."""
    import argparse

    from pipeline.stations.plant import ANOMALIES, MAX_FRACTION

    kind, _, fraction = text.partition("=")
    try:
        value = float(fraction)
    except ValueError:
        value = -1.0
    if kind not in ANOMALIES or not 0 < value <= MAX_FRACTION.get(kind, 0.2):
        raise argparse.ArgumentTypeError(
            f"expected KIND=FRACTION with KIND one of {', '.join(ANOMALIES)} and 0 < FRACTION <= 0.2 (0.5 for a "
            f"commission kind, a fraction of the commissions), not {text!r}"
        )
    return kind, value


MAX_DESCRIPTOR_BYTES = 2**20  # a station set's datapackage.json is a few KB


def _descriptor(folder: Path, stage: str) -> dict | None:
    """The folder's datapackage.json (a regular file of at most 1 MiB, read without following it into a
    device or FIFO); None without one. A damaged one is a PipelineError naming it."""
    from pipeline.common.files import read_json

    try:
        data = read_json(folder / "datapackage.json", stage, max_bytes=MAX_DESCRIPTOR_BYTES)
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise PipelineError(stage, f"{folder / 'datapackage.json'} is not a JSON object.")
    return data


def _says_synthetic(folder: Path, stage: str) -> bool | None:
    """True or False as the folder's datapackage.json says; None without one."""
    data = _descriptor(folder, stage)
    return None if data is None else data.get("synthetic") is True


def _holds_data_package(folder: Path) -> bool:
    """Whether a folder above --out holds a release (its tables) or another, real data package: a
    datapackage.json that is a JSON object and does not say it is synthetic. A file there that is no
    descriptor (damaged, too large, too deep, a FIFO or a device) is not a data package, and never stops
    or hangs `synth`."""
    if (folder / "region_ballots.parquet").exists():
        return True
    try:
        data = _descriptor(folder, "synth")
    except PipelineError:
        return False
    return isinstance(data, dict) and data.get("synthetic") is not True


def _synthetic_files() -> set[str]:
    from pipeline import metadata

    return {f"{r.name}.parquet" for r in metadata.load_stations().resources} | {
        "datapackage.json",
        "data_dictionary.md",
    }


def _is_synthetic_set(folder: Path) -> bool:
    """Whether the folder holds only regular files that `synth` writes, and says it is synthetic: a set it
    may replace."""
    names = _synthetic_files()
    entries = list(folder.iterdir())
    if not all(p.name in names and p.is_file() and not p.is_symlink() for p in entries):
        return False
    return _says_synthetic(folder, "synth") is True


def refuse_release_path(path: Path, release: Path, root: Path, stage: str, what: str) -> None:
    """Refuse to write `what` at `path` (resolved) inside the repository or --root (but for their scratch
    folder build/), or inside the release folder."""
    from pipeline import ROOT

    for base in sorted({ROOT.resolve(), root.resolve()}):
        if (path == base or path.is_relative_to(base)) and not path.is_relative_to(base / SCRATCH):
            raise PipelineError(
                stage,
                f"{path} is inside {base}, the repository or the release's folder (its code, inputs and release); "
                f"{what} never goes there (a folder outside it, or its build/, will do).",
            )
    if path == release or path.is_relative_to(release):
        raise PipelineError(stage, f"{path} is inside {release}, the release; {what} never goes there.")


def _check_out(out: Path, release: Path, root: Path) -> None:
    """Refuse an --out where synthetic files could be taken for published or real ones."""
    from pipeline.stations import GLOB

    refuse_release_path(out, release, root, "synth", "synthetic data")
    for folder in out.parents:  # a folder above that holds a release, or another data package
        if _holds_data_package(folder):
            raise PipelineError(
                "synth", f"{out} is inside {folder}, which holds a data package; choose another folder."
            )
    if out.exists() and not out.is_dir():
        raise PipelineError("synth", f"{out} exists and is not a folder; choose a new folder.")
    if out.exists() and any(out.iterdir()) and not _is_synthetic_set(out):
        raise PipelineError(
            "synth", f"{out} is not empty and holds other files than an earlier synthetic set; choose a new folder."
        )
    if any(ch in str(release) for ch in GLOB):
        raise PipelineError("synth", f"{release}: a release path holding any of {' '.join(GLOB)} is refused.")


def cmd_synth(args) -> int:
    """Draw a synthetic set of station returns into --out (a new folder, or an earlier synthetic set)."""
    import numpy as np  # noqa: F401 (fail here, not half-way, if numpy is missing)

    from pipeline.stations import read_release
    from pipeline.stations.synth import generate, write

    out = args.out.resolve()
    release = (args.release or args.root / "processed").resolve()
    _check_out(out, release, args.root)
    if not (release / "region_ballots.parquet").is_file():
        raise PipelineError("synth", f"no published release in {release}", hint="Run `make` first, or pass --release.")
    anomalies = dict(sorted(args.anomaly or []))
    started = time.perf_counter()
    try:
        election = generate(read_release(release), args.stations, args.seed, anomalies, preliminary=args.preliminary)
    except ValueError as error:
        raise PipelineError("synth", str(error)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        command = {"command": "python -m pipeline synth", "stations": args.stations, "seed": args.seed}
        if election.preliminary_votes is not None:
            command["preliminary"] = True
        write(election, stage, description={**command, "anomalies": anomalies})
        if out.exists():  # an earlier synthetic set: moved aside whole, then only the files synth writes removed
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / "set")
            stage.rename(out)
            _remove_set(old / "set")
            old.rmdir()
        else:
            stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    planted = ", ".join(
        f"{sum(1 for k in election.planted.values() if k == kind)} {kind}" for kind in sorted(anomalies)
    )
    print(
        f"SYNTHETIC station returns (not election results): {len(election.station_id):,} stations "
        f"({int(election.is_abroad.sum())} abroad), {election.votes.size:,} vote rows, summing to the regional "
        f"totals of {release}; {'planted: ' + planted if planted else 'no planted anomaly'}; written to {out} "
        f"in {time.perf_counter() - started:.1f} s."
    )
    return 0


def _remove_set(folder: Path) -> None:
    """Remove an earlier synthetic set: the regular files synth writes, then the folder (which fails, and
    keeps it, if anything else appeared in it meanwhile)."""
    names = _synthetic_files()
    for path in folder.iterdir():
        if path.name in names and path.is_file() and not path.is_symlink():
            path.unlink()
    folder.rmdir()


def check_returns(folder: Path, release: Path, *, forensics: bool = True) -> dict:
    """Validate, cross-check and (optionally) test a folder of station returns; raises a PipelineError on
    a broken schema rule or a failing cross-check. Returns the row counts, the forensic rows and the
    turnout x leader histogram."""
    import duckdb
    import numpy as np

    from pipeline.checks.run import failure_message, load_checks, sample_checks
    from pipeline.stations import CHECKS, open_returns
    from pipeline.stations import forensics as tests
    from pipeline.stations.validate import validate

    seconds = {}
    started = time.perf_counter()
    con = open_returns(folder, release)
    try:
        counts = validate(con)
        seconds["validate"] = time.perf_counter() - started
        checks = load_checks(CHECKS)
        total, findings = sample_checks(con, checks)
        seconds["cross-checks"] = time.perf_counter() - started - seconds["validate"]
        if total:
            raise PipelineError("check", failure_message(findings, total))
        result = {"counts": counts, "checks": [c.id for c in checks], "forensics": [], "histogram": []}
        arrays = tests.station_arrays(con) if forensics else None
        result["leader_option_id"] = arrays and arrays["leader_option_id"]
        if arrays:
            result["forensics"] = tests.run(
                np,
                *(arrays[k] for k in ("registered", "cast", "valid", "leader", "region")),
                commission=arrays["commission"],
                preliminary_leader=arrays["preliminary_leader"],
            )
            result["histogram"] = tests.histogram(
                np, arrays["registered"], arrays["cast"], arrays["valid"], arrays["leader"]
            )
            seconds["forensics"] = time.perf_counter() - started - sum(seconds.values())
        result["seconds"] = seconds
        return result
    except duckdb.Error as error:  # e.g. a damaged row group that only a full read reaches
        raise PipelineError("stations", f"cannot read the returns in {folder}: {str(error).splitlines()[0]}") from None
    finally:
        con.close()


def _marked_synthetic(folder: Path) -> bool:
    """Whether any Parquet file of the folder carries synthetic = true in its key-value metadata."""
    import duckdb

    con = duckdb.connect()
    try:
        for path in sorted(folder.glob("*.parquet")):
            if not path.is_file():  # a FIFO or a device: never opened (it would be waited on)
                continue
            marks = con.execute(
                "SELECT count(*) FROM parquet_kv_metadata(?) "
                "WHERE decode(key) = 'synthetic' AND decode(value) = 'true'",
                [str(path)],
            ).fetchone()[0]
            if marks:
                return True
        return False
    except duckdb.Error:
        return False
    finally:
        con.close()


def cmd_stations(args) -> int:
    """Validate, cross-check and test a folder of station returns; print the outcome."""
    release = (args.release or args.root / "processed").resolve()
    folder = args.folder.resolve()
    if not folder.is_dir():
        raise PipelineError("stations", f"{folder} is not a folder of station returns.")
    json_path = args.json and args.json.resolve()
    if json_path:  # checked before anything runs
        refuse_release_path(json_path, release, args.root.resolve(), "stations", "the --json file")
        if json_path.is_dir():
            raise PipelineError("stations", f"--json {json_path} is a folder; name a file.")
    says_synthetic = _says_synthetic(folder, "stations")  # a damaged descriptor: refused before any work
    started = time.perf_counter()
    result = check_returns(folder, release)
    seconds = time.perf_counter() - started
    synthetic = " (SYNTHETIC data)" if says_synthetic or _marked_synthetic(folder) else ""
    counts = ", ".join(f"{name} {count:,}" for name, count in result["counts"].items())
    print(f"{folder}{synthetic}: valid ({counts}); {len(result['checks'])} cross-checks passed; in {seconds:.2f} s.")
    if not result["forensics"]:
        print("No final protocol with votes: no forensic test.")
    else:
        print(f"Forensic tests (the leader: {result['leader_option_id']}); each result is a property of these numbers:")
    for row in result["forensics"]:
        p = "n/a" if row["p_value"] is None else f"{row['p_value']:.3g}"
        holm = "" if row["adjusted_p_value"] is None else f", Holm {row['adjusted_p_value']:.3g}"
        print(
            f"  {row['test_id']:<37} p = {p:<10} ({row['role']}{holm}) units {row['stations_tested']:>9,}  "
            f"null: {row['null_model']}"
        )
    if args.json:
        from pipeline.common.files import write_atomically

        write_atomically(json_path, (json.dumps(result, indent=2, default=str) + "\n").encode("utf-8"))
        print(f"Results and the turnout x leader histogram: {json_path}", file=sys.stderr)
    return 0
