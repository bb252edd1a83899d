"""`python -m pipeline check`: the cross-checks again, on the published database, under the build lock."""

from __future__ import annotations

from pathlib import Path

from pipeline.common.defaults import LOCK_WAIT
from pipeline.common.errors import PipelineError


def recheck(root: Path, *, wait: float = LOCK_WAIT):
    """Run every cross-check on the published database of `root`; returns the checks and the quality
    rows (each finding corrected, acknowledged or failing, as the build's quality gate decides). Never
    while a build swaps the release in; a swap that a killed build left half done is rolled back first
    (a waiting check would otherwise read the half-swapped release)."""
    import sys

    import duckdb

    from pipeline import metadata
    from pipeline.checks.quality import gate
    from pipeline.checks.run import load_checks
    from pipeline.common.lock import build_lock
    from pipeline.publish.readers import open_database
    from pipeline.release.swap import recover_locked

    database = root / "processed" / metadata.load().meta["database"]
    checks = load_checks()
    with build_lock(root, "check", wait=wait):
        if recover_locked(root):
            print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        con = open_database(database, "check")
        try:
            applied = [
                dict(zip([d[0] for d in con.description], row, strict=True))
                for row in con.execute("SELECT * FROM errata").fetchall()
            ]
            quality = gate(con, applied, checks)
        except duckdb.Error as error:
            raise PipelineError(
                "check",
                f"the database {database} does not have what the checks read ({str(error).splitlines()[0]}).",
                hint="Rebuild the release with `make`.",
            ) from None
        finally:
            con.close()
    return checks, quality
