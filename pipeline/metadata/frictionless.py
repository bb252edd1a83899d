"""The Frictionless Table Schema of each resource (datapackage.json)."""

from __future__ import annotations

from pipeline.metadata.model import Resource


def table_schema(resource: Resource) -> dict:
    """The Frictionless Table Schema of a resource."""
    out_fields = []
    for f in resource.fields:
        spec: dict = {"name": f.name, "title": f.title, "type": f.type, "description": f.description}
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
    keys = [fk for fk in resource.foreign_keys if fk["reference"].get("package") != "release"]
    if keys:  # (a key into the release, from the station-level tables, is stated in the descriptions)
        schema["foreignKeys"] = [
            {
                "fields": list(fk["fields"]),
                "reference": {"resource": fk["reference"]["resource"], "fields": list(fk["reference"]["fields"])},
            }
            for fk in keys
        ]
    return schema
