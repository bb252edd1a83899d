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
from pipeline.common.errors import PipelineError
from pipeline.release.swap import DESCRIPTOR, PROCESSED, release_paths

DIST = "dist"


def build_locked(root: Path = ROOT, *, wait: float | None = None) -> Path:
    """`python -m pipeline bundle`: write the bundle of the release in `root` under the build lock."""
    from pipeline.common.defaults import LOCK_WAIT
    from pipeline.common.lock import build_lock

    with build_lock(root, "bundle", wait=LOCK_WAIT if wait is None else wait):
        return build(root)


def build(root: Path = ROOT) -> Path:
    """Write the bundle of the release in `root` and its descriptor; returns the bundle's path. The names,
    version and date come from the package's own metadata (schemas/package.yaml) and the release list,
    never from the published descriptor, which must be exactly the one publish writes for the files in
    the release (it is packed too). The changelog is made from the release list; the citation must cite
    the release."""
    from pipeline import metadata
    from pipeline.publish import readers

    schemas = metadata.load()
    meta = schemas.meta
    _, newest = readers.verified_descriptor(root, "bundle")
    version = newest.version
    members = {DESCRIPTOR: (root / DESCRIPTOR).read_bytes()}
    members |= {relative: (root / relative).read_bytes() for relative in release_paths(schemas)}
    members |= _package_files(root, version)
    name = f"{meta['name']}-{version}"
    package = {
        "name": meta["name"],
        "title": meta["title"],
        "description": " ".join(meta["description"].split()),
        "citation": " ".join(meta["citation"].split()).replace("VERSION", version),
        "version": version,
        "created": f"{newest.release_date:%Y-%m-%d}T00:00:00Z",
        "licenses": meta["licenses"],
        "tables": [(resource.name, resource.title) for resource in schemas.resources],
    }
    stamp = (*map(int, package["created"][:10].split("-")), 0, 0, 0)  # the release date, not the build time
    body = _zip([("README.md", _readme(package).encode("utf-8")), *sorted(members.items())], name, stamp)
    excel_name = f"{name}-excel"
    excel = [("README.txt", _EXCEL_README.format(version=version).encode("utf-8"))]
    excel += [
        (f"{resource.name}.csv", b"\xef\xbb\xbf" + members[f"{PROCESSED}/{resource.name}.csv"])
        for resource in schemas.resources
    ]
    excel_body = _zip(excel, excel_name, stamp)
    dist = root / DIST
    if dist.is_symlink() or (dist.exists() and not dist.is_dir()):
        raise PipelineError("bundle", f"{dist} is not a folder of its own (a link, or a file); remove it.")
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
            },
            {
                "name": "excel_csv",
                "type": "file",
                "title": f"{excel_name}.zip",
                "description": "Every table as CSV for Excel: the same files with a UTF-8 byte-order mark, so that "
                "Excel shows the Kazakh and Russian letters (it reads a CSV without one in the system's code page).",
                "path": f"{excel_name}.zip",
                "format": "zip",
                "mediatype": "application/zip",
                "bytes": len(excel_body),
                "hash": f"sha256:{hashlib.sha256(excel_body).hexdigest()}",
            },
        ],
    }
    _replace(bundle, body)
    _replace(dist / f"{excel_name}.zip", excel_body)
    older = re.compile(re.escape(meta["name"]) + r"-[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?(-excel)?\.zip")
    for old in dist.iterdir():  # one bundle: older releases are in the history (regular files named so only)
        current = old in (bundle, dist / f"{excel_name}.zip")
        if not current and older.fullmatch(old.name) and old.is_file() and not old.is_symlink():
            old.unlink()
    _replace(dist / DESCRIPTOR, (json.dumps(listing, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return bundle


_EXCEL_README = """Every table of the release {version} as CSV for Excel.

These are the CSV files of processed/, byte for byte, after a UTF-8 byte-order mark: Excel then reads them
as UTF-8, and the Kazakh and Russian names show as they should. The columns are separated by commas (Excel
set to a language whose list separator is a semicolon: Data > From Text/CSV, then choose the comma). For
anything but Excel, use the files without the mark (processed/*.csv) or the Parquet files.
"""


def _zip(entries: list[tuple[str, bytes]], top: str, stamp: tuple) -> bytes:
    """A zip of the entries under the folder `top`, byte-identical from run to run: the entries in the
    order given, a fixed time and permissions, the same compression."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for arcname, content in entries:
            info = zipfile.ZipInfo(f"{top}/{arcname}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # Unix, whatever the machine
            archive.writestr(info, content, compresslevel=9)
    return data.getvalue()


def _package_files(root: Path, version: str) -> dict[str, bytes]:
    """The files that travel with the data: the licences and the citation (the root's own where it has
    them), which must cite this release, and the changelog, made from the release list."""
    import yaml

    from pipeline.common.yamlfile import read_yaml, yaml_reason
    from pipeline.release import docs

    out = {}
    for item in ("LICENSE-DATA.md", "LICENSE", "CITATION.cff"):
        path = root / item if (root / item).is_file() else ROOT / item
        if not path.is_file():
            raise PipelineError("bundle", f"the release in {root} is incomplete: {item} missing.")
        out[item] = path.read_bytes()
    try:
        citation = read_yaml(path, stage="bundle")
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise PipelineError("bundle", f"{path} is not valid YAML ({yaml_reason(error)}): a merge conflict?") from None
    cited = citation.get("version") if isinstance(citation, dict) else None
    if cited != version:
        raise PipelineError(
            "bundle", f"{path} cites version {cited!r}, not the release {version}: bump it (and pyproject.toml)."
        )
    out["CHANGELOG.md"] = docs.changelog(_release_tables(root)).encode("utf-8")
    return out


def _release_tables(root: Path) -> dict[str, list[dict]]:
    """The tables about the releases as the release publishes them (its CSV files, which the
    descriptor's sha256 vouch for): the changelog of the bundle says what the data says."""
    import csv

    from pipeline.release.changes import RELEASE_TABLES

    tables = {}
    for name in RELEASE_TABLES:
        with (root / "processed" / f"{name}.csv").open(encoding="utf-8", newline="") as file:
            tables[name] = list(csv.DictReader(file))
    return tables


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
        "import pandas as pd  # read_parquet needs pyarrow; the dtype_backend keeps integer columns with nulls integer",
        'results = pd.read_parquet("processed/national_results.parquet", dtype_backend="numpy_nullable")',
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
