"""DuckDB: the DDL with keys and a comment on every table and column, and the comments of the views."""

from __future__ import annotations

from pipeline.metadata.model import Field, MetadataError, Package, View

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
    """A column's comment: its description and unit."""
    return f.description + (f" Unit: {f.unit}." if f.unit else "")
