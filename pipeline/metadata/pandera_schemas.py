"""pandera schemas of the resources, for users who validate the published tables in pandas (the build
validates in DuckDB: pipeline/validate/)."""

from __future__ import annotations

from pipeline.metadata.model import Resource

# The pandas dtype of each type: nullable integers and booleans, dates as datetime64 (pandera).
PANDAS_DTYPES = {
    "string": "str",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}

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

    dtypes = PANDAS_DTYPES
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
