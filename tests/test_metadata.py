"""Tests of the metadata itself: complete, consistent, and strict about mistakes."""

import copy
import csv
import datetime

import pytest

from pipeline import ROOT, metadata
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml as _read
from pipeline.metadata import MetadataError, build_package
from pipeline.validate import validate


def changed(tables: dict[str, list[dict]], *names: str) -> dict[str, list[dict]]:
    """The tables, with a copy of each named one for a test to break: the others are the session's own,
    which validate only reads (a deep copy of every table, five times in a test, was a tenth of a second)."""
    return tables | {name: copy.deepcopy(tables[name]) for name in names}


@pytest.fixture(scope="module")
def raw_metadata():
    resources = {p.stem: _read(p) for p in sorted((ROOT / "schemas" / "resources").glob("*.yaml"))}
    return _read(ROOT / "schemas" / "package.yaml"), _read(ROOT / "schemas" / "fields.yaml"), resources


def test_every_defined_field_is_used():
    package = metadata.load()
    used = {f.name for p in (package, metadata.load_stations()) for r in p.resources for f in r.fields}
    assert set(package.defined_fields) - used == set()


def test_every_published_column_is_defined_and_documented(fresh_build):
    package = metadata.load()
    for resource in package.resources:
        with (fresh_build / "processed" / f"{resource.name}.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert header == resource.field_names, resource.name
        assert all(f.description for f in resource.fields) and resource.description


def test_same_name_same_type_everywhere():
    package = metadata.load()
    types = {}
    for resource in package.resources:
        for f in resource.fields:
            assert types.setdefault(f.name, f.type) == f.type, f.name


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p, f, r: f["votes"].update(type="int64"), "type 'int64' is not one of"),
        (lambda p, f, r: f["votes"].pop("description"), "field votes: no description"),
        (lambda p, f, r: f["votes"].pop("title"), "field votes: no title"),
        (lambda p, f, r: f["votes"].update(constraints={"minimun": 0}), "unknown constraints"),
        (lambda p, f, r: r["districts"]["fields"].append("no_such_field"), "'no_such_field' is not defined"),
        (lambda p, f, r: r["districts"]["fields"].append("region_id"), "a field is listed twice"),
        (lambda p, f, r: r["districts"].update(primary_key=["district_id"]), "key column 'district_id'"),
        (
            lambda p, f, r: r["regions"].update(
                foreign_keys=[
                    {"fields": ["region_id"], "reference": {"resource": "districts", "fields": ["region_id"]}}
                ]
            ),
            "must be listed before it",
        ),
        (lambda p, f, r: p["resources"].remove("exit_polls"), "schemas/package.yaml lists"),
        (lambda p, f, r: r["regions"].pop("description"), "resource regions: no description"),
    ],
)
def test_metadata_mistakes_are_refused(raw_metadata, mutate, message):
    package, fields, resources = copy.deepcopy(raw_metadata)
    mutate(package, fields, resources)
    with pytest.raises(MetadataError, match=message):
        build_package(package, fields, resources)


def test_generated_ddl_declares_keys_and_comments():
    ddl = metadata.duckdb_ddl(metadata.load())
    assert "PRIMARY KEY (district_number, candidate_rank)" in ddl
    assert "FOREIGN KEY (option_id) REFERENCES vote_options (option_id)" in ddl
    assert "COMMENT ON COLUMN party_list_results.votes IS 'Number of votes received, as published. Unit: votes.'" in ddl


def test_table_schema_marks_nullable_and_required_fields():
    schema = metadata.table_schema(metadata.load().resource("parties"))
    by_name = {f["name"]: f for f in schema["fields"]}
    assert by_name["party_full_name"]["constraints"]["required"] is False
    assert by_name["ballot_number"]["constraints"] == {"minimum": 1, "maximum": 7, "required": True}


def test_validation_rejects_a_bad_value_naming_table_row_and_column(tables):
    broken = changed(tables, "party_list_results")
    broken["party_list_results"][0]["vote_share_pct"] = 120.0
    with pytest.raises(PipelineError) as caught:
        validate(broken)
    message = str(caught.value)
    assert caught.value.table == "party_list_results"
    assert "row region_id=KZ-10, option_id=amanat, column vote_share_pct" in message and "120.0" in message


def test_validation_rejects_a_duplicate_key(tables):
    broken = changed(tables, "districts")
    broken["districts"].append(dict(broken["districts"][0]))
    with pytest.raises(PipelineError, match="table districts"):
        validate(broken)


def test_validation_rejects_a_null_in_a_required_column(tables):
    broken = changed(tables, "region_ballots")
    broken["region_ballots"][3]["turnout_pct"] = None
    with pytest.raises(PipelineError, match="column turnout_pct"):
        validate(broken)


def test_validation_names_every_kind_of_broken_constraint(tables):
    """Each constraint of schemas/ fires: pattern, enum, maximum, empty text, a repeated unique key. The
    tables are validated once, then each broken variant in the same connection with the memo (as the
    mutation suite does): only the changed table is loaded and checked again, against the same constraint
    queries; that the memo never hides a broken table is tested below, and the plain validation's error
    by the tests above."""
    import duckdb

    con, memo = duckdb.connect(config={"threads": 1}), {}
    validate(tables, con=con, memo=memo)
    cases = [
        ("parties", 0, "party_id", "Amanat!", "does not match the pattern"),
        ("parties", 0, "status_2021", "won", "not one of contested, new, boycotted"),
        ("region_ballots", 0, "turnout_pct", 101.0, "above the maximum 100"),
        ("regions", 0, "region_name", "", "empty text"),
    ]
    for table, index, column, value, reason in cases:
        broken = changed(tables, table)
        broken[table][index][column] = value
        with pytest.raises(PipelineError) as caught:
            validate(broken, con=con, memo=memo)
        assert caught.value.table == table and f"column {column}: {reason}" in str(caught.value), str(caught.value)
    broken = changed(tables, "districts")
    broken["districts"][1]["district_number"] = broken["districts"][0]["district_number"]
    with pytest.raises(PipelineError, match="column district_number: these values appear in 2 rows"):
        validate(broken, con=con, memo=memo)
    con.close()


def test_the_pandera_schemas_accept_every_published_table_and_catch_a_bad_value(fresh_build):
    """The pandera schemas generated from schemas/ are for users who validate the published tables in
    pandas: every CSV of a fresh build, read as a user would, passes its own schema."""
    import pandas as pd
    import pandera.errors

    processed = fresh_build / "processed"
    frames = {
        resource.name: pd.read_csv(processed / f"{resource.name}.csv", keep_default_na=False, na_values=[""])
        for resource in metadata.load().resources
    }
    for resource in metadata.load().resources:
        metadata.pandera_schema(resource).validate(frames[resource.name])
    bad = frames["party_list_results"].copy()
    bad.loc[0, "vote_share_pct"] = 120.0
    with pytest.raises(pandera.errors.SchemaError, match="vote_share_pct"):
        metadata.pandera_schema(metadata.load().resource("party_list_results")).validate(bad)


def test_validation_refuses_a_value_of_the_wrong_type_naming_table_row_and_column(tables):
    cases = [
        ("party_list_results", 0, "votes", "12", "'12' (str) is not a whole number"),
        ("party_list_results", 0, "votes", True, "True (bool) is not a whole number"),
        ("party_list_results", 0, "vote_share_pct", float("nan"), "nan (float) is not a finite number"),
        ("regions", 0, "region_name", 5, "5 (int) is not text"),
    ]
    for table, index, column, value, reason in cases:
        broken = changed(tables, table)
        broken[table][index][column] = value
        with pytest.raises(PipelineError) as caught:
            validate(broken)
        assert caught.value.table == table and caught.value.column == column, str(caught.value)
        assert reason in str(caught.value), str(caught.value)
    broken = changed(tables, "election_timetable")
    dated = next(r for r in broken["election_timetable"] if r["start_date"] is not None)
    dated["start_date"] = datetime.datetime.combine(dated["start_date"], datetime.time(12, 30))
    with pytest.raises(PipelineError, match="is not a date \\(without a time of day\\)"):
        validate(broken)


def test_a_record_with_an_unknown_column_is_refused(tables):
    broken = changed(tables, "regions")
    broken["regions"][0]["population"] = 1
    with pytest.raises(PipelineError, match="columns not in the schema"):
        validate(broken)


def test_a_view_column_without_a_description_is_refused():
    from pipeline.metadata import View, view_column_comment

    package = metadata.load()
    view = View(name="v", description="d", sql="", columns={"mystery_count": "explained"})
    assert view_column_comment(package, view, "mystery_count") == "explained"
    assert view_column_comment(package, view, "votes").startswith("Number of votes received")
    with pytest.raises(MetadataError, match="'unexplained' is neither a defined field"):
        view_column_comment(package, view, "unexplained")


def test_validation_memo_never_hides_a_broken_table(tables):
    """The mutation suite's memo skips tables that passed in the same connection; a table that failed
    must be checked again, and a table restored must hold its restored rows."""
    import duckdb

    from pipeline.validate import Validated

    con, memo = duckdb.connect(), {}
    validate(tables, con=con, memo=memo)
    broken = changed(tables, "region_ballots")
    broken["region_ballots"][3]["turnout_pct"] = 101.0
    for _ in range(2):
        with pytest.raises(PipelineError, match="column turnout_pct: above the maximum 100"):
            validate(broken, con=con, memo=memo)
    validate(tables, con=con, memo=memo)
    relation = Validated.relation("region_ballots")
    assert con.execute(f"SELECT max(turnout_pct) FROM {relation}").fetchone()[0] < 100
    assert con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0] == len(tables["region_ballots"])


def test_the_first_broken_table_in_order_is_reported_whatever_the_threads_do(tables):
    """The tables are loaded and checked in two threads; the error still names the first broken table of
    the package's order, every time."""
    broken = changed(tables, "exit_polls", "regions")
    broken["exit_polls"][0]["share_pct"] = 120.0  # late in the package's order
    broken["regions"][0]["region_name"] = ""  # first in the package's order
    for _ in range(3):
        with pytest.raises(PipelineError) as caught:
            validate(broken)
        assert caught.value.table == "regions", str(caught.value)


def test_a_field_defined_twice_is_refused_and_every_field_has_a_title(tmp_path):
    """fields.yaml is read strictly: a name given twice (source_text was, and the second definition's
    description replaced the first's in three tables) is an error, not the last one silently."""
    import yaml

    from pipeline import ROOT
    from pipeline.common.yamlfile import read_yaml

    text = (ROOT / "schemas" / "fields.yaml").read_text(encoding="utf-8")
    fields = read_yaml(ROOT / "schemas" / "fields.yaml", strict=True)
    assert (
        all(spec["title"] for spec in fields.values()) and fields["region_id"]["title"] == "Region code (ISO 3166-2:KZ)"
    )
    copy = tmp_path / "fields.yaml"
    copy.write_text(text + "source_text:\n  title: Again\n  type: string\n  description: Again.\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError, match="the key 'source_text' appears twice"):
        read_yaml(copy, strict=True)
