"""Bundle step: one file to take away. A zip of the published release (the data as CSV, Parquet and
DuckDB, datapackage.json, the documentation), the licences, the citation, the changelog and a short
README for readers who never see the repository, in dist/kz-election-2023-VERSION.zip; listed with its
size and sha256 in dist/datapackage.json, so that `python -m pipeline download --base-url URL/dist`
fetches and verifies it. Byte-identical from run to run: sorted entries, fixed times and permissions,
fixed compression (on the same zlib)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path

from pipeline import ROOT
from pipeline.errors import PipelineError
from pipeline.files import sha256_file
from pipeline.release.swap import DESCRIPTOR, release_paths

DIST = "dist"
# Files that travel with the data (the code's licence too: the bundle has none of the code, but
# CITATION.cff and the changelog speak of it); the root's own where it has one (its CHANGELOG.md).
PACKAGE_FILES = ("LICENSE-DATA.md", "LICENSE", "CITATION.cff", "CHANGELOG.md")


def build(root: Path = ROOT) -> Path:
    """Write the bundle of the release in `root` and its descriptor; returns the bundle's path. The names,
    version and date come from the package's own metadata (schemas/package.yaml) and the release list;
    the published descriptor only gives each file's sha256, and must list exactly the release's files."""
    from pipeline import metadata
    from pipeline.release import history, readers

    schemas = metadata.load()
    meta = schemas.meta
    newest = history.load(root)[0]
    version = newest.version
    published = readers.descriptor(root, "bundle")
    expected = {"name": meta["name"], "version": version, "created": f"{newest.release_date:%Y-%m-%d}T00:00:00Z"}
    for key, value in expected.items():  # the descriptor must be this release's, as publish writes it
        if published.get(key) != value:
            raise PipelineError(
                "bundle",
                f"{root / DESCRIPTOR} gives {key} {published.get(key)!r}, but the release is {meta['name']} "
                f"{version} of {newest.release_date}: it is not the published release's; run `make` to rebuild it.",
            )
    members = {DESCRIPTOR: root / DESCRIPTOR} | _verified_files(root, published, release_paths(schemas))
    members |= {item: (root / item if (root / item).is_file() else ROOT / item) for item in PACKAGE_FILES}
    missing = [arcname for arcname, path in members.items() if not path.is_file()]
    if missing:
        raise PipelineError("bundle", f"the release in {root} is incomplete: {', '.join(missing)} missing.")
    name = f"{meta['name']}-{version}"
    package = {
        "name": meta["name"],
        "title": meta["title"],
        "description": " ".join(meta["description"].split()),
        "citation": " ".join(meta["citation"].split()).replace("VERSION", version),
        "version": version,
        "created": expected["created"],
        "licenses": meta["licenses"],
        "tables": [(resource.name, resource.title) for resource in schemas.resources],
    }
    stamp = (*map(int, package["created"][:10].split("-")), 0, 0, 0)  # the release date, not the build time
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        entries = [("README.md", _readme(package).encode("utf-8"))]
        entries += [(arcname, path.read_bytes()) for arcname, path in sorted(members.items())]
        for arcname, content in entries:
            info = zipfile.ZipInfo(f"{name}/{arcname}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # Unix, whatever the machine
            archive.writestr(info, content, compresslevel=9)
    body = data.getvalue()
    dist = root / DIST
    dist.mkdir(exist_ok=True)
    bundle = dist / f"{name}.zip"
    listing = {
        "profile": "data-package",
        "name": f"{package['name']}-bundle",
        "title": f"{package['title']}: the release {version} in one file",
        "description": "One zip with the whole release: the data as CSV, Parquet and DuckDB, datapackage.json, "
        "the data dictionary, the quality, forensics and changes reports, the licences, the citation, the "
        "changelog and a README.",
        "version": version,
        "created": package["created"],
        "licenses": package["licenses"],
        "resources": [
            {
                "name": "bundle",
                "type": "file",
                "title": f"{name}.zip",
                "path": bundle.name,
                "format": "zip",
                "mediatype": "application/zip",
                "bytes": len(body),
                "hash": f"sha256:{hashlib.sha256(body).hexdigest()}",
            }
        ],
    }
    _replace(bundle, body)
    older = re.compile(re.escape(meta["name"]) + r"-[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?\.zip")
    for old in dist.iterdir():  # one bundle: older releases are in the history (regular files named so only)
        if old != bundle and older.fullmatch(old.name) and old.is_file() and not old.is_symlink():
            old.unlink()
    _replace(dist / DESCRIPTOR, (json.dumps(listing, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return bundle


def _verified_files(root: Path, published: dict, expected: list[str]) -> dict[str, Path]:
    """The release's files, each checked against the size and sha256 the descriptor gives it: the
    descriptor must list exactly `expected` (nothing outside the release, nothing else that lies in
    processed/), each a regular file inside `root`."""
    resources = published.get("resources")
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise PipelineError("bundle", f"{root / DESCRIPTOR}: 'resources' is not a list of objects; run `make`.")
    listed = {r.get("path"): r.get("hash") for r in resources}
    unknown = sorted(repr(path) for path in listed if path not in expected)
    absent = [path for path in expected if path not in listed]
    if unknown or absent:
        what = f"lists {', '.join(unknown[:3])}, not a file of the release" if unknown else f"lacks {absent[0]}"
        raise PipelineError("bundle", f"{root / DESCRIPTOR} {what}; run `make` to rebuild it.")
    members = {}
    for relative in expected:
        path = root / relative
        if path.is_symlink() or not path.is_file() or f"sha256:{sha256_file(path)}" != listed[relative]:
            raise PipelineError("bundle", f"{relative} is missing or differs from datapackage.json; run `make` again.")
        members[relative] = path
    return members


def _replace(path: Path, body: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _readme(package: dict) -> str:
    tables = package["tables"]
    lines = [
        f"# {package['title']}",
        "",
        f"Release {package['version']} ({package['created'][:10]}) of kz-election-2023. {package['description']}",
        "",
        "## What is here",
        "",
        "- `processed/`: every table as CSV and Parquet, and all of them in one DuckDB database",
        "  (`processed/kz_election_2023.duckdb`, with a comment on every table and column).",
        "- `datapackage.json`: the Frictionless descriptor: every table's schema, and the size and sha256 of",
        "  every file (`frictionless validate datapackage.json` checks them).",
        "- `docs/`: the data dictionary, the quality report (every check, correction and acknowledgement),",
        "  the forensics report, the changes against the previous release, and SQL views over the Parquet files.",
        "- `LICENSE-DATA.md` (the data: CC BY-SA 4.0), `LICENSE` (the code that built it: MIT),",
        "  `CITATION.cff` and `CHANGELOG.md`.",
        "",
        f"## The {len(tables)} tables",
        "",
    ]
    lines += [f"- `{name}`: {title}" for name, title in tables]
    lines += [
        "",
        "## Read it",
        "",
        "```sh",
        'duckdb processed/kz_election_2023.duckdb -c "SELECT * FROM national_summary"',
        "```",
        "",
        "```python",
        "import pandas as pd",
        'results = pd.read_parquet("processed/party_list_results.parquet")',
        "```",
        "",
        "## Licence and citation",
        "",
        "The data is built from the English Wikipedia article '2023 Kazakh legislative election' (Wikipedia",
        "contributors, CC BY-SA 4.0) and shared under the same licence: see LICENSE-DATA.md, which also gives",
        "the terms of the quotes from news reports. Cite it as:",
        "",
        f"> {package['citation']}",
        "",
    ]
    return "\n".join(lines)
