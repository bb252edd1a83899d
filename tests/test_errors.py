"""Bad input gets a clear error naming stage, table, row and column, and publishes nothing."""

import pytest

from pipeline.common.errors import PipelineError
from pipeline.raw.snapshot import current_snapshot
from tests.conftest import extract_text, make_root, replace_once, root_with_release, run_cli, tree_digest

PAVLODAR = "| Pavlodar Region | 512,343 | 199,160 |"
PARTY_LIST_HEADER = "| Region | Registered voters | Amanat | Auyl |"


def extraction_error(text: str) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        extract_text(text)
    return caught.value


def test_unknown_region_name(source_text):
    error = extraction_error(replace_once(source_text, PAVLODAR, "| Pavlodarr Region | 512,343 | 199,160 |"))
    assert (error.stage, error.table, error.row, error.column) == (
        "extract",
        "party_list_results",
        "Pavlodarr Region",
        "region_id",
    )
    assert "unknown region name 'Pavlodarr Region'" in str(error)


def test_unparseable_number_names_table_row_and_column(source_text):
    error = extraction_error(replace_once(source_text, PAVLODAR, "| Pavlodar Region | 512,34x | 199,160 |"))
    assert (error.table, error.row, error.column) == ("region_ballots", "region_id=KZ-55", "registered_voters_count")
    assert "'512,34x'" in str(error)


def test_unknown_header(source_text):
    error = extraction_error(
        replace_once(source_text, PARTY_LIST_HEADER, "| Region | Registered voters | Amanatt | Auyl |")
    )
    assert error.table == "party_list_results" and "unexpected column header 'Amanatt'" in str(error)


def test_missing_table(source_text):
    error = extraction_error(replace_once(source_text, "==== Party-list vote ====", "==== Party list ===="))
    assert "expected one table under the heading 'Party-list vote'" in str(error)


def test_missing_region_row(source_text):
    line = next(text for text in source_text.splitlines() if text.startswith(PAVLODAR))
    error = extraction_error(replace_once(source_text, line + "\n", ""))
    assert (error.table, error.column) == ("party_list_results", "region_id")
    assert "regions without a row: KZ-43, KZ-55" in str(error)


def test_duplicate_region_row(source_text):
    line = next(text for text in source_text.splitlines() if text.startswith("| Pavlodar Region | 512,343"))
    error = extraction_error(replace_once(source_text, line, line + "\n" + line))
    assert "regions appear twice: KZ-55" in str(error)


def test_stale_erratum_stops_the_build(source_text):
    error = extraction_error(replace_once(source_text, "| 248.291 |", "| 248,290 |"))
    assert (error.table, error.column) == ("national_party_list_results", "votes")
    assert "erratum E001 expects the source to show '248.291' but it shows '248,290'" in str(error)


def test_an_erratum_the_source_itself_now_corrects_is_not_applied(source_text, tables):
    """A later revision that shows the corrected value: E001 no longer applies (nothing to correct), is
    not an error, and stays in errata/errata.yaml for the earlier snapshot that needs it."""
    fixed = extract_text(replace_once(source_text, "| 248.291 |", "| 248,291 |"))
    assert "E001" not in {row["erratum_id"] for row in fixed["errata"]}
    assert "E001" in {row["erratum_id"] for row in tables["errata"]}
    assert fixed["national_party_list_results"] == tables["national_party_list_results"]


def test_an_earlier_snapshot_may_lack_the_cells_of_later_errata():
    """An erratum naming a row that an earlier release's snapshot does not have yet is an error in the
    current snapshot only (an earlier one is read to recompute the changes of the releases)."""
    from pipeline.extract.context import Extraction
    from pipeline.extract.errata import Erratum
    from pipeline.metadata.codes import Reference

    erratum = Erratum("E999", "parties", "party_id=new", "leader_name", "A", "B", "a later row")
    errata = {(erratum.table, erratum.key, erratum.column): erratum}
    Extraction(Reference.load(), errata, earlier=True).check_errata_used()
    with pytest.raises(PipelineError, match="errata E999 name cells the extractor never read"):
        Extraction(Reference.load(), errata).check_errata_used()


def test_changed_snapshot_is_refused(tmp_path):
    root = make_root(tmp_path)
    snapshot = root / "raw" / "2023_Kazakh_legislative_election.txt"
    snapshot.write_bytes(snapshot.read_bytes().replace(b"3,431,510", b"3,431,511"))
    with pytest.raises(PipelineError, match="has changed: its sha256 is"):
        current_snapshot(root / "raw" / "manifest.json")


def test_cli_reports_an_error_without_traceback_and_keeps_the_release(published_copy, source_text):
    before = tree_digest(published_copy)
    snapshot = published_copy / "raw" / "2023_Kazakh_legislative_election.txt"
    snapshot.write_text(replace_once(source_text, PAVLODAR, "| Pavlodarr Region | 512,343 | 199,160 |"))
    result = run_cli("publish", root=published_copy)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: [raw]") and "has changed" in result.stderr
    assert tree_digest(published_copy) == before


def test_cli_failed_extraction_keeps_the_release(tmp_path, fresh_build, source_text):
    root = root_with_release(
        tmp_path / "bad", replace_once(source_text, PAVLODAR, "| Pavlodarr Region | 512,343 | 199,160 |"), fresh_build
    )
    before = tree_digest(root)
    result = run_cli("publish", root=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: [extract] table party_list_results, row Pavlodarr Region, column region_id" in result.stderr
    assert tree_digest(root) == before


def test_expected_failures_print_one_paragraph_and_exit_1(capsys, tmp_path):
    from pipeline.cli import main

    root = make_root(tmp_path)
    (root / "raw" / "manifest.json").write_text('{"current": "x.txt", "snapshots": [{"path": "x.txt"}]}')
    assert main(["--root", str(root), "verify-raw"]) == 1
    err = capsys.readouterr().err
    assert err == "error: [raw] the manifest entry of x.txt has no sha256 (64 hex digits).\n"


def test_unexpected_exceptions_keep_their_traceback(monkeypatch):
    from pipeline import cli

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "verify-raw", (broken, "broken"))
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["verify-raw"])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b"\xff\xfe not text", "is not valid UTF-8 (byte 0"),
    ],
)
def test_empty_and_undecodable_snapshots(tmp_path, data, message):
    root = make_root(tmp_path)
    snapshot = root / "raw" / "2023_Kazakh_legislative_election.txt"
    snapshot.write_bytes(data)
    manifest = root / "raw" / "manifest.json"
    import hashlib
    import json

    content = json.loads(manifest.read_text())
    content["snapshots"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    content["snapshots"][0]["bytes"] = len(data)
    manifest.write_text(json.dumps(content))
    result = run_cli("validate", root=root)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_option_column_is_an_error_not_a_crash(source_text):
    error = extraction_error(
        replace_once(source_text, PARTY_LIST_HEADER, "| Region | Registered voters | Undecided | Auyl |")
    )
    assert (error.table, error.row) == ("party_list_results", "header") and "every ballot option" in str(error)


def test_a_blank_debate_organiser_is_an_error_not_a_crash(source_text):
    error = extraction_error(replace_once(source_text, "| 21:00 | KTK |", "| 21:00 |  |"))
    assert (error.table, error.column) == ("debates", "organiser_name")


@pytest.mark.parametrize("manifest", ["[]", '{"current": "x.txt", "snapshots": [{"sha256": "0"}]}', '"text"'])
def test_a_malformed_manifest_is_an_error_not_a_crash(tmp_path, manifest):
    root = make_root(tmp_path)
    (root / "raw" / "manifest.json").write_text(manifest)
    result = run_cli("verify-raw", root=root)
    assert result.returncode == 1 and result.stderr.startswith("error: [raw]") and "Traceback" not in result.stderr
