"""Tests of the metadata itself: complete, consistent, and strict about mistakes."""

import copy
import csv

import pytest

from pipeline import ROOT, metadata
from pipeline.errors import PipelineError
from pipeline.metadata import MetadataError, build_package
from pipeline.validate import to_frames
from pipeline.yamlfile import read_yaml as _read


@pytest.fixture(scope="module")
def raw_metadata():
    resources = {p.stem: _read(p) for p in sorted((ROOT / "schemas" / "resources").glob("*.yaml"))}
    return _read(ROOT / "schemas" / "package.yaml"), _read(ROOT / "schemas" / "fields.yaml"), resources


def test_every_defined_field_is_used():
    package = metadata.load()
    used = {f.name for r in package.resources for f in r.fields}
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
    broken = copy.deepcopy(tables)
    broken["party_list_results"][0]["vote_share_pct"] = 120.0
    with pytest.raises(PipelineError) as caught:
        to_frames(broken)
    message = str(caught.value)
    assert caught.value.table == "party_list_results"
    assert "row region_id=KZ-10, option_id=amanat, column vote_share_pct" in message and "120.0" in message


def test_validation_rejects_a_duplicate_key(tables):
    broken = copy.deepcopy(tables)
    broken["districts"].append(dict(broken["districts"][0]))
    with pytest.raises(PipelineError, match="table districts"):
        to_frames(broken)


def test_validation_rejects_a_null_in_a_required_column(tables):
    broken = copy.deepcopy(tables)
    broken["region_ballots"][3]["turnout_pct"] = None
    with pytest.raises(PipelineError, match="column turnout_pct"):
        to_frames(broken)


def test_validation_names_every_kind_of_broken_constraint(tables):
    """Each constraint of schemas/ fires: pattern, enum, maximum, empty text, a repeated unique key."""
    cases = [
        ("parties", 0, "party_id", "Amanat!", "does not match the pattern"),
        ("parties", 0, "status_2021", "won", "not one of contested, new, boycotted"),
        ("region_ballots", 0, "turnout_pct", 101.0, "above the maximum 100"),
        ("regions", 0, "region_name", "", "empty text"),
    ]
    for table, index, column, value, reason in cases:
        broken = copy.deepcopy(tables)
        broken[table][index][column] = value
        with pytest.raises(PipelineError) as caught:
            to_frames(broken)
        assert caught.value.table == table and f"column {column}: {reason}" in str(caught.value), str(caught.value)
    broken = copy.deepcopy(tables)
    broken["districts"][1]["district_number"] = broken["districts"][0]["district_number"]
    with pytest.raises(PipelineError, match="column district_number: these values appear in 2 rows"):
        to_frames(broken)


def test_the_pandera_schemas_accept_every_published_table_and_catch_a_bad_value(frames):
    """The pandera schemas generated from schemas/ are for users who validate the tables in pandas."""
    import pandera.errors

    for resource in metadata.load().from_source:
        metadata.pandera_schema(resource).validate(frames[resource.name])
    bad = frames["party_list_results"].copy()
    bad.loc[0, "vote_share_pct"] = 120.0
    with pytest.raises(pandera.errors.SchemaError, match="vote_share_pct"):
        metadata.pandera_schema(metadata.load().resource("party_list_results")).validate(bad)


def test_a_record_with_an_unknown_column_is_refused(tables):
    broken = copy.deepcopy(tables)
    broken["regions"][0]["population"] = 1
    with pytest.raises(PipelineError, match="columns not in the schema"):
        to_frames(broken)


def test_a_view_column_without_a_description_is_refused():
    from pipeline.metadata import View, view_column_comment

    package = metadata.load()
    view = View(name="v", description="d", sql="", columns={"mystery_count": "explained"})
    assert view_column_comment(package, view, "mystery_count") == "explained"
    assert view_column_comment(package, view, "votes").startswith("Number of votes received")
    with pytest.raises(MetadataError, match="'unexplained' is neither a defined field"):
        view_column_comment(package, view, "unexplained")
