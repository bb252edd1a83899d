"""Shared fixtures: the real snapshot, its extraction, and builds in temporary roots."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import ROOT
from pipeline.extract.text import parse_text
from pipeline.stages import document_tables
from tests import forkserver

SOURCE = ROOT / "raw" / "2023_Kazakh_legislative_election.txt"
LONGEST_FIRST = (  # measured (seconds per file), longest first
    "tests/test_site.py",
    "tests/test_site_languages.py",
    "tests/test_hostile.py",
    "tests/test_hostile_download.py",
    "tests/test_damaged_inputs.py",
    "tests/test_publish.py",
    "tests/test_build_cache.py",
    "tests/test_mutations.py",
    "tests/test_stations.py",
    "tests/test_release_gate.py",
    "tests/test_atomic.py",
    "tests/test_concurrency.py",
    "tests/test_network.py",
    "tests/test_metadata.py",
    "tests/test_checks.py",
)


def pytest_collection_modifyitems(items):
    """The longest tests first, so that the workers finish together."""

    def rank(item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


@pytest.fixture(scope="session")
def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


def extract_text(text: str) -> dict[str, list[dict]]:
    """Run the extract stage (and the derived tables) on article text (no files, no checksum)."""
    return document_tables(parse_text(text, "test"))


def replace_once(text: str, old: str, new: str) -> str:
    """Tamper with the article: `old` must occur exactly once, so a test cannot silently miss."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the source"
    return text.replace(old, new)


@pytest.fixture(scope="session")
def tables(source_text) -> dict[str, list[dict]]:
    return extract_text(source_text)


def make_root(folder: Path, text: str | None = None) -> Path:
    """A pipeline root holding raw/ with the snapshot (optionally replaced) and a matching manifest."""
    raw = folder / "raw"
    raw.mkdir(parents=True)
    manifest = json.loads((ROOT / "raw" / "manifest.json").read_text(encoding="utf-8"))
    data = SOURCE.read_bytes() if text is None else text.encode("utf-8")
    (raw / SOURCE.name).write_bytes(data)
    entry = manifest["snapshots"][0]
    entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (raw / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def run_cli(*args: str, root: Path | None = None, fresh: bool = False) -> subprocess.CompletedProcess:
    """`python -m pipeline [--root ROOT] ARGS`, its output captured: in a child of the test worker's fork
    server (tests/forkserver.py: a real process, without the 0.25 s of imports), or with `fresh` in a new
    interpreter (a hash seed of its own: for a build compared with another byte for byte)."""
    arguments = (["--root", str(root)] if root else []) + list(args)
    if fresh:
        command = [sys.executable, "-m", "pipeline", *arguments]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return forkserver.run(arguments, cwd=ROOT, timeout=120)


def made_once(request, tmp_path_factory, name: str, make) -> Path:
    """A folder made once per test run by `make(folder)` and shared, read only, by the run's workers
    (pytest-xdist): the first to ask makes it under a lock, the others wait for it and take it. Without
    xdist, the session's own."""
    import fcntl

    if not hasattr(request.config, "workerinput"):  # (not a worker of pytest-xdist)
        folder = tmp_path_factory.mktemp(name)
        make(folder)
        return folder
    run = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's
    folder = run / name
    with open(run / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (run / f"{name}.made").exists():
            shutil.rmtree(folder, ignore_errors=True)  # (a worker that failed half way)
            folder.mkdir()
            make(folder)
            (run / f"{name}.made").touch()
    return folder


@pytest.fixture(scope="session")
def fresh_build(request, tmp_path_factory) -> Path:
    """A full publish from the pinned snapshot into a temporary root (read only: made once per run)."""

    def publish(folder: Path) -> None:
        result = run_cli("publish", root=make_root(folder), fresh=True)
        assert result.returncode == 0, result.stderr

    return made_once(request, tmp_path_factory, "fresh", publish)


def root_with_release(folder: Path, text: str, release: Path) -> Path:
    """A root whose outputs are a copy of the release built in `release` and whose raw/ holds `text`
    beside the pinned snapshot, as the next release (the folder's own releases/releases.yaml), so that
    publish goes on to build it (and to stop where it must)."""
    root = make_root(folder)
    for name in ("processed", "docs"):
        shutil.copytree(release / name, root / name)
    shutil.copy(release / "datapackage.json", root / "datapackage.json")
    next_release(root, add_snapshot(root, text))
    return root


def add_snapshot(root: Path, text: str, retrieved_at: str = "2026-11-26T12:00:00Z") -> str:
    """Add a revision of the article to root/raw/ beside the snapshots already there and make it the
    current one, as `fetch` does (retrieved on 2026-11-26, after the pinned one, unless `retrieved_at` says
    otherwise); returns its sha256."""
    data = text.encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    manifest_path = root / "raw" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    name = f"{SOURCE.stem}.{sha[:12]}{SOURCE.suffix}"
    if all(entry["path"] != name for entry in manifest["snapshots"]):
        (root / "raw" / name).write_bytes(data)
        entry = {k: v for k, v in manifest["snapshots"][0].items() if not k.startswith("retrieved")}
        entry |= {"path": name, "retrieved_at": retrieved_at, "sha256": sha, "bytes": len(data)}
        manifest["snapshots"].append(entry)
    manifest["current"] = name
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return sha


def repository_releases() -> list[dict]:
    """The repository's release list, as written."""
    import yaml

    return yaml.safe_load((ROOT / "releases" / "releases.yaml").read_text(encoding="utf-8"))


def _after(version: str) -> str:
    """The next release on the same day as `version` (YYYY.MM.DD.N): a release the tests make, never dated
    after today."""
    day, n = version[:10], version[11:]
    return f"{day}.{int(n or 0) + 1}"


CURRENT = repository_releases()[0]["version"]  # the repository's newest release
NEXT = _after(CURRENT)  # the release the tests add after it
NEXT_DATE = NEXT[:10].replace(".", "-")


def own_release_list(root: Path, entries: list[dict]) -> Path:
    """Give `root` a release list of its own (releases/releases.yaml) holding `entries`, with the
    repository's records of the tables of those of them it has (releases/structure/): a release list is
    read with the records beside it, never with another list's."""
    import yaml

    folder = root / "releases"
    (folder / "structure").mkdir(parents=True, exist_ok=True)
    (folder / "releases.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    for entry in entries:
        record = ROOT / "releases" / "structure" / f"{entry['version']}.yaml"
        if record.is_file():
            shutil.copy(record, folder / "structure" / record.name)
    return folder / "releases.yaml"


def next_release(root: Path, sha: str, version: str | None = None) -> None:
    """Enter the snapshot `sha` as a release after the newest of the folder's list (its own
    releases/releases.yaml, else the repository's), in the folder's own list (as a maintainer does for a
    new snapshot)."""
    import datetime as dt

    import yaml

    own = root / "releases" / "releases.yaml"
    entries = yaml.safe_load(own.read_text(encoding="utf-8")) if own.is_file() else repository_releases()
    if not own.is_file():
        own_release_list(root, entries)  # (with the repository's records of their tables)
    version = version or NEXT
    date = dt.date(*map(int, version.split(".")[:3]))
    entry = entries[0] | {
        "version": version,
        "release_date": date,
        "previous_version": entries[0]["version"],
        "snapshot_sha256": sha,
    }
    own.parent.mkdir(exist_ok=True)
    own.write_text(yaml.safe_dump([entry, *entries], allow_unicode=True), encoding="utf-8")


@pytest.fixture()
def staged_anew(tmp_path, monkeypatch) -> Path:
    """A build cache holding what the repository's holds but its staged releases, for this test's builds: a
    publish stages its release anew (validation, database, exports: more than half a second, not the tenth
    of a second of a release taken from the cache), until it has staged one itself; for the tests that kill
    or race a publish midway."""
    target = without_staged_releases(tmp_path / "cache")
    monkeypatch.setenv("PIPELINE_CACHE", str(target))
    return target


def without_staged_releases(target: Path, source: Path | None = None, skip: tuple[str, ...] = ("release",)) -> Path:
    """A copy of the repository's build cache (or of `source`) but its staged releases (the kinds in
    `skip`), in `target`. Entries are linked, not copied (the cache never changes one in place: a new
    entry replaces the name); one that another test worker's build prunes meanwhile is simply not there."""
    from pipeline.common import cache

    source = source or cache.folder()
    target.mkdir(mode=0o700)
    kinds = [k for k in source.iterdir() if k.is_dir() and k.name not in skip] if source.is_dir() else []
    for kind in kinds:
        (target / kind.name).mkdir(mode=0o700)
        for entry in kind.iterdir():
            if entry.name.startswith("."):  # (an entry being written)
                continue
            with contextlib.suppress(FileNotFoundError):
                try:
                    os.link(entry, target / kind.name / entry.name)
                except OSError:  # (another file system)
                    shutil.copy2(entry, target / kind.name / entry.name)
    return target


@pytest.fixture()
def published_copy(tmp_path, fresh_build) -> Path:
    """A root with a good release already published, for tests that try to break it."""
    root = tmp_path / "root"
    shutil.copytree(fresh_build, root)
    return root


# Linked copies: a copy of a root whose files are hard links to the source's, but under the top-level entries
# named `copied` (real copies) and `left_out` (not copied). Copying the 6 MB of a release costs the kernel up to
# a tenth of a second, a link next to nothing. For the tests whose commands never write a published file in
# place (a publish replaces processed/ whole and writes through pipeline/common/files.py; a download and a
# fetch replace files): a byte written through a link would change the source, which the session's end checks.
_LINKED: dict[tuple[Path, str], dict[str, str]] = {}  # (source, linked entry) -> its files' digests then


def linked_copy(source: Path, target: Path, copied: tuple[str, ...] = (), left_out: tuple[str, ...] = ()) -> Path:
    for entry in source.iterdir():
        if entry.name not in copied + left_out and (source, entry.name) not in _LINKED:
            _LINKED[source, entry.name] = _digest(entry)

    def ignored(folder: str, names: list[str]) -> set[str]:
        return {*copied, *left_out} & set(names) if Path(folder) == source else set()

    shutil.copytree(source, target, symlinks=True, ignore=ignored, copy_function=_link_or_copy)
    for name in copied:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, symlinks=True)
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # (another file system)
        shutil.copy2(source, target)


def _digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="session", autouse=True)
def _linked_sources_unchanged():
    """At the session's end, every root a linked copy was made of holds what it held then, byte for byte."""
    yield
    changed = [f"{source}/{name}" for (source, name), then in _LINKED.items() if _digest(source / name) != then]
    assert changed == [], f"a test wrote through a link into {changed}"


def release_linked(source: Path, target: Path) -> Path:
    """A copy of the root `source` whose processed/ is linked (linked_copy), the rest copied."""
    return linked_copy(source, target, copied=tuple(e.name for e in source.iterdir() if e.name != "processed"))


@pytest.fixture()
def published_linked(tmp_path, fresh_build) -> Path:
    """published_copy with its processed/ linked (release_linked): for the tests that write nothing into
    processed/ themselves."""
    return release_linked(fresh_build, tmp_path / "root")


def database(root: Path) -> Path:
    """The published DuckDB file under a root."""
    from pipeline import metadata

    return root / "processed" / metadata.load().meta["database"]


def committed_digest(*paths: str) -> dict[str, str]:
    """sha256 of every published file as committed (git HEAD), whatever the working tree holds: so that
    `make clean && make test` still compares the committed release with a fresh build. By default the
    release (processed/, its documents in docs/, datapackage.json); `paths` names others (e.g. site)."""
    from pipeline.release.swap import DOCS

    paths = paths or ("processed", "datapackage.json", *DOCS)
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "-z", "HEAD", "--", *paths],
        capture_output=True,
        text=True,
    )
    if listing.returncode != 0:
        pytest.skip("not a git checkout: there is no committed release to compare")
    out = {}
    for entry in filter(None, listing.stdout.split("\0")):
        meta, path = entry.split("\t", 1)
        blob = subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "blob", meta.split()[2]], capture_output=True, check=True
        ).stdout
        out[path] = hashlib.sha256(blob).hexdigest()
    return out


def scanned_tables(con, sql: str) -> set[str]:
    """The tables DuckDB's plan for a query scans (views expanded), with the variable `tolerance` set: what
    the build's own reading of a check (pipeline/checks/run.py, reads) is tested against."""
    con.execute("SET VARIABLE tolerance = 0.5")
    (_, plan), *_ = con.execute("EXPLAIN (FORMAT json) " + sql).fetchall()

    def scans(node) -> set[str]:
        if isinstance(node, list):
            return set().union(set(), *map(scans, node))
        if not isinstance(node, dict):
            return set()
        info = node.get("extra_info")
        table = info.get("Table") if isinstance(info, dict) else None
        return ({table.rsplit(".", 1)[-1]} if table else set()) | scans(node.get("children", []))

    return scans(json.loads(plan))


def tree_digest(root: Path, folder: str | None = None) -> dict[str, str]:
    """sha256 of every published file under a root (processed/, datapackage.json, the release's docs), or of every file
    in one folder of it (e.g. site)."""
    if folder:
        files = sorted(p for p in (root / folder).rglob("*") if p.is_file())
    else:
        from pipeline.release.swap import DOCS  # (docs/ also holds hand-written pages, e.g. docs/scale.md)

        candidates = [*(root / "processed").glob("*"), root / "datapackage.json", *(root / d for d in DOCS)]
        files = sorted(p for p in candidates if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="session")
def stale_release(tmp_path_factory, source_text) -> Path:
    """A root whose published release (built from an edited article) differs from what its raw/ now
    builds (the pinned snapshot, the repository's release): a publish replaces every data file, so a
    failed one shows. (Publish never reads the published release to decide: the release gate is
    tested in test_release.py.)"""
    root = make_root(
        tmp_path_factory.mktemp("stale"), replace_once(source_text, "Däulet Turlyhanov", "Däulet Turlykhanov")
    )
    edited = json.loads((root / "raw" / "manifest.json").read_text(encoding="utf-8"))["snapshots"][0]["sha256"]
    # the edited article as the folder's own (first) release, for a moment
    own = own_release_list(root, [repository_releases()[0] | {"snapshot_sha256": edited, "previous_version": None}])
    assert run_cli("publish", root=root).returncode == 0
    shutil.rmtree(own.parent)
    good = make_root(tmp_path_factory.mktemp("pinned"))
    shutil.copytree(good / "raw", root / "raw", dirs_exist_ok=True)  # raw/ now holds the pinned snapshot
    return root


def tree(folder: Path) -> dict[str, tuple]:
    """Everything under a folder, byte for byte: files by sha256, folders, symbolic links by target."""
    import os

    out: dict[str, tuple] = {}
    if not folder.exists():
        return out
    for directory, folders, files in os.walk(folder):
        for name in folders + files:
            path = Path(directory) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                out[key] = ("link", os.readlink(path))
            elif path.is_dir():
                out[key] = ("folder",)
            else:
                out[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return out


# The site's tests (tests/test_site.py, tests/test_site_languages.py): the site built from a fresh release, its
# database, and the browser.
@pytest.fixture(scope="session")
def built(request, fresh_build, tmp_path_factory):
    """The site of a fresh release (read only: made once per run; its charts' drawings from the build
    cache, pipeline/site/charts.py)."""
    from pipeline.site import build as site

    made = made_once(request, tmp_path_factory, "portal", lambda folder: site.build(fresh_build, folder / "site"))
    return made / "site"


@pytest.fixture(scope="module")
def con(fresh_build):
    import duckdb

    connection = duckdb.connect(str(database(fresh_build)), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.site_browser import CHROMIUM_ARGS

    executable = shutil.which("chromium-headless-shell") or shutil.which("chromium")  # (make test: the first)
    if executable is None:
        pytest.fail(
            "Debian's chromium-headless-shell is needed for the browser tests: `make test` installs it "
            "(apt-get install chromium-headless-shell fonts-liberation)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
