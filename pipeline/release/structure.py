"""What each release publishes (releases/structure/VERSION.yaml): its tables, each with its Table Schema
as datapackage.json gives it but the descriptions (its columns in order, with their types, units and
constraints, its primary and foreign keys). Every release has a record, written once by
`publish --accept-changes` when the release is first published and never edited (its own digest, and
tests/test_release_history.py on the git history).

Every build compares the schemas with the newest release's tables: where it has a record, any difference
stops the build (a published release's tables never change under its version: a table or column added,
removed, retyped, reordered, re-constrained or re-keyed is a new release); where it has none yet, its
tables wait for --accept-changes, like changed values. A release before the newest without a record stops
the build. The differences between consecutive releases are the table release_structure_changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.errors import PipelineError

HEADER = (
    "# The tables release {version} publishes: each table's Table Schema as datapackage.json gives it, but\n"
    "# the descriptions (its columns in order, with their types, units and constraints; its keys). Written by\n"
    "# the pipeline (publish --accept-changes), never edited: structure_sha256 binds it to the release, and\n"
    "# every build compares the schemas with the newest release's tables.\n"
)


@dataclass(frozen=True)
class Structure:
    """One release's recorded structure."""

    version: str
    accepted_by: str
    accepted_at: dt.datetime  # naive UTC
    tables: dict  # table name -> its Table Schema without descriptions (metadata.table_schema)

    def entry(self) -> dict:
        from pipeline.release.records import stamp

        return {
            "version": self.version,
            "accepted_by": self.accepted_by,
            "accepted_at": stamp(self.accepted_at),
            "structure_sha256": _digest(self.version, self.accepted_by, stamp(self.accepted_at), self.tables),
            "tables": self.tables,
        }


def of_package(package) -> dict:
    """The structure the schemas give: every published table, in the package's order."""
    from pipeline import metadata

    tables = {}
    for r in package.resources:
        tables[r.name] = without_descriptions(metadata.table_schema(r))
        if r.unique:
            tables[r.name]["uniqueKeys"] = [list(group) for group in r.unique]
    for view in package.views:  # a view of the database is published too: its query
        tables[view.name] = {"view": view_query(view.sql)}
    return tables


def view_query(sql: str) -> str:
    """A view's query as a record holds it: without its comments (its name and descriptions), spaced once."""
    return " ".join(" ".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).split())


PROSE = {"description", "title"}  # a column's words for readers: edited freely, never a change of structure


def without_descriptions(schema: dict) -> dict:
    """A Table Schema as a record holds it: what a reader's code depends on, not the prose."""
    return {**schema, "fields": [{k: v for k, v in f.items() if k not in PROSE} for f in schema["fields"]]}


def path_of(folder: Path, version: str) -> Path:
    """A release's record, beside its release list (releases/structure/)."""
    return folder / "structure" / f"{version}.yaml"


def read(folder: Path, version: str) -> Structure | None:
    """The recorded structure of a release, checked for its form and own digest; None without a record."""
    import yaml

    from pipeline.common.yamlfile import read_yaml, yaml_reason
    from pipeline.release.records import _utc, stamp

    path = path_of(folder, version)
    if not path.is_file():
        return None
    stamp_of = path.stat()
    known = _READ.get(path)
    if known is not None and known[0] == (stamp_of.st_ino, stamp_of.st_size, stamp_of.st_mtime_ns):
        return known[1]  # (read and checked before in this process: the commands call this per build)
    try:  # (parsed once: the build cache keeps the parse of these bytes)
        entry = read_yaml(path, strict=True, stage="releases")
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise PipelineError("releases", f"cannot read {path}: {yaml_reason(error)}.") from None
    fields = {"version", "accepted_by", "accepted_at", "structure_sha256", "tables"}
    if not isinstance(entry, dict) or set(entry) != fields:
        raise PipelineError("releases", f"{path.name}: expected the fields {', '.join(sorted(fields))}.")
    tables = entry["tables"]
    if not isinstance(tables, dict) or not all(
        isinstance(t, dict)
        and (
            isinstance(t.get("view"), str)
            or isinstance(t.get("fields"), list)
            and all(isinstance(f, dict) and isinstance(f.get("name"), str) and "type" in f for f in t["fields"])
            and isinstance(t.get("primaryKey"), list)
        )
        for t in tables.values()
    ):
        raise PipelineError(
            "releases", f"{path.name}: each table needs its fields (each named and typed) and primaryKey, or its view."
        )
    if entry["version"] != version:
        raise PipelineError("releases", f"{path.name}: it names release {entry['version']!r}, not {version}.")
    try:
        accepted_at = _utc(entry["accepted_at"])
    except (TypeError, ValueError):
        raise PipelineError("releases", f"{path.name}: accepted_at {entry['accepted_at']!r} is not a time.") from None
    own = _digest(version, entry["accepted_by"], stamp(accepted_at), tables)
    if own != entry["structure_sha256"]:
        raise PipelineError(
            "releases",
            f"{path.name}: its structure_sha256 is not the digest of what it records ({own[:12]}...): the record "
            "was edited after the pipeline wrote it. Restore it (git checkout) and publish again.",
        )
    structure = Structure(version, entry["accepted_by"], accepted_at, tables)
    _READ[path] = ((stamp_of.st_ino, stamp_of.st_size, stamp_of.st_mtime_ns), structure)
    return structure


_READ: dict = {}  # path -> (its inode, size and modification time, the record read from it)


def record(folder: Path, structure: Structure, differences: list[dict], note: str = "") -> Path:
    """Write a release's structure into the release list's own structure/ and say so."""
    import sys

    import yaml

    from pipeline.common.files import write_atomically

    path = path_of(folder, structure.version)
    text = yaml.safe_dump(structure.entry(), allow_unicode=True, sort_keys=False, width=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER.format(version=structure.version) + "".join(f"# {line}\n" for line in note.splitlines())
    write_atomically(path, (header + text).encode("utf-8"))
    what = phrase(differences) or "the same tables as the release before it"
    print(f"Recorded the tables of release {structure.version} ({path}): {what}.", file=sys.stderr)
    return path


def not_recorded(folder: Path, version: str, differences: list[dict]) -> PipelineError:
    """The stop for tables the newest release (without a record of its own) has not accepted yet."""
    return PipelineError(
        "publish",
        f"release {version} has not recorded its tables yet ({phrase(differences) or 'the same as the release before'}"
        f"), so nothing was published. Review them, then publish with --accept-changes 'Your Name' (written to "
        f"{path_of(folder, version)}).",
    )


def new(version: str, tables: dict, who: str) -> Structure:
    return Structure(version, who, dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None), tables)


def diff(old: dict, new: dict) -> list[dict]:
    """The differences from one structure to the next: one row per column (a table added or removed: each
    of its columns), with what it was and what it is (a type, a column's constraints as JSON, its position
    among the columns both keep, its place in the primary key, a foreign key)."""
    rows = []

    def row(table, column, kind, before, after):
        rows.append(
            {
                "table_name": table,
                "column_name": column,
                "structure_change_kind": kind,
                "old_value": before,
                "new_value": after,
            }
        )

    for table in sorted(old.keys() | new.keys()):
        if "view" in old.get(table, {}) or "view" in new.get(table, {}):
            before, after = old.get(table, {}).get("view"), new.get(table, {}).get("view")
            if before != after:
                row(table, "(view)", "view_changed", before, after)
            continue
        if table not in new or table not in old:
            kind, schema = ("table_removed", old[table]) if table not in new else ("table_added", new[table])
            for f in schema["fields"]:
                row(table, f["name"], kind, *((f["type"], None) if table not in new else (None, f["type"])))
            continue
        before = {f["name"]: f for f in old[table]["fields"]}
        after = {f["name"]: f for f in new[table]["fields"]}
        for column in sorted(before.keys() | after.keys()):
            if column not in after:
                row(table, column, "column_removed", before[column]["type"], None)
            elif column not in before:
                row(table, column, "column_added", None, after[column]["type"])
            else:
                if before[column]["type"] != after[column]["type"]:
                    row(table, column, "type_changed", before[column]["type"], after[column]["type"])
                if _rules(before[column]) != _rules(after[column]):
                    row(
                        table,
                        column,
                        "constraints_changed",
                        _json(_rules(before[column])),
                        _json(_rules(after[column])),
                    )
        kept_before = [c for c in before if c in after]
        kept_after = [c for c in after if c in before]
        for column in kept_before:
            if kept_before.index(column) != kept_after.index(column):
                row(table, column, "order_changed", str(kept_before.index(column)), str(kept_after.index(column)))
        keys_before, keys_after = old[table]["primaryKey"], new[table]["primaryKey"]
        for column in sorted(set(keys_before) | set(keys_after)):
            if _place(keys_before, column) != _place(keys_after, column):
                row(table, column, "key_changed", _place(keys_before, column), _place(keys_after, column))
        for key in sorted((old[table].keys() | new[table].keys()) - {"fields", "primaryKey", "foreignKeys"}):
            if old[table].get(key) != new[table].get(key):  # unique keys, missing values: the table's own rules
                row(table, f"({key})", "table_rules_changed", _json(old[table].get(key)), _json(new[table].get(key)))
        foreign_before, foreign_after = _foreign(old[table]), _foreign(new[table])
        for fields in sorted(foreign_before.keys() | foreign_after.keys()):
            if foreign_before.get(fields) != foreign_after.get(fields):
                row(table, fields, "foreign_key_changed", foreign_before.get(fields), foreign_after.get(fields))
    return rows


def _rules(field: dict) -> dict:
    """A column's unit, format and constraints."""
    return {k: v for k, v in field.items() if k not in ("name", "type")}


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _place(key: list, column: str) -> str:
    return f"key column {key.index(column) + 1}" if column in key else "not in the key"


def _foreign(schema: dict) -> dict[str, str]:
    """A table's foreign keys: its columns (joined by '+') -> the table and columns they name."""
    return {
        "+".join(fk["fields"]): f"{fk['reference']['resource']}({', '.join(fk['reference']['fields'])})"
        for fk in schema.get("foreignKeys", [])
    }


def phrase(rows: list[dict], limit: int = 6) -> str:
    """The differences in a sentence (tables added or removed named once)."""
    parts, seen = [], set()
    for r in rows:
        kind = r["structure_change_kind"]
        if kind in ("table_added", "table_removed"):
            if (r["table_name"], kind) not in seen:
                seen.add((r["table_name"], kind))
                parts.append(f"table {r['table_name']} {kind.split('_')[1]}")
        else:
            parts.append(f"{r['table_name']}.{r['column_name']} {kind.replace('_', ' ')}")
    shown = "; ".join(parts[:limit])
    return shown + (f" and {len(parts) - limit} more" if len(parts) > limit else "")


def _digest(version: str, who: str, when: str, tables: dict) -> str:
    body = json.dumps(
        {"version": version, "accepted_by": who, "accepted_at": when, "tables": tables},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def compare(releases: list, recorded: dict, current: dict, folder: Path) -> list[dict] | None:
    """The schemas' tables against the newest release's: None where it recorded them and they are equal;
    where it has no record yet, the differences from its predecessor's tables (perhaps none) that its
    record, to be accepted, will hold; a stop where a recorded release's tables differ, or where a release
    before the newest has no record."""
    missing = [r.version for r in releases[1:] if recorded.get(r.version) is None]
    if missing:
        raise PipelineError(
            "releases",
            f"release {missing[0]} has no record of its tables ({path_of(folder, missing[0])}): every release "
            "records them when it is first published, and a record is never removed; nothing was published.",
        )
    newest = releases[0]
    if recorded.get(newest.version) is not None:
        differences = diff(recorded[newest.version].tables, current)
        if recorded[newest.version].tables != current:  # (any difference: diff names what it can)
            differences = differences or [
                {"table_name": "(tables)", "column_name": "(any)", "structure_change_kind": "?"}
            ]
            raise PipelineError(
                "publish",
                f"the schemas publish other tables than release {newest.version} recorded "
                f"({path_of(folder, newest.version)}): {phrase(differences)}. A released version's tables never "
                "change: add a release to releases/releases.yaml (the same snapshot is fine), then publish with "
                "--accept-changes 'Your Name'; nothing was published.",
            )
        return None
    return diff(recorded[releases[1].version].tables, current) if len(releases) > 1 else []


def rows(releases: list, recorded: dict, now: Structure | None) -> list[dict]:
    """release_structure_changes: each release's tables against its predecessor's (`now`: the newest
    release's, accepted by this run); a first release's tables are not changes."""
    recorded = recorded | ({now.version: now} if now else {})
    out = []
    for release, previous in zip(releases[:-1], releases[1:], strict=True):
        record, before = recorded.get(release.version), recorded.get(previous.version)
        if record is None or before is None:
            continue
        who = {"accepted_by": record.accepted_by, "accepted_at": record.accepted_at}
        pair = (id(before), id(record))  # (a record read once per process is the same object)
        if _DIFFS.get(pair, ((None, None),))[0] != (before, record):
            _DIFFS[pair] = ((before, record), diff(before.tables, record.tables))
        out += [{"version": release.version, **change, **who} for change in _DIFFS[pair][1]]
    return out


_DIFFS: dict = {}  # (id, id) of two records -> (the records, their differences)
