"""The release gate (pipeline/release/gate.py): what was released is re-derived at every build from the
committed history (the release list, the snapshots in raw/ it names, the acceptance records), never from
a published file, and any difference stops the build naming the rows, with nothing published.

Each way around the gate that a hostile review found (issue 20, items 1 to 4) is a test here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.release import gate, records
from tests.conftest import (
    NEXT,
    NEXT_DATE,
    add_snapshot,
    database,
    next_release,
    own_release_list,
    release_linked,
    replace_once,
    repository_releases,
    run_cli,
    tree_digest,
)

VERSION = repository_releases()[0]["version"]
# A value the article states once, with nothing to check it against: district 1's winner.
WINNER, EDITED_WINNER = "Däulet Turlyhanov", "Däulet Turlykhanov"
ROW = ("district_results", "district_number=1, candidate_rank=1", "candidate_name")
OUTPUTS = ("processed", "docs", "datapackage.json")


def record_path(root):
    return root / "releases" / "changes" / f"{NEXT}.yaml"


def stopped(result, *phrases: str) -> None:
    """The build stopped with one clear line (exit 1, no traceback) holding every phrase."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ["), last
    for phrase in phrases:
        assert phrase in last, last


def clean(root, folder):
    """A copy of the root without its published release (`make clean`)."""
    shutil.copytree(root, folder, ignore=shutil.ignore_patterns(*OUTPUTS, "build"))
    return folder


# The tests' roots are copies of a few published ones (fresh_build, `stopped_publish`, `accepted`) whose
# processed/ is linked, not copied (conftest's release_linked); no test here writes into processed/.


@dataclass
class Stopped:
    """A root after a publish that stopped, and what that publish said and left."""

    root: Path
    before: dict[str, str]  # the published release before the publish
    after: dict[str, str]  # and after it
    result: subprocess.CompletedProcess
    unaccepted: list[dict]  # build/changes/unaccepted.csv
    recorded: bool  # whether an acceptance was written


@pytest.fixture(scope="module")
def stopped_publish(tmp_path_factory, fresh_build, source_text) -> Stopped:
    """A published first release, and raw/ holding beside its snapshot a revision with one edit of a value
    the article states once (district 1's winner), entered as the next release; then a publish, which
    stops on the change nobody accepted (module scope: the tests copy it; its test is
    test_a_changed_snapshot_stops_with_its_diff_and_publishes_once_accepted)."""
    root = release_linked(fresh_build, tmp_path_factory.mktemp("stopped") / "root")
    text = replace_once(source_text, f"| {WINNER} |", f"| {EDITED_WINNER} |")
    next_release(root, add_snapshot(root, text))
    before = tree_digest(root)
    result = run_cli("publish", root=root)
    unaccepted = root / "build" / "changes" / "unaccepted.csv"
    listed = list(csv.DictReader(io.StringIO(unaccepted.read_text(encoding="utf-8")))) if unaccepted.is_file() else []
    return Stopped(root, before, tree_digest(root), result, listed, record_path(root).exists())


@pytest.fixture()
def edited(stopped_publish, tmp_path):
    """`stopped_publish`, copied: the next release's change not accepted yet."""
    return release_linked(stopped_publish.root, tmp_path / "root")


@pytest.fixture(scope="module")
def accepted(tmp_path_factory, stopped_publish):
    """`stopped_publish`, published once its change was accepted (module scope: the tests copy it)."""
    root = release_linked(stopped_publish.root, tmp_path_factory.mktemp("accepted") / "root")
    result = run_cli("publish", "--accept-changes", "A. Reviewer", root=root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture()
def accepted_copy(accepted, tmp_path):
    return release_linked(accepted, tmp_path / "accepted")


def test_a_changed_snapshot_stops_with_its_diff_and_publishes_once_accepted(
    stopped_publish, accepted, tmp_path, source_text
):
    """The publish of `stopped_publish` (a change nobody accepted), then the one of `accepted` (its root, with
    --accept-changes: the module's fixtures, made once), then on a copy the same snapshot again, and another."""
    first = stopped_publish
    result = first.result
    stopped(result, f"1 changed value of release {NEXT} is not accepted yet", "--accept-changes")
    assert f"{ROW[0]} [{ROW[1]}] {ROW[2]}: '{WINNER}' -> '{EDITED_WINNER}'" in result.stderr
    assert f"release {NEXT} has not recorded its tables yet (the same as the release before)" in result.stderr
    assert first.after == first.before and not first.recorded  # nothing published or recorded
    listed = first.unaccepted
    assert [(r["version"], r["difference"], r["column_name"], r["old_value"], r["new_value"]) for r in listed] == [
        (NEXT, "not accepted", "candidate_name", WINNER, EDITED_WINNER)
    ]

    (acceptance,) = yaml.safe_load(record_path(accepted).read_text(encoding="utf-8"))
    assert acceptance["accepted_by"] == "A. Reviewer" and acceptance["previous_version"] == VERSION
    assert acceptance["changes"] == [
        dict(zip(records.CHANGE_FIELDS, (*ROW, "changed", WINNER, EDITED_WINNER), strict=True))
    ]
    keys = ("snapshot_sha256", "previous_snapshot_sha256", "changes", "accepted_by", "accepted_at")
    assert acceptance["changes_sha256"] == records.digest(NEXT, VERSION, *(acceptance[k] for k in keys))
    con = duckdb.connect(str(database(accepted)), read_only=True)
    try:
        assert con.execute(
            "SELECT version, table_name, record_key, column_name, change_kind, old_value, new_value, accepted_by "
            "FROM release_changes"
        ).fetchall() == [(NEXT, *ROW, "changed", WINNER, EDITED_WINNER, "A. Reviewer")]
        assert con.execute("SELECT winner_name FROM district_races WHERE district_number = 1").fetchone() == (
            EDITED_WINNER,
        )
        assert con.execute("SELECT version, changed_values_count FROM releases ORDER BY version").fetchall() == [
            *((r["version"], 0) for r in reversed(repository_releases())),
            (NEXT, 1),
        ]
    finally:
        con.close()
    changes = (accepted / "docs" / "changes.md").read_text(encoding="utf-8")
    assert f"| {ROW[0]} | {ROW[1]} | {ROW[2]} | changed | {WINNER} | {EDITED_WINNER} | A. Reviewer" in changes

    release = tree_digest(accepted)
    root = release_linked(accepted, tmp_path / "again")  # (`accepted` is shared: the next publishes on a copy)
    again = run_cli("publish", root=root)  # the same snapshot again: nothing to accept, the same bytes
    assert again.returncode == 0 and tree_digest(root) == release
    text = replace_once(source_text, f"| {WINNER} |", "| Däulet Turlyhanov-Edit |")  # another snapshot
    add_snapshot(root, text)
    stopped(run_cli("publish", "--accept-changes", "A. Reviewer", root=root), "a new snapshot is a new release")
    assert tree_digest(root) == release


def test_every_release_is_re_derived_from_the_committed_history_after_make_clean(accepted, tmp_path):
    """Nothing published to compare with: the build recomputes every release's changes from the
    snapshots and publishes the same bytes."""
    root = clean(accepted, tmp_path / "clean")
    result = run_cli("publish", root=root)
    assert result.returncode == 0, result.stderr
    assert tree_digest(root) == tree_digest(accepted)


def forge(root, **changes) -> None:
    """Rewrite the (only) acceptance of NEXT by hand; `digest=True` also recomputes its changes_sha256
    as anyone reading the code can."""
    path = record_path(root)
    recompute = changes.pop("digest", False)
    (entry,) = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry |= changes
    if recompute:
        keys = ("version", "previous_version", "snapshot_sha256", "previous_snapshot_sha256", "changes")
        entry["changes_sha256"] = records.digest(*(entry[k] for k in keys), entry["accepted_by"], entry["accepted_at"])
    path.write_text(yaml.safe_dump([entry], allow_unicode=True, sort_keys=False), encoding="utf-8")


REAL = dict(zip(records.CHANGE_FIELDS, (*ROW, "changed", WINNER, EDITED_WINNER), strict=True))
FORGED = dict(zip(records.CHANGE_FIELDS, ("parties", "party_id=amanat", "leader_name", "changed", "Erlan Qoşanov",
                                          "Somebody"), strict=True))  # fmt: skip


@pytest.mark.parametrize(
    "forgery, phrases",
    [
        ({"changes": [REAL | {"new_value": "Somebody Else"}]}, ["edited after the pipeline wrote it"]),
        ({"changes": []}, ["edited after the pipeline wrote it"]),
        (
            {"changes": [REAL | {"new_value": "Somebody Else"}], "digest": True},
            ["differs from its changes recomputed", f"computed but not accepted: {ROW[0]}", "'Somebody Else'"],
        ),
        ({"changes": [], "digest": True}, ["differs from its changes recomputed", "computed but not accepted"]),
        (
            {"changes": [REAL, FORGED], "digest": True},
            ["accepted but not computed: parties [party_id=amanat] leader_name: 'Erlan Qoşanov' -> 'Somebody'"],
        ),
        (
            {"snapshot_sha256": "0" * 64, "digest": True},
            ["differs from its changes recomputed", f"it was accepted for snapshot_sha256 {'0' * 64}, but the"],
        ),
        ({"accepted_by": "Mallory"}, ["edited after the pipeline wrote it"]),
        ({"accepted_at": "2026-11-26T00:00:00Z"}, ["edited after the pipeline wrote it"]),
        (
            {"accepted_at": "2099-01-01T00:00:00Z", "digest": True},
            ["accepted_at 2099-01-01T00:00:00Z is in the future"],
        ),
        ({"changes": [REAL, REAL], "digest": True}, ["it records the value district_results"]),
    ],
    ids=[
        "value edited",
        "emptied",
        "value edited, digest redone",
        "emptied, digest redone",
        "row added",
        "snapshot",
        "who",
        "when",
        "when in the future",
        "a row twice",
    ],  # fmt: skip
)
def test_a_false_change_log_stops_the_build(accepted_copy, tmp_path, forgery, phrases):
    """Issue 20, items 1 and 3: an acceptance edited by hand (a value, the whole list, a row nobody was
    shown, with or without its digest redone) stops the build, also after `make clean` (the issue's own
    cases: a value edited, the list emptied, a row added)."""
    before = tree_digest(accepted_copy)
    emptied = forgery.get("changes") == []
    forge(accepted_copy, **forgery)
    stopped(run_cli("publish", root=accepted_copy), *phrases)
    assert tree_digest(accepted_copy) == before
    if emptied or FORGED in forgery.get("changes", []) or "Somebody Else" in str(forgery):
        root = clean(accepted_copy, tmp_path / "clean")
        stopped(run_cli("publish", root=root), *phrases)
        assert not (root / "processed").exists()


def test_a_key_appended_to_an_acceptance_is_refused(accepted_copy):
    """YAML keeps the last of two equal keys: appending `accepted_by: Bob` below an acceptance (so that the
    file only grows) would change who accepted it; a key given twice stops the build."""
    before = tree_digest(accepted_copy)
    with record_path(accepted_copy).open("a", encoding="utf-8") as file:
        file.write("  accepted_by: Bob\n")
    stopped(run_cli("publish", root=accepted_copy), "the key 'accepted_by' appears twice in one mapping")
    assert tree_digest(accepted_copy) == before


def test_a_hand_written_acceptance_is_refused(edited):
    """Issue 20, item 3: a record written from build/changes/unaccepted.csv without --accept-changes (the
    file the publish of `stopped_publish` wrote, when it stopped: test_a_changed_snapshot_...)."""
    with (edited / "build" / "changes" / "unaccepted.csv").open(encoding="utf-8") as file:
        rows = [{k: r[k] for k in records.CHANGE_FIELDS} for r in csv.DictReader(file)]
    sha = json.loads((edited / "raw" / "manifest.json").read_text(encoding="utf-8"))["snapshots"][-1]["sha256"]
    before = tree_digest(edited)
    record_path(edited).parent.mkdir(parents=True)
    old_form = [{"accepted_by": "x", "accepted_at": "2026-11-26T00:00:00Z", "snapshot_sha256": sha, "changes": rows}]
    record_path(edited).write_text(yaml.safe_dump(old_form, allow_unicode=True), encoding="utf-8")
    stopped(run_cli("publish", root=edited), "lacks version")
    assert tree_digest(edited) == before


def test_an_acceptance_is_appended_never_replaced(accepted_copy, source_text):
    """The newest release re-pointed at another snapshot before it is committed: the recomputed changes
    differ from the record, the build names the rows, and accepting again appends below the first
    acceptance, which stays byte for byte."""
    first = record_path(accepted_copy).read_bytes()
    text = replace_once(source_text, f"| {WINNER} |", "| Däulet Turlyhanov-Edit |")
    sha = add_snapshot(accepted_copy, text)
    own = accepted_copy / "releases" / "releases.yaml"
    entries = yaml.safe_load(own.read_text(encoding="utf-8"))
    entries[0]["snapshot_sha256"] = sha
    own.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    stopped(
        run_cli("publish", root=accepted_copy),
        "differs from its changes recomputed",
        "computed but not accepted: district_results",
        "'Däulet Turlyhanov-Edit'",
        "accepted but not computed: district_results",
    )
    result = run_cli("publish", "--accept-changes", "B. Reviewer", root=accepted_copy)
    assert result.returncode == 0, result.stderr
    body = record_path(accepted_copy).read_bytes()
    assert body.startswith(first)
    assert [a["accepted_by"] for a in yaml.safe_load(body)] == ["A. Reviewer", "B. Reviewer"]
    with (accepted_copy / "processed" / "release_changes.csv").open(encoding="utf-8") as file:
        assert [(r["new_value"], r["accepted_by"]) for r in csv.DictReader(file)] == [
            ("Däulet Turlyhanov-Edit", "B. Reviewer")
        ]


def test_the_published_descriptor_is_not_the_anchor(published_linked, source_text):
    """Issue 20, item 2: a new snapshot in raw/ (with its manifest entry), and the published descriptor
    edited to name it, or to carry a new version: the release list does not name the snapshot, so
    nothing is published."""
    sha = add_snapshot(published_linked, replace_once(source_text, f"| {WINNER} |", f"| {EDITED_WINNER} |"))
    descriptor = published_linked / "datapackage.json"
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    for edit in ({"sources": [package["sources"][0] | {"sha256": sha}]}, {"version": NEXT}):
        descriptor.write_text(json.dumps(package | edit, indent=2), encoding="utf-8")
        before = tree_digest(published_linked)
        stopped(run_cli("publish", root=published_linked), "which no release in releases/releases.yaml names")
        assert tree_digest(published_linked) == before
    manifest = json.loads((published_linked / "raw" / "manifest.json").read_text(encoding="utf-8"))
    manifest["current"] = manifest["snapshots"][0]["path"]  # back to the released snapshot: it publishes
    (published_linked / "raw" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert run_cli("publish", root=published_linked).returncode == 0


def _future() -> str:
    return f"{dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2):%Y.%m.%d}"


@pytest.mark.parametrize(
    "edit, phrase",
    [
        (lambda e: e[0].update(snapshot_sha256="0" * 64), "is no snapshot in raw/manifest.json"),
        (lambda e: e[0].update(version="2026.13.45"), "is not a version YYYY.MM.DD"),
        (lambda e: e[0].update(version="2026.11.24", release_date=dt.date(2026, 11, 24)), "versions must increase"),
        (lambda e: e[0].update(version="2026.11.27"), f"is not its release date {NEXT_DATE}"),
        (lambda e: e[0].update(version="2026.11.26.01"), "is not a version YYYY.MM.DD"),
        (
            lambda e: e[0].update(version=_future(), release_date=dt.date(*map(int, _future().split(".")))),
            "after today",
        ),
        (lambda e: e[0].update(previous_version="2026.11.20"), "but the release below it (newest first) is"),
        (lambda e: e[0].update(release_date="2026-11-26"), "is not a date"),
        (
            lambda e: e[-1].update(snapshot_sha256=e[0]["snapshot_sha256"]),
            "was retrieved 2026-11-26T12:00:00Z (raw/manifest.json), after",
        ),
        (
            lambda e: e.append(dict(e[1], version="2026.11.20", release_date=dt.date(2026, 11, 20))),
            "but the release below it (newest first) is",
        ),
    ],
    ids=[
        "unknown snapshot",
        "no such day",
        "older than its predecessor",
        "version is not the date",
        "suffix with a zero",
        "dated in the future",
        "wrong predecessor",
        "date as text",
        "first release re-pointed at a later snapshot",
        "a release added below the first",
    ],
)
def test_the_release_list_is_checked(accepted_copy, edit, phrase):
    """Issue 20, item 4: each published before; each now stops before anything is built."""
    own = accepted_copy / "releases" / "releases.yaml"
    entries = yaml.safe_load(own.read_text(encoding="utf-8"))
    edit(entries)
    own.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    before = tree_digest(accepted_copy)
    stopped(run_cli("publish", root=accepted_copy), phrase)
    assert tree_digest(accepted_copy) == before


def test_records_only_for_listed_releases_after_the_first(published_linked):
    first = repository_releases()[-1]["version"]
    for version, phrase in ((first, "the first release"), ("2026.11.30", "which releases/releases.yaml does not")):
        path = published_linked / "releases" / "changes" / f"{version}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[]\n", encoding="utf-8")
        own = published_linked / "releases" / "releases.yaml"
        if not own.is_file():
            own_release_list(published_linked, repository_releases())
        if version == first:
            acceptance = records.new(_first(published_linked), _first(published_linked), [], "x").entry()
            path.write_text(yaml.safe_dump([acceptance]), encoding="utf-8")
        stopped(run_cli("publish", root=published_linked), phrase)
        path.unlink()


def _first(root):
    from pipeline.release import history

    return history.load(root)[-1]


def test_a_code_change_that_alters_an_earlier_release_stops_the_build(accepted_copy, monkeypatch):
    """The changes of every release are recomputed with the code of the build: where the code now reads
    the two snapshots differently, the recorded acceptance no longer equals them, and the build names
    the rows (here the diff is altered in the process, as a changed extractor would)."""
    from pipeline.raw.snapshot import current_snapshot
    from pipeline.release import changes
    from pipeline.stages import source_tables

    snapshot = current_snapshot(accepted_copy / "raw" / "manifest.json")
    tables = source_tables(snapshot)
    verdict = gate.decide(accepted_copy, snapshot, tables)
    assert verdict.pending == [] and len(verdict.tables["release_changes"]) == 1
    real = changes.diff

    def reads_differently(old, new, package):
        return [c | {"new_value": c["new_value"].upper()} for c in real(old, new, package)]

    monkeypatch.setattr(changes, "diff", reads_differently)
    # The one question gets its answer at once: the recorded acceptance differs, so nothing is staged.
    with pytest.raises(
        PipelineError, match="computed but not accepted: .*'DÄULET TURLYKHANOV'.*accepted but not"
    ) as caught:
        gate.decide(accepted_copy, snapshot, tables)
    assert f"the acceptance of release {NEXT} (" in str(caught.value)
    recorded = gate.read_history(accepted_copy, snapshot).recorded[NEXT]
    assert [a.accepted_by for a in recorded] == ["A. Reviewer"]  # nothing was appended


def numbered_rules(text: str) -> list[str]:
    """The numbered rules ("1. ...") of a text, each as one line of words."""
    import re

    return [" ".join(rule.split()) for rule in re.findall(r"^\d\. (.*?)(?=^\d\. |\Z)", text, flags=re.M | re.S)]


def test_the_release_rules_of_the_docs_are_the_gates_own():
    """docs/releases.md states the decision in the words of the function that makes it."""
    docs = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    start, end = docs.index("<!-- rules:"), docs.index("<!-- /rules -->")
    block = docs[docs.index("\n", start) + 1 : end]
    code = gate.__doc__[gate.__doc__.index("1. ") : gate.__doc__.index("The tables releases")]
    assert len(numbered_rules(code)) == 5
    assert numbered_rules(block) == numbered_rules(code)
    assert numbered_rules(block.replace("stops the build", "warns")) != numbered_rules(code)


def _own_structures(root, keep: tuple[str, ...]):
    """The root's own release list (the repository's) and records of the tables of the releases in `keep`
    (copied from the repository's)."""
    folder = own_release_list(root, repository_releases()).parent / "structure"
    for record in folder.iterdir():
        if record.stem not in keep:
            record.unlink()
    return folder


def test_tables_the_newest_release_did_not_record_stop_the_build(published_linked):
    from pipeline.release import structure

    newest, first = VERSION, repository_releases()[-1]["version"]
    folder = _own_structures(published_linked, (first, newest))
    recorded = structure.read(ROOT / "releases", newest)
    tables = json.loads(json.dumps(recorded.tables))
    fields = tables["turnout_change"]["fields"]
    fields[:] = [f for f in fields if f["name"] != "regions_added_count"]  # the release published one column fewer
    next(f for f in fields if f["name"] == "turnout_pct")["type"] = "integer"  # and another type
    del tables["release_structure_changes"]
    structure.record(folder.parent, structure.new(newest, tables, "x"), [])
    before = tree_digest(published_linked)
    for arguments in ((), ("--accept-changes", "A. Reviewer")):  # a recorded release's tables never change
        result = run_cli("publish", *arguments, root=published_linked)
        stopped(result, f"other tables than release {newest} recorded", "table release_structure_changes added")
        assert "turnout_change.regions_added_count column added" in result.stderr
        assert "turnout_change.turnout_pct type changed" in result.stderr
        assert tree_digest(published_linked) == before
    text = (folder / f"{newest}.yaml").read_text(encoding="utf-8")
    (folder / f"{newest}.yaml").write_text(text.replace("accepted_by: x", "accepted_by: y"), encoding="utf-8")
    stopped(run_cli("publish", root=published_linked), "structure_sha256 is not the digest", "was edited")


def test_tables_a_new_release_changes_are_accepted_and_published(published_linked):
    newest, first = VERSION, repository_releases()[-1]["version"]
    folder = _own_structures(published_linked, (first,))  # the newest release has not recorded its tables
    before = tree_digest(published_linked)
    result = run_cli("publish", root=published_linked)
    stopped(
        result, f"release {newest} has not recorded its tables yet", "table district_coverage added", "--accept-changes"
    )
    assert tree_digest(published_linked) == before and not (folder / f"{newest}.yaml").exists()
    result = run_cli("publish", "--accept-changes", "A. Reviewer", root=published_linked)
    assert result.returncode == 0, result.stderr
    assert f"Recorded the tables of release {newest}" in result.stderr
    # (libyaml's safe loader, as pipeline/common/yamlfile.py reads: the same values, a tenth of the 0.2 s)
    written = yaml.load((folder / f"{newest}.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    assert written["accepted_by"] == "A. Reviewer" and "turnout_change" in written["tables"]
    con = duckdb.connect(str(database(published_linked)), read_only=True)
    try:
        rows = con.execute(
            "SELECT structure_change_kind, count(DISTINCT table_name), min(accepted_by) FROM release_structure_changes "
            "WHERE version = ? GROUP BY ALL ORDER BY 1",
            [newest],
        ).fetchall()
    finally:
        con.close()
    # 17 tables and 6 columns of forensic_tests added; two enumerations grew (vote_options.option_kind:
    # candidates and answers; forensic_calibration.scenario: national_targets)
    assert rows == [
        ("column_added", 1, "A. Reviewer"),
        ("constraints_changed", 2, "A. Reviewer"),
        ("table_added", 17, "A. Reviewer"),
    ]
    changes = (published_linked / "docs" / "changes.md").read_text(encoding="utf-8")  # (CHANGELOG.md: the same lines)
    assert "- table `turnout_change` added (8 columns)" in changes
    assert "- `forensic_tests.test_role`: column added (none -> string)" in changes


def test_every_release_before_the_newest_has_its_tables_recorded(published_linked):
    """A record is written when its release is first published and never removed: a release list whose
    older release has none (or an empty records folder) stops the build, never takes the schemas' word."""
    _own_structures(published_linked, (VERSION,))  # the first release's record gone
    first = repository_releases()[-1]["version"]
    for arguments in ((), ("--accept-changes", "A. Reviewer")):
        stopped(run_cli("publish", *arguments, root=published_linked), f"release {first} has no record of its tables")
    _own_structures(published_linked, ())
    stopped(run_cli("publish", root=published_linked), f"release {first} has no record of its tables")


def test_the_tables_compared_are_every_rule_a_reader_depends_on():
    """Beside tables and columns added or removed: a type, a column's constraints or unit, the columns'
    order, the primary key and a foreign key; the descriptions are prose, not structure."""
    from pipeline import metadata
    from pipeline.release import structure

    current = structure.of_package(metadata.load())
    assert structure.diff(current, current) == []

    def edited(change):
        tables = json.loads(json.dumps(current))
        change(tables["turnout_change"])
        return {(r["column_name"], r["structure_change_kind"]) for r in structure.diff(current, tables)}

    def reorder(t):
        t["fields"][4], t["fields"][5] = t["fields"][5], t["fields"][4]

    def field(t, name):
        return next(f for f in t["fields"] if f["name"] == name)

    assert edited(reorder) == {("turnout_pct", "order_changed"), ("earlier_turnout_pct", "order_changed")}
    assert edited(lambda t: field(t, "turnout_pct")["constraints"].update(maximum=110)) == {
        ("turnout_pct", "constraints_changed")
    }
    assert edited(lambda t: field(t, "turnout_pct").update(unit="points")) == {("turnout_pct", "constraints_changed")}
    assert edited(lambda t: field(t, "turnout_pct").update(type="integer")) == {("turnout_pct", "type_changed")}
    assert edited(lambda t: t["primaryKey"].remove("protocol_version")) == {("protocol_version", "key_changed")}
    assert edited(lambda t: t["foreignKeys"].pop()) == {("earlier_election_id", "foreign_key_changed")}
    assert edited(lambda t: t.update(missingValues=["", "NA"])) == {("(missingValues)", "table_rules_changed")}
    regions = json.loads(json.dumps(current))
    regions["regions"]["uniqueKeys"] = []
    assert [r["structure_change_kind"] for r in structure.diff(current, regions)] == ["table_rules_changed"]
    both = json.loads(json.dumps(current))  # a type and the constraints changed together: two rows
    field(both["turnout_change"], "turnout_pct").update(type="integer", unit="points")
    assert len(structure.diff(current, both)) == 2
    views = json.loads(json.dumps(current))  # a view of the database is compared by its query
    views["national_summary"]["view"] += " LIMIT 1"
    assert [(r["table_name"], r["structure_change_kind"]) for r in structure.diff(current, views)] == [
        ("national_summary", "view_changed")
    ]
    described = json.loads(json.dumps(current))  # the descriptions are left out of what is compared
    field(described["turnout_change"], "turnout_pct")["description"] = "other words"
    assert (
        structure.diff(
            current, {k: structure.without_descriptions(v) if "fields" in v else v for k, v in described.items()}
        )
        == []
    )
    assert structure.view_query("-- description: the summary\nSELECT 1") == structure.view_query("SELECT  1")


def test_a_new_release_records_its_tables_even_when_they_did_not_change(published_linked):
    """A release of the same snapshot and the same tables still records them when first published, so
    that no later schema change can be accepted as its own."""
    entries = repository_releases()
    own_release_list(published_linked, [entries[0] | {"version": NEXT, "previous_version": VERSION}, *entries])
    result = run_cli("publish", root=published_linked)
    stopped(result, f"release {NEXT} has not recorded its tables yet (the same as the release before)")
    result = run_cli("publish", "--accept-changes", "A. Reviewer", root=published_linked)
    assert result.returncode == 0, result.stderr
    assert (published_linked / "releases" / "structure" / f"{NEXT}.yaml").is_file()
    assert f"Recorded the tables of release {NEXT}" in result.stderr and "the same tables" in result.stderr


def test_a_stray_or_damaged_record_of_tables_stops_the_build(published_linked):
    from pipeline.release import structure

    folder = _own_structures(published_linked, (VERSION, repository_releases()[-1]["version"]))
    stray = folder / "2099.01.01.yaml"
    shutil.copy(folder / f"{VERSION}.yaml", stray)
    result = run_cli("publish", root=published_linked)
    stopped(result, "releases/structure/2099.01.01.yaml is a record of release 2099.01.01")
    stray.unlink()
    recorded = structure.read(folder.parent, VERSION)
    tables = json.loads(json.dumps(recorded.tables))
    del tables["regions"]["fields"][0]["type"]  # a column without its type, under a digest made anew
    structure.record(folder.parent, structure.new(VERSION, tables, "x"), [])
    stopped(run_cli("publish", root=published_linked), "each table needs its fields (each named and typed)")
