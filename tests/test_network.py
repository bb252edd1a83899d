"""fetch and download against real HTTP servers on 127.0.0.1 (no mocked requests): what works.
The hostile servers and inputs are in test_hostile*.py."""

import datetime as dt
import hashlib
import io
import json
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from pipeline.common.defaults import TITLE, Limits
from pipeline.common.errors import PipelineError
from pipeline.net.client import LARGE_FILE_BYTES
from pipeline.net.download import download
from pipeline.stages import refresh
from tests.conftest import make_root, repository_releases, run_cli
from tests.html_fixture import render
from tests.servers import Scripted, ok, serve, serve_folder

REVISION = 1_144_000_123
QUICK = Limits(timeout=5, request_deadline=10, deadline=20, retries=2, backoff=0.01, max_wait=5)


def fetch(root: Path, **options) -> dict:
    """The fetch command's work: the manifest entry of the revision it saved."""
    return refresh(root, **options)[0]


def folder_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def api_answer(html: str, revid: int = REVISION, title: str = TITLE) -> bytes:
    return json.dumps({"parse": {"title": title, "pageid": 72_000_000, "revid": revid, "text": html}}).encode()


@pytest.fixture(scope="session")
def article_fragment():
    from tests.conftest import SOURCE

    return render(SOURCE.read_text(encoding="utf-8"), fragment=True)


@pytest.fixture()
def root(tmp_path):
    return make_root(tmp_path / "root")


def quick(url, **options):
    """fetch() options for a server at `url`: short limits, overridden by any Limits field in `options`."""
    limits = {k: v for k, v in options.items() if k in QUICK.__dict__}
    rest = {k: v for k, v in options.items() if k not in limits}
    return {"api_url": f"{url}/w/api.php", "limits": Limits(**{**QUICK.__dict__, **limits}), **rest}


def test_fetch_saves_a_validated_snapshot_and_makes_it_current(root, article_fragment, fresh_build):
    with serve(Scripted, script=lambda path, n: ok(api_answer(article_fragment))) as (url, server):
        entry = fetch(root, **quick(url))
    ((path, headers),) = server.requests
    query = parse_qs(urlparse(path).query)
    assert query["action"] == ["parse"] and query["page"] == [TITLE] and query["formatversion"] == ["2"]
    assert headers["User-Agent"].startswith("kz-election-2023/0.1 (")
    manifest = json.loads((root / "raw" / "manifest.json").read_text())
    assert manifest["current"] == entry["path"] == f"2023_Kazakh_legislative_election.r{REVISION}.html"
    assert entry["revision_id"] == REVISION and len(manifest["snapshots"]) == 2  # the text snapshot stays
    saved = root / "raw" / entry["path"]
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == entry["sha256"] and saved.stat().st_size == entry["bytes"]
    assert not list((root / "raw").glob("*.tmp"))
    # The pipeline now builds from the HTML and publishes the same data as from the pinned text (in a
    # folder whose own first release is that revision: the repository's is the pinned text).
    first = repository_releases()[-1]  # (its fields, as a template)
    today = dt.datetime.now(dt.UTC).date()  # a first release of a snapshot retrieved today: dated today
    own = first | {"version": f"{today:%Y.%m.%d}", "release_date": today, "snapshot_sha256": entry["sha256"]}
    (root / "releases").mkdir()
    (root / "releases" / "releases.yaml").write_text(yaml.safe_dump([own]), encoding="utf-8")
    result = run_cli("publish", root=root)  # a first release records its tables when first published
    assert result.returncode == 1 and "has not recorded its tables yet" in result.stderr
    result = run_cli("publish", "--accept-changes", "A. Tester", root=root)
    assert result.returncode == 0, result.stderr
    for csv in sorted((fresh_build / "processed").glob("*.csv")):
        # (releases: its snapshot's sha; release_structure_changes: a first release changes no table)
        if csv.name not in ("extraction_inferences.csv", "releases.csv", "release_structure_changes.csv"):
            assert (root / "processed" / csv.name).read_bytes() == csv.read_bytes(), csv.name


def test_fetching_a_revision_already_in_raw_changes_nothing_in_it(root, article_fragment):
    with serve(Scripted, script=lambda path, n: ok(api_answer(article_fragment))) as (url, _):
        first = fetch(root, **quick(url))
        before = folder_digest(root / "raw")
        assert fetch(root, **quick(url)) == first
    assert folder_digest(root / "raw") == before
    # The same revision id with other content is refused: raw/ is immutable.
    with serve(Scripted, script=lambda path, n: ok(api_answer(article_fragment + "<p>edited</p>"))) as (url, _):
        assert_failure_leaves_raw_unchanged(root, url, "is already in raw/")


def test_fetch_pins_a_revision(root, article_fragment):
    def script(path, n):
        assert parse_qs(urlparse(path).query)["oldid"] == ["777"]
        return ok(api_answer(article_fragment, revid=777))

    with serve(Scripted, script=script) as (url, _):
        assert fetch(root, revision=777, **quick(url))["revision_id"] == 777


def test_fetch_waits_for_retry_after_on_429_and_says_so(root, article_fragment, capsys):
    def script(path, n):
        if n == 1:
            return 429, {"Retry-After": "1"}, b"slow down", 0, 0
        return ok(api_answer(article_fragment))

    with serve(Scripted, script=script) as (url, server):
        started = time.monotonic()
        fetch(root, **quick(url))
        waited = time.monotonic() - started
    assert len(server.requests) == 2 and waited >= 1.0
    assert "answered HTTP 429 Too Many Requests; retrying in 1 s (1 of 2)" in capsys.readouterr().err


def assert_failure_leaves_raw_unchanged(root, url, message, **options):
    before = folder_digest(root / "raw")
    with pytest.raises(PipelineError) as caught:
        fetch(root, **quick(url, **options))
    assert message in str(caught.value), str(caught.value)
    assert caught.value.stage == "fetch"
    assert folder_digest(root / "raw") == before
    return caught.value


def test_fetch_gives_up_after_500s(root):
    with serve(Scripted, script=lambda path, n: (500, {}, b"oops", 0, 0)) as (url, server):
        assert_failure_leaves_raw_unchanged(
            root, url, "answered HTTP 500 Internal Server Error (gave up after 2 retries)"
        )
    assert len(server.requests) == 3


def test_fetch_times_out(root):
    with serve(Scripted, script=lambda path, n: (200, {}, b"{}", 2, 0)) as (url, server):
        started = time.monotonic()
        assert_failure_leaves_raw_unchanged(root, url, "sent no answer for 0.3 s", timeout=0.3, retries=1)
        assert time.monotonic() - started < 3


def test_fetch_detects_a_truncated_body(root, article_fragment):
    with serve(Scripted, script=lambda path, n: (200, {}, api_answer(article_fragment)[:5000], 0, 5000)) as (url, _):
        assert_failure_leaves_raw_unchanged(root, url, "broke off after 5,000 bytes")


def test_fetch_refuses_a_page_without_the_tables(root):
    with serve(Scripted, script=lambda path, n: ok(api_answer("<p>This page was vandalised.</p>"))) as (url, _):
        error = assert_failure_leaves_raw_unchanged(root, url, f"revision {REVISION} was downloaded but does not pass")
    assert "expected one table under the heading" in str(error)
    assert not any((root / "build" / "fetch").glob("*.html"))


def test_fetch_reports_an_api_error(root):
    answer = json.dumps({"error": {"code": "nosuchrevid", "info": "There is no revision with ID 5."}}).encode()
    with serve(Scripted, script=lambda path, n: ok(answer)) as (url, _):
        assert_failure_leaves_raw_unchanged(root, url, "nosuchrevid: There is no revision with ID 5.", revision=5)


def test_cli_fetch_failure_has_no_traceback(root):
    with serve(Scripted, script=lambda path, n: (503, {}, b"", 0, 0)) as (url, _):
        result = run_cli("fetch", "--api-url", f"{url}/w/api.php", "--retries", "1", "--backoff", "0.01", root=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "fetch: " in result.stderr and "retrying in 0.01 s (1 of 1)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: [fetch]") and "HTTP 503" in result.stderr


def test_download_verifies_every_file_and_skips_what_is_there(fresh_build, tmp_path):
    dest = tmp_path / "data"
    progress = io.StringIO()
    with serve_folder(fresh_build) as (url, _):
        first = download(url, dest, limits=QUICK, progress=progress)
        second = download(url, dest, limits=QUICK, progress=None)
    descriptor = json.loads((fresh_build / "datapackage.json").read_text())
    assert set(first) == {r["path"] for r in descriptor["resources"]}
    assert {"docs/data_dictionary.md", "docs/quality_report.md", "docs/parquet_views.sql"} <= set(first)
    assert set(first.values()) == {"downloaded"} and set(second.values()) == {"up to date"}
    for relative in first:
        assert (dest / relative).read_bytes() == (fresh_build / relative).read_bytes()
    assert (dest / "datapackage.json").read_bytes() == (fresh_build / "datapackage.json").read_bytes()
    # Not a terminal: one line per large file when it is complete, no carriage-return progress.
    large = [(r["path"], r["bytes"]) for r in descriptor["resources"] if r["bytes"] > LARGE_FILE_BYTES]
    assert (
        "processed/kz_election_2023.duckdb",
        (fresh_build / "processed/kz_election_2023.duckdb").stat().st_size,
    ) in large
    announced, *lines = progress.getvalue().splitlines()
    assert announced == (
        f"download: {len(descriptor['resources'])} files ({sum(r['bytes'] for r in descriptor['resources']):,} bytes) "
        f"to fetch from {url}/, 0 up to date (the command stops after 20 s: --deadline)"
    )
    assert sorted(lines) == sorted(f"  {path}: {size:,} bytes, complete" for path, size in large)
    assert not list(dest.glob(".download-staging*"))


def test_download_refuses_a_file_whose_checksum_differs(fresh_build, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(fresh_build / "processed", served / "processed")
    shutil.copytree(fresh_build / "docs", served / "docs")
    shutil.copy(fresh_build / "datapackage.json", served)
    csv = served / "processed" / "regions.csv"
    csv.write_bytes(csv.read_bytes().replace(b"Abai Region", b"Abay Region"))
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    before = folder_digest(dest)
    with serve_folder(served) as (url, _):
        with pytest.raises(PipelineError, match="processed/regions.csv does not match datapackage.json"):
            download(url, dest, limits=QUICK, progress=None)
        result = run_cli("download", "--base-url", url, "--dest", str(dest), "--retries", "1")
    assert folder_digest(dest) == before
    assert result.returncode == 1 and "Traceback" not in result.stderr and "does not match" in result.stderr


def test_fetch_says_what_the_new_revision_would_change_against_the_newest_release(published_copy, article_fragment):
    edited = article_fragment.replace("Däulet Turlyhanov", "Däulet Turlykhanov", 1)
    assert edited != article_fragment
    raw = folder_digest(published_copy / "raw")
    with serve(Scripted, script=lambda path, n: ok(api_answer(edited))) as (url, _):
        fetched = run_cli("fetch", "--dry-run", "--api-url", url, "--retries", "0", root=published_copy)
    assert fetched.returncode == 0, fetched.stderr
    assert folder_digest(published_copy / "raw") == raw and "--dry-run: raw/ is unchanged" in fetched.stdout
    assert "Against the newest release it changes" in fetched.stdout
    assert "candidate_name: 'Däulet Turlyhanov' -> 'Däulet Turlykhanov'" in fetched.stdout
    assert "`make` will stop and show them" in fetched.stdout  # (that stop: tests/test_release.py)
    assert not (published_copy / "build" / "preview").exists()
