"""The metadata model: fields, resources, views and the package, read from schemas/ and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import MetadataError
from pipeline.common.yamlfile import read_yaml
from pipeline.metadata.specs import check_specs, load_specs

SCHEMAS = ROOT / "schemas"
TYPES = {"string", "integer", "number", "boolean", "date", "datetime"}
FIELD_KEYS = {"title", "type", "description", "unit", "constraints", "example"}
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


@dataclass(frozen=True)
class Field:
    """A column as schemas/fields.yaml defines it: type, unit, description, constraints."""

    name: str
    type: str
    description: str
    title: str = ""
    unit: str | None = None
    constraints: dict = field(default_factory=dict)
    example: str | None = None

    @property
    def required(self) -> bool:
        """Whether the column may not be null."""
        return bool(self.constraints.get("required", True))


@dataclass(frozen=True)
class Resource:
    """A published table: its fields, keys, description and where it comes from."""

    name: str
    title: str
    description: str
    origin: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    row_count: int | None = None  # rows the source gives; a lost or added row must be reviewed
    produced_by: str = "source"  # "source": extracted or derived; "checks": the quality gate; "forensics"

    @property
    def field_names(self) -> list[str]:
        """The column names, in order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """The column of that name."""
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class View:
    """A view of the database (schemas/views/)."""

    name: str
    description: str
    sql: str
    columns: dict = field(default_factory=dict)  # descriptions of columns that are not defined fields


@dataclass(frozen=True)
class Package:
    """The whole package: its metadata, tables in order, views and extraction specs."""

    meta: dict
    resources: tuple[Resource, ...]
    defined_fields: tuple[str, ...]
    views: tuple[View, ...] = ()
    specs: dict = field(default_factory=dict)  # extraction specs (schemas/extract/) by name
    # The key of the schema files it was read from (the build cache knows a package by it); "" if it was made
    # in memory. A package derived from another (dataclasses.replace) must clear it.
    source: str = ""

    @property
    def from_source(self) -> list[Resource]:
        """The tables extract (and derive) produce from the source, in order."""
        return [r for r in self.resources if r.produced_by == "source"]

    @property
    def produced_by_checks(self) -> Resource:
        """The table the quality gate writes (quality_checks)."""
        (resource,) = [r for r in self.resources if r.produced_by == "checks"]
        return resource

    @property
    def produced_by_forensics(self) -> list[Resource]:
        """The tables the forensics step writes (pipeline/forensics/)."""
        return [r for r in self.resources if r.produced_by == "forensics"]

    def resource(self, name: str) -> Resource:
        """The table of that name."""
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)


def build_package(package: dict, fields: dict, resources: dict[str, dict], release: Package | None = None) -> Package:
    """Merge and check the metadata; every problem raises MetadataError naming the place. A foreign key
    marked `package: release` refers to a table of `release` (the station-level package's keys into the
    published release)."""
    for name, spec in fields.items():
        unknown = set(spec) - FIELD_KEYS
        if unknown:
            raise MetadataError(f"field {name}: unknown keys {sorted(unknown)}")
        if spec.get("type") not in TYPES:
            raise MetadataError(f"field {name}: type {spec.get('type')!r} is not one of {sorted(TYPES)}")
        if not spec.get("description"):
            raise MetadataError(f"field {name}: no description")
        if not spec.get("title"):
            raise MetadataError(f"field {name}: no title")
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
        if spec.get("produced_by", "source") not in ("source", "checks", "forensics"):
            raise MetadataError(f"resource {name}: produced_by must be 'source', 'checks' or 'forensics'")
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
            if fk["reference"].get("package") == "release":
                if release is None or target not in {r.name for r in release.resources}:
                    raise MetadataError(f"resource {name}: foreign key to {target!r}, not a table of the release")
                continue
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
def load_stations(schemas: Path = SCHEMAS) -> Package:
    """The station-level package (schemas/stations/): its tables use the fields of schemas/fields.yaml and
    refer to the release's regions and options."""
    folder = schemas / "stations"
    resources = {p.stem: read_yaml(p) for p in sorted((folder / "resources").glob("*.yaml"))}
    return build_package(
        read_yaml(folder / "package.yaml"), read_yaml(schemas / "fields.yaml", strict=True), resources, load(schemas)
    )


@lru_cache(maxsize=1)
def load(schemas: Path = SCHEMAS) -> Package:
    """The package as schemas/ defines it, checked: fields, resources, views and extraction specs (taken
    from the build cache when these very files were read before by the same code)."""
    import yaml

    from pipeline.common import cache

    source = cache.key("schemas", yaml.__version__, *cache.files(schemas))
    return cache.computed("package", [source], lambda: _load(schemas, source))


def _load(schemas: Path, source: str) -> Package:
    resources = {p.stem: read_yaml(p) for p in sorted((schemas / "resources").glob("*.yaml"))}
    package = build_package(
        read_yaml(schemas / "package.yaml"), read_yaml(schemas / "fields.yaml", strict=True), resources
    )
    specs = load_specs(schemas / "extract")
    check_specs(specs, {r.name: r for r in package.resources})
    return Package(
        meta=package.meta,
        resources=tuple(with_origin(r, specs) for r in package.resources),
        defined_fields=package.defined_fields,
        views=load_views(schemas / "views"),
        specs=specs,
        source=source,
    )


def with_origin(resource: Resource, specs: dict) -> Resource:
    """A table from the article takes its origin from the specs that produce it (its locators live there
    only); any other table states its origin in its resource YAML. One or the other, never both."""
    producers = [spec for spec in specs.values() if resource.name in spec.produces]
    if producers and resource.origin:
        raise MetadataError(
            f"resource {resource.name}: 'origin' restates the locator of spec(s) "
            f"{', '.join(s.name for s in producers)}; remove it from the resource YAML"
        )
    if not producers and not resource.origin:
        raise MetadataError(f"resource {resource.name}: no origin and no extraction spec produces it")
    if not producers:
        return resource
    return replace(resource, origin="; ".join(spec.describe() for spec in producers))
