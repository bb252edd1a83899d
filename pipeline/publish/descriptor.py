"""datapackage.json: the Frictionless descriptor of a staged release (every file with its bytes and
sha256, the tables' schemas from schemas/), and the documents that travel with the data."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import metadata
from pipeline.common.files import sha256_file
from pipeline.publish.database import STORAGE_VERSION
from pipeline.release.swap import DOCS, PROCESSED

DICTIONARY, REPORT, PARQUET_VIEWS, FORENSICS, CHANGES = (Path(item) for item in DOCS)


# The documentation files travel with the data: listed in datapackage.json (so `download` brings them).
DOC_RESOURCES = {
    DICTIONARY: (
        "data_dictionary",
        "Data dictionary",
        "md",
        "text/markdown",
        "Every table and column: type, unit, nulls, description and an example value; the views.",
    ),
    REPORT: (
        "quality_report",
        "Quality report",
        "md",
        "text/markdown",
        "Every cross-check with its outcome, the corrections applied to the source (errata) with their "
        "evidence, the acknowledged findings and the values the source does not give.",
    ),
    FORENSICS: (
        "forensics_report",
        "Forensics report",
        "md",
        "text/markdown",
        "Each election-forensics test with its null model, parameters, result, p-value and calibration, and in "
        "plain words what the results show and what they cannot show.",
    ),
    PARQUET_VIEWS: (
        "parquet_views",
        "Views over the Parquet files",
        "sql",
        "application/sql",
        "DuckDB SQL that makes every Parquet file a view named like its table and adds the database's "
        "convenience views: `duckdb -init docs/parquet_views.sql` from the folder holding processed/.",
    ),
    CHANGES: (
        "changes",
        "Changes between releases",
        "md",
        "text/markdown",
        "Every release with every value it added, removed or changed against the previous one, who accepted "
        "each change and when (the table release_changes, readable).",
    ),
}


def datapackage(package: metadata.Package, stage: Path, raw_entry: dict, newest: dict) -> dict:
    """The Frictionless descriptor, with relative paths and the bytes and sha256 of every file; its
    version and date are the newest release's (a row of the table releases)."""
    meta = package.meta

    def file_facts(relative: str) -> dict:
        path = stage / relative
        return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}"}

    resources, copies = [], []
    for resource in package.resources:
        relative = f"{PROCESSED}/{resource.name}.csv"
        resources.append(
            {
                "name": resource.name,
                "title": resource.title,
                "description": resource.description,
                "path": relative,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                **file_facts(relative),
                "dialect": {"delimiter": ",", "header": True},
                "schema": metadata.table_schema(resource),
            }
        )
        parquet = f"{PROCESSED}/{resource.name}.parquet"
        copies.append(
            {
                "name": f"{resource.name}_parquet",
                "type": "file",
                "title": f"{resource.title} (Parquet)",
                "description": f"The table {resource.name} as Parquet: the same rows, columns and types as the CSV, "
                "with the table and column descriptions in the file's key-value metadata.",
                "path": parquet,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                **file_facts(parquet),
            }
        )
    database = f"{PROCESSED}/{meta['database']}"
    copies.append(
        {
            "name": "database",
            "type": "file",
            "title": "DuckDB database with every table",
            "description": "Every table in one DuckDB file (storage version "
            f"{STORAGE_VERSION}: DuckDB 1.2 or later), with primary and foreign keys "
            "and a comment on every table and column.",
            "path": database,
            "format": "duckdb",
            "mediatype": "application/octet-stream",
            **file_facts(database),
        }
    )
    for path, (name, title, fmt, mediatype, description) in DOC_RESOURCES.items():
        copies.append(
            {
                "name": name,
                "type": "file",
                "title": title,
                "description": description,
                "path": path.as_posix(),
                "format": fmt,
                "mediatype": mediatype,
                **file_facts(path.as_posix()),
            }
        )
    resources += copies
    homepage = {"homepage": meta["homepage"]} if meta.get("homepage") else {}
    return {
        "profile": "data-package",
        "name": meta["name"],
        "title": meta["title"],
        "description": " ".join(meta["description"].split()),
        "version": newest["version"],
        "created": f"{newest['release_date']:%Y-%m-%d}T00:00:00Z",
        "citation": " ".join(meta["citation"].split()).replace("VERSION", newest["version"]),
        **homepage,
        "keywords": meta["keywords"],
        "licenses": meta["licenses"],
        "contributors": meta["contributors"],
        "sources": [
            {
                **s,
                "sha256": raw_entry.get("sha256"),
                "revision_id": raw_entry.get("revision_id"),
                "retrieved_at": raw_entry.get("retrieved_at"),
                **{k: raw_entry[k] for k in ("retrieved_at_precision", "retrieved_at_note") if k in raw_entry},
            }
            for s in meta["sources"]
        ],
        "resources": resources,
    }


def descriptor_bytes(descriptor: dict) -> bytes:
    """datapackage.json as publish writes it (bundle and site compare the published one with it)."""
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
