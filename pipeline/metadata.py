"""The single metadata source (schemas/) and what is generated from it.

schemas/fields.yaml defines every column once; schemas/resources/<table>.yaml lists a table's
columns, keys and description; schemas/package.yaml gives the package metadata and the table order.
From these come the Frictionless Table Schemas (datapackage.json), the pandera schemas (validate
stage), the DuckDB DDL with comments (publish stage) and the data dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline import ROOT
from pipeline.yamlfile import read_yaml

SCHEMAS = ROOT / "schemas"
TYPES = {"string", "integer", "number", "boolean", "date", "datetime"}
FIELD_KEYS = {"type", "description", "unit", "constraints", "example"}
RESOURCE_KEYS = {
    "produced_by",
    "name",
    "title",
    "description",
    "origin",
    "fields",
    "primary_key",
    "foreign_keys",
    "unique",
    "row_count",
}
CONSTRAINTS = {"required", "unique", "minimum", "maximum", "pattern", "enum"}


class MetadataError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    unit: str | None = None
    constraints: dict = field(default_factory=dict)
    example: str | None = None

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required", True))


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    description: str
    origin: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    row_count: int | None = None  # rows the source gives; a lost or added row must be reviewed
    produced_by: str = "source"  # "source": extracted or derived; "checks": written by the quality gate

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class View:
    name: str
    description: str
    sql: str
    columns: dict = field(default_factory=dict)  # descriptions of columns that are not defined fields


@dataclass(frozen=True)
class Package:
    meta: dict
    resources: tuple[Resource, ...]
    defined_fields: tuple[str, ...]
    views: tuple[View, ...] = ()

    @property
    def from_source(self) -> list[Resource]:
        """The tables extract (and derive) produce from the source, in order."""
        return [r for r in self.resources if r.produced_by == "source"]

    @property
    def produced_by_checks(self) -> Resource:
        """The table the quality gate writes (quality_checks)."""
        (resource,) = [r for r in self.resources if r.produced_by == "checks"]
        return resource

    def resource(self, name: str) -> Resource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)


def _read(path: Path):
    return read_yaml(path)


def build_package(package: dict, fields: dict, resources: dict[str, dict]) -> Package:
    """Merge and check the metadata; every problem raises MetadataError naming the place."""
    for name, spec in fields.items():
        unknown = set(spec) - FIELD_KEYS
        if unknown:
            raise MetadataError(f"field {name}: unknown keys {sorted(unknown)}")
        if spec.get("type") not in TYPES:
            raise MetadataError(f"field {name}: type {spec.get('type')!r} is not one of {sorted(TYPES)}")
        if not spec.get("description"):
            raise MetadataError(f"field {name}: no description")
        bad = set(spec.get("constraints", {})) - CONSTRAINTS
        if bad:
            raise MetadataError(f"field {name}: unknown constraints {sorted(bad)}")
    order = package["resources"]
    if sorted(order) != sorted(resources):
        raise MetadataError(
            f"schemas/package.yaml lists {sorted(order)} but schemas/resources/ defines {sorted(resources)}"
        )
    built: list[Resource] = []
    for name in order:
        spec = resources[name]
        unknown = set(spec) - RESOURCE_KEYS
        if unknown:
            raise MetadataError(f"resource {name}: unknown keys {sorted(unknown)}")
        if spec.get("produced_by", "source") not in ("source", "checks"):
            raise MetadataError(f"resource {name}: produced_by must be 'source' or 'checks'")
        if spec.get("name") != name:
            raise MetadataError(f"resource file {name}.yaml names itself {spec.get('name')!r}")
        for key in ("title", "description", "primary_key"):
            if not spec.get(key):
                raise MetadataError(f"resource {name}: no {key}")
        columns: list[Field] = []
        for item in spec["fields"]:
            override = item if isinstance(item, dict) else {"name": item}
            base = fields.get(override["name"])
            if base is None:
                raise MetadataError(f"resource {name}: field {override['name']!r} is not defined in fields.yaml")
            merged = {**base, **{k: v for k, v in override.items() if k != "name"}}
            merged["constraints"] = {**base.get("constraints", {}), **override.get("constraints", {})}
            columns.append(Field(name=override["name"], **merged))
        names = [c.name for c in columns]
        if len(names) != len(set(names)):
            raise MetadataError(f"resource {name}: a field is listed twice")
        keys = (
            list(spec["primary_key"])
            + [c for fk in spec.get("foreign_keys", []) for c in fk["fields"]]
            + [c for group in spec.get("unique", []) for c in group]
        )
        for column in keys:
            if column not in names:
                raise MetadataError(f"resource {name}: key column {column!r} is not one of its fields")
        for fk in spec.get("foreign_keys", []):
            target = fk["reference"]["resource"]
            if target not in order or order.index(target) >= order.index(name):
                raise MetadataError(f"resource {name}: foreign key to {target!r}, which must be listed before it")
        built.append(
            Resource(
                name=name,
                title=spec["title"],
                description=" ".join(spec["description"].split()),
                origin=spec.get("origin", ""),
                fields=tuple(columns),
                primary_key=tuple(spec["primary_key"]),
                foreign_keys=tuple(spec.get("foreign_keys", [])),
                unique=tuple(tuple(group) for group in spec.get("unique", [])),
                row_count=spec.get("row_count"),
                produced_by=spec.get("produced_by", "source"),
            )
        )
    return Package(
        meta={k: v for k, v in package.items() if k != "resources"},
        resources=tuple(built),
        defined_fields=tuple(fields),
    )


def load_views(folder: Path) -> tuple[View, ...]:
    """Views of the database: schemas/views/<name>.sql, each with `-- name:` and `-- description:` lines."""
    views = []
    for path in sorted(folder.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        header = dict(re.findall(r"^--\s*(name|description):\s*(.+?)\s*$", sql, re.MULTILINE))
        if header.get("name") != path.stem or not header.get("description"):
            raise MetadataError(f"view {path.name} needs '-- name: {path.stem}' and '-- description:' lines")
        columns = dict(re.findall(r"^--\s*column\s+([a-z_0-9]+):\s*(.+?)\s*$", sql, re.MULTILINE))
        views.append(View(name=path.stem, description=header["description"], sql=sql, columns=columns))
    return tuple(views)


@lru_cache(maxsize=1)
def load(schemas: Path = SCHEMAS) -> Package:
    resources = {p.stem: _read(p) for p in sorted((schemas / "resources").glob("*.yaml"))}
    package = build_package(_read(schemas / "package.yaml"), _read(schemas / "fields.yaml"), resources)
    return Package(
        meta=package.meta,
        resources=package.resources,
        defined_fields=package.defined_fields,
        views=load_views(schemas / "views"),
    )


# --- Frictionless ---------------------------------------------------------------------------


def table_schema(resource: Resource) -> dict:
    """The Frictionless Table Schema of a resource."""
    out_fields = []
    for f in resource.fields:
        spec: dict = {"name": f.name, "type": f.type, "description": f.description}
        if f.unit:
            spec["unit"] = f.unit  # a custom property; Table Schema allows extra properties
        constraints = dict(f.constraints)
        constraints["required"] = f.required or f.name in resource.primary_key
        if constraints:
            spec["constraints"] = constraints
        if f.type == "datetime":
            spec["format"] = "%Y-%m-%dT%H:%M:%S"
        out_fields.append(spec)
    schema: dict = {"fields": out_fields, "primaryKey": list(resource.primary_key), "missingValues": [""]}
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(fk["fields"]),
                "reference": {"resource": fk["reference"]["resource"], "fields": list(fk["reference"]["fields"])},
            }
            for fk in resource.foreign_keys
        ]
    return schema


# --- DuckDB ---------------------------------------------------------------------------------

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}


def sql_string(text) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def duckdb_ddl(package: Package) -> str:
    """CREATE TABLE statements with keys, then COMMENT ON every table and column."""
    statements = []
    for resource in package.resources:
        lines = []
        for f in resource.fields:
            not_null = " NOT NULL" if f.required or f.name in resource.primary_key else ""
            lines.append(f"    {f.name} {DUCKDB_TYPES[f.type]}{not_null}")
        lines.append(f"    PRIMARY KEY ({', '.join(resource.primary_key)})")
        for group in resource.unique:
            lines.append(f"    UNIQUE ({', '.join(group)})")
        for fk in resource.foreign_keys:
            ref = fk["reference"]
            lines.append(
                f"    FOREIGN KEY ({', '.join(fk['fields'])}) REFERENCES {ref['resource']} ({', '.join(ref['fields'])})"
            )
        statements.append(f"CREATE TABLE {resource.name} (\n" + ",\n".join(lines) + "\n);")
    for resource in package.resources:
        statements.append(
            f"COMMENT ON TABLE {resource.name} IS {sql_string(resource.title + ': ' + resource.description)};"
        )
        for f in resource.fields:
            statements.append(f"COMMENT ON COLUMN {resource.name}.{f.name} IS {sql_string(column_comment(f))};")
    return "\n".join(statements) + "\n"


def view_column_comment(package: Package, view: View, column: str) -> str:
    """A view column's comment: its `-- column` header line, else the field of that name in fields.yaml."""
    if column in view.columns:
        return view.columns[column]
    for resource in package.resources:
        for f in resource.fields:
            if f.name == column:
                return column_comment(f)
    raise MetadataError(
        f"view {view.name}: column {column!r} is neither a defined field nor described by a '-- column' line"
    )


def column_comment(f: Field) -> str:
    return f.description + (f" Unit: {f.unit}." if f.unit else "")


# --- pandera --------------------------------------------------------------------------------

_PANDERA_SCHEMAS: dict[int, tuple[Resource, object]] = {}


def pandera_schema(resource: Resource):
    """A pandera DataFrameSchema for a resource (built once per Resource object). Types are mapped here
    rather than through pandera's frictionless reader: nullable Int64 and boolean, datetime64 for dates,
    no enum categories."""
    cached = _PANDERA_SCHEMAS.get(id(resource))
    if cached is not None and cached[0] is resource:
        return cached[1]
    schema = _pandera_schema(resource)
    _PANDERA_SCHEMAS[id(resource)] = (resource, schema)  # the Resource is kept, so its id stays unique
    return schema


def _pandera_schema(resource: Resource):
    import pandera.pandas as pa  # only where a schema is built: `check` and `fetch` do without it

    dtypes = {
        "string": "str",
        "integer": "Int64",
        "number": "Float64",
        "boolean": "boolean",
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns]",
    }
    columns = {}
    for f in resource.fields:
        checks = []
        c = f.constraints
        if "minimum" in c:
            checks.append(pa.Check.ge(c["minimum"]))
        if "maximum" in c:
            checks.append(pa.Check.le(c["maximum"]))
        if "pattern" in c:
            checks.append(pa.Check.str_matches(f"(?:{c['pattern']})\\Z"))  # Table Schema: whole value
        if "enum" in c:
            checks.append(pa.Check.isin(c["enum"]))
        if f.type == "date":
            checks.append(
                pa.Check(lambda s: s.dt.normalize() == s, element_wise=False, error="a date must have no time of day")
            )
        required = f.required or f.name in resource.primary_key
        if f.type == "string":
            checks.append(pa.Check.str_length(min_value=1, error="empty text: a missing value must be null"))
        unique = bool(c.get("unique")) or (f.name,) in resource.unique
        columns[f.name] = pa.Column(
            dtypes[f.type],
            checks=checks,
            nullable=not required,
            unique=unique,
            coerce=True,
            description=f.description,
            title=f.name,
        )
    return pa.DataFrameSchema(
        columns, unique=list(resource.primary_key), strict=True, ordered=True, name=resource.name, coerce=True
    )


# --- Data dictionary ------------------------------------------------------------------------


def data_dictionary(
    package: Package,
    examples: dict[str, dict[str, str]] | None = None,
    view_columns: dict[str, list[tuple[str, str, str]]] | None = None,
) -> str:
    """Markdown data dictionary: every table, column, type, unit, description and an example value; the views."""
    examples = examples or {}
    out = [
        f"# Data dictionary: {package.meta['title']}",
        "",
        "Generated from `schemas/` by `python -m pipeline publish`; do not edit by hand. Every table is in "
        "`processed/` as CSV and Parquet and in the DuckDB database; the views are in the database, and "
        "`docs/parquet_views.sql` defines them over the Parquet files.",
        "",
        "Tables: " + ", ".join(f"[`{r.name}`](#{r.name})" for r in package.resources) + ".",
        "",
    ]
    for resource in package.resources:
        out += [
            f"## {resource.name}",
            "",
            f"**{resource.title}.** {resource.description}",
            "",
            f"- Primary key: `{', '.join(resource.primary_key)}`",
        ]
        for fk in resource.foreign_keys:
            out.append(
                f"- Foreign key: `{', '.join(fk['fields'])}` → "
                f"`{fk['reference']['resource']}.{', '.join(fk['reference']['fields'])}`"
            )
        if resource.origin:
            out.append(f"- Source: {resource.origin}")
        out += ["", "| column | type | unit | nulls | description | example |", "|---|---|---|---|---|---|"]
        for f in resource.fields:
            example = examples.get(resource.name, {}).get(f.name, f.example or "")
            nulls = "no" if f.required or f.name in resource.primary_key else "yes"
            out.append(
                f"| `{f.name}` | {f.type} | {f.unit or ''} | {nulls} | {f.description.replace('|', '/')} | "
                f"{str(example).replace('|', '/')} |"
            )
        out.append("")
    if package.views:
        out += ["# Views (in the database; over the Parquet files through docs/parquet_views.sql)", ""]
    for view in package.views:
        out += [f"## {view.name}", "", view.description, "", "| column | type | description |", "|---|---|---|"]
        for column, kind, comment in (view_columns or {}).get(view.name, []):
            out.append(f"| `{column}` | {kind} | {comment.replace('|', '/')} |")
        out.append("")
    return "\n".join(out)
