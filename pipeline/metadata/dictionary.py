"""The data dictionary (docs/data_dictionary.md): every table and column, generated from schemas/."""

from __future__ import annotations

from pipeline.metadata.model import Package


def data_dictionary(
    package: Package,
    examples: dict[str, dict[str, str]] | None = None,
    view_columns: dict[str, list[tuple[str, str, str]]] | None = None,
    intro: str | None = None,
) -> str:
    """Markdown data dictionary: every table, column, type, unit, description and an example value; the views."""
    examples = examples or {}
    out = [
        f"# Data dictionary: {package.meta['title']}",
        "",
        intro
        or "Generated from `schemas/` by `python -m pipeline publish`; do not edit by hand. Every table is in "
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
        out += ["", "| column | title | type | unit | nulls | description | example |", "|---|---|---|---|---|---|---|"]
        for f in resource.fields:
            example = examples.get(resource.name, {}).get(f.name, f.example or "")
            nulls = "no" if f.required or f.name in resource.primary_key else "yes"
            out.append(
                f"| `{f.name}` | {f.title} | {f.type} | {f.unit or ''} | {nulls} | {f.description.replace('|', '/')} | "
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
