"""Turn cross-check findings into the quality_checks table: every finding is corrected (an erratum
resolves it), acknowledged (a reviewed entry says why it stays as published) or it fails the build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import ROOT
from pipeline.checks.run import Check, Finding, failure_message, load_checks, run_checks
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_reviewed
from pipeline.extract.errata import errata_resolves, format_key

ACKNOWLEDGED_FILE = ROOT / "errata" / "acknowledged.yaml"
GAPS_FILE = ROOT / "errata" / "gaps.yaml"
REQUIRED = ("id", "check", "table", "key", "column", "expected", "actual", "reason", "reviewed_by")


@dataclass(frozen=True)
class Acknowledgement:
    """A reviewed finding that stays as published: the values it explains and why."""

    id: str
    check: str
    table: str
    key: str
    column: str
    reason: str
    expected: str | None = None
    actual: str | None = None


def load_acknowledgements(path: Path = ACKNOWLEDGED_FILE) -> list[Acknowledgement]:
    """The reviewed acknowledgements (errata/acknowledged.yaml)."""
    out = []
    for entry in read_reviewed(path, REQUIRED, "acknowledgement", "check"):
        key = format_key(entry["key"])
        out.append(
            Acknowledgement(
                id=str(entry["id"]),
                check=entry["check"],
                table=entry["table"],
                key=key,
                column=entry["column"],
                reason=" ".join(entry["reason"].split()),
                expected=_text(entry["expected"]),
                actual=_text(entry["actual"]),
            )
        )
    return out


def _text(value) -> str | None:
    return None if value is None else str(value)


def assess(
    checks: list[Check],
    findings: list[Finding],
    applied_errata: list[dict],
    errata_resolves: dict[str, list[str]],
    acknowledgements: list[Acknowledgement],
) -> list[dict]:
    """The quality_checks rows; raises if a finding is unexplained or an acknowledgement matches nothing."""
    by_id = {c.id: c for c in checks}
    index = {(a.check, a.table, a.key, a.column, a.expected, a.actual): a for a in acknowledgements}
    used: set[str] = set()
    rows, unexplained = [], []
    for finding in findings:
        row = finding.row
        ack = index.get(
            (finding.check.id, row["table_name"], row["record_key"], row["column_name"], row["expected"], row["actual"])
        )
        if ack is None:
            unexplained.append(finding)
            continue
        used.add(ack.id)
        rows.append(
            {
                "check_id": finding.check.id,
                "severity": finding.check.severity,
                "status": "acknowledged",
                **{k: row[k] for k in ("table_name", "record_key", "column_name", "expected", "actual", "message")},
                "explanation": f"{ack.id}: {ack.reason}",
            }
        )
    if unexplained:
        raise PipelineError(
            "check",
            failure_message(unexplained),
            hint="Correct the source value in errata/errata.yaml (with evidence) or explain why it "
            "stays in errata/acknowledged.yaml. Nothing was published.",
        )
    stale = sorted(a.id for a in acknowledgements if a.id not in used)
    if stale:
        raise PipelineError(
            "check",
            f"acknowledgements {', '.join(stale)} match no finding any more.",
            hint="Remove or update them in errata/acknowledged.yaml.",
        )
    for erratum in applied_errata:
        for check_id in errata_resolves.get(erratum["erratum_id"], []):
            if check_id not in by_id:
                raise PipelineError("check", f"erratum {erratum['erratum_id']} resolves unknown check {check_id!r}.")
            rows.append(
                {
                    "check_id": check_id,
                    "severity": by_id[check_id].severity,
                    "status": "corrected",
                    "table_name": erratum["table_name"],
                    "record_key": erratum["record_key"],
                    "column_name": erratum["column_name"],
                    "expected": erratum["value_after"],
                    "actual": erratum["value_before"],
                    "message": f"the source's value was corrected by erratum {erratum['erratum_id']}",
                    "explanation": f"{erratum['erratum_id']}: {erratum['evidence']}",
                }
            )
    with_findings = {f.check.id for f in findings}
    for check in checks:
        if check.id not in with_findings:
            rows.append(
                {
                    "check_id": check.id,
                    "severity": check.severity,
                    "status": "passed",
                    "table_name": check.table,
                    "record_key": "*",
                    "column_name": "*",
                    "expected": None,
                    "actual": None,
                    "message": check.description,
                    "explanation": None,
                }
            )
    return rows


def check_gaps(gaps: list[dict], path: Path = GAPS_FILE) -> None:
    """Every value published as null because the source lacks it must be a reviewed gap, and vice versa."""
    reviewed = read_reviewed(path, ("table", "key", "column", "note"), "gap", "check")
    expected = {(g["table"], format_key(g["key"]), g["column"]) for g in reviewed}
    found = {(g["table_name"], g["record_key"], g["column_name"]) for g in gaps}
    new, stale = sorted(found - expected), sorted(expected - found)
    if new:
        listed = "; ".join(f"table {t}, row {k}, column {c}" for t, k, c in new)
        raise PipelineError(
            "check",
            f"values the source no longer gives, not yet reviewed: {listed}.",
            hint=f"If the article really lost them, list them in {path.name}; otherwise the extraction lost them.",
        )
    if stale:
        listed = "; ".join(f"table {t}, row {k}, column {c}" for t, k, c in stale)
        raise PipelineError(
            "check",
            f"reviewed gaps in {path.name} that the source now fills: {listed}.",
            hint="Remove them from the file.",
        )


def gate(
    con, applied_errata: list[dict], checks: list[Check] | None = None, *, workers: int = 1, contents=None
) -> list[dict]:
    """The release's quality gate on a database holding the tables: every cross-check run, each finding
    corrected (an applied erratum that resolves it) or acknowledged; returns the quality_checks rows and
    raises on an unexplained finding or a stale acknowledgement. Used by publish and by check (`contents`:
    what the database holds, see run_checks)."""

    checks = checks if checks is not None else load_checks()
    findings = run_checks(con, checks, workers=workers, contents=contents)
    return assess(checks, findings, applied_errata, errata_resolves(), load_acknowledgements())


def outcome_counts(quality: list[dict]) -> dict[str, int]:
    """Checks and findings counted apart: how many checks found nothing and how many found something (a
    finding corrected by an erratum or acknowledged), and how many findings of each kind there are."""
    statuses: dict[str, set] = {}
    for row in quality:
        statuses.setdefault(row["check_id"], set()).add(row["status"])
    return {
        "checks": len(statuses),
        "clean_checks": sum(found == {"passed"} for found in statuses.values()),
        "checks_with_findings": sum(found != {"passed"} for found in statuses.values()),
        "corrected": sum(row["status"] == "corrected" for row in quality),
        "acknowledged": sum(row["status"] == "acknowledged" for row in quality),
    }


def outcome_summary(quality: list[dict]) -> str:
    """The outcome in one phrase, for the command line and the quality report."""
    c = outcome_counts(quality)
    return (
        f"{c['checks']} checks: {c['clean_checks']} found nothing, {c['checks_with_findings']} found "
        f"{c['corrected'] + c['acknowledged']} findings ({c['corrected']} corrected by errata, "
        f"{c['acknowledged']} acknowledged), none unexplained"
    )
