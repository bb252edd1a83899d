"""The single metadata source (schemas/) and what is generated from it.

schemas/fields.yaml defines every column once; schemas/resources/<table>.yaml lists a table's
columns, keys and description; schemas/package.yaml gives the package metadata and the table order.
From these come the Frictionless Table Schemas (datapackage.json), the pandera schemas (for users
validating in pandas), the DuckDB DDL with comments (publish stage) and the data dictionary.
"""

from pipeline.metadata.ddl import DUCKDB_TYPES, column_comment, duckdb_ddl, sql_string, view_column_comment
from pipeline.metadata.dictionary import data_dictionary
from pipeline.metadata.frictionless import table_schema
from pipeline.metadata.model import (
    SCHEMAS,
    Field,
    MetadataError,
    Package,
    Resource,
    View,
    build_package,
    load,
    load_stations,
    load_views,
)
from pipeline.metadata.pandera_schemas import PANDAS_DTYPES, pandera_schema

__all__ = [
    "DUCKDB_TYPES",
    "PANDAS_DTYPES",
    "SCHEMAS",
    "Field",
    "MetadataError",
    "Package",
    "Resource",
    "View",
    "build_package",
    "column_comment",
    "data_dictionary",
    "duckdb_ddl",
    "load",
    "load_stations",
    "load_views",
    "pandera_schema",
    "sql_string",
    "table_schema",
    "view_column_comment",
]
