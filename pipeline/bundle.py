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
import tempfile
import zipfile
from pathlib import Path

from pipeline import ROOT
from pipeline.errors import PipelineError
from pipeline.files import sha256_file
from pipeline.release.swap import DESCRIPTOR

DIST = "dist"
# Files that travel with the data (the code's licence too: the bundle has none of the code, but
# CITATION.cff and the changelog speak of it); the root's own where it has one (its CHANGELOG.md).
PACKAGE_FILES = ("LICENSE-DATA.md", "LICENSE", "CITATION.cff", "CHANGELOG.md")


def build(root: Path = ROOT) -> Path:
    """Write the bundle of the release in `root` and its descriptor; returns the bundle's path."""
    descriptor = root / DESCRIPTOR
    if not descriptor.is_file():
        raise PipelineError("bundle", f"no published release in {root}; run `make` first.")
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    version, name = package["version"], f"{package['name']}-{package['version']}"
    # Exactly the files the descriptor lists, each checked against its size and sha256 (nothing else
    # that lies in processed/, and nothing changed since publish), then the package's own files.
    members = {DESCRIPTOR: descriptor}
    for resource in package["resources"]:
        path = root / resource["path"]
        if not path.is_file() or f"sha256:{sha256_file(path)}" != resource["hash"]:
            raise PipelineError(
                "bundle", f"{resource['path']} is missing or differs from datapackage.json; run `make` again."
            )
        members[resource["path"]] = path
    members |= {item: (root / item if (root / item).is_file() else ROOT / item) for item in PACKAGE_FILES}
    missing = [arcname for arcname, path in members.items() if not path.is_file()]
    if missing:
        raise PipelineError("bundle", f"the release in {root} is incomplete: {', '.join(missing)} missing.")
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
    for old in dist.glob(f"{package['name']}-*.zip"):  # one bundle: older releases are in the history
        if old != bundle:
            old.unlink()
    _replace(dist / DESCRIPTOR, (json.dumps(listing, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return bundle


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
    tables = [r for r in package["resources"] if r.get("profile") == "tabular-data-resource"]
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
    lines += [f"- `{r['name']}`: {r['title']}" for r in tables]
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
