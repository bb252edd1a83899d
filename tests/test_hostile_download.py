"""Fault injection for `download`: hostile descriptors and servers, interrupted moves, a staging folder
that is a link, two downloads at once, a client with nothing but requests.

Every case asserts: exit code 1; one clear `error:` line as the last thing on stderr, and no traceback;
the target folder, raw/ and the release unchanged byte for byte; a bounded run time. The limits are
short (a fraction of a second) so that the suite stays fast; the defaults are in `--help`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import ROOT
from pipeline.common.defaults import MAX_DESCRIPTOR_BYTES
from tests import forkserver
from tests.conftest import linked_copy, tree
from tests.hostile import RETRIED, SHORT, Run, assert_clear_failure, descriptor, resource_entry, run_main
from tests.servers import (
    Scripted,
    answer,
    closed_port,
    drip,
    endless,
    endless_chunked,
    ok,
    routed,
    serve,
    serve_folder,
    serve_raw,
    slow_body,
    slow_headers,
    stall,
)

# --- download: hostile descriptors ---------------------------------------------------------------


@pytest.fixture(scope="session")
def downloaded(fresh_build, tmp_path_factory) -> Path:
    """A folder holding a complete earlier download and a file of the user's own."""
    dest = tmp_path_factory.mktemp("downloaded") / "data"
    with serve_folder(fresh_build) as (url, _):
        assert run_main("download", "--base-url", url, "--dest", str(dest), *SHORT).code == 0
    (dest / "notes.txt").write_text("my notes")
    return dest


@pytest.fixture()
def dest(downloaded, tmp_path) -> Path:
    """A copy of `downloaded` whose files are hard links to its own: linking costs nothing where copying its
    6 MB in each of some seventy tests costs seconds. A download replaces the files of its target, never
    writes into them (pipeline/net/download.py), and a byte written into one through a link would still
    change the tree each test compares after its run; the tests that change a file themselves replace it
    (`rewrite`)."""
    copy = tmp_path / "data"
    linked_copy(downloaded, copy)
    return copy


@pytest.fixture(scope="session")
def downloaded_tree(downloaded) -> dict:
    """tree(downloaded), hashed once: a `dest` links its files, so this is tree(dest) until a test changes it
    (and a byte written into `downloaded` through a link since would show in every later test)."""
    return tree(downloaded)


def rewrite(path: Path, text: str) -> None:
    """Replace a file of a `dest` by a new one holding `text` (writing into it would write into `downloaded`
    too, whose files it links)."""
    path.unlink()
    path.write_text(text)


HOSTILE_DESCRIPTORS = {
    "not JSON": (b"<html>not a descriptor</html>", "is not a JSON descriptor"),
    "a JSON list": (b"[]", "has no 'resources' list"),
    "no resources": (b'{"name": "x"}', "has no 'resources' list"),
    "resources empty": (b'{"resources": []}', "lists no files"),
    "a resource not an object": (b'{"resources": ["processed/x.csv"]}', "is not an object"),
    "hash not a string": (descriptor(resource_entry(hash=123)), "needs a hash 'sha256:"),
    "hash of another kind": (descriptor(resource_entry(hash="md5:" + "0" * 32)), "needs a hash 'sha256:"),
    "no hash": (descriptor({"path": "processed/x.csv", "bytes": 3}), "needs a hash"),
    "path an integer": (descriptor(resource_entry(path=5)), "a path that is not text (int)"),
    "path a list (multipart)": (descriptor(resource_entry(path=["a.csv", "b.csv"])), "multipart path"),
    "bytes 1e999": (descriptor(resource_entry()).replace(b'"bytes": 8', b'"bytes": 1e999'), "needs 'bytes'"),
    "bytes NaN": (descriptor(resource_entry()).replace(b'"bytes": 8', b'"bytes": NaN'), "is not a JSON descriptor"),
    "bytes negative": (descriptor(resource_entry(bytes=-1)), "needs 'bytes'"),
    "bytes true": (descriptor(resource_entry(bytes=True)), "needs 'bytes'"),
    "bytes a float": (descriptor(resource_entry(bytes=8.0)), "needs 'bytes'"),
    "NUL in a path": (descriptor(resource_entry(path="processed/a\u0000.csv")), "control, invisible or invalid"),
    "right-to-left override in a path": (
        descriptor(resource_entry(path="processed/\u202evsc.exe")),
        "control, invisible or invalid",
    ),
    "lone surrogate in a path": (
        descriptor(resource_entry()).replace(b"extra.csv", b"\\ud800.csv"),
        "control, invisible or invalid",
    ),
    "300-character file name": (
        descriptor(resource_entry(path="processed/" + "a" * 300 + ".csv")),
        "longer than 255 bytes",
    ),
    "path '.'": (descriptor(resource_entry(path=".")), "'.' or '..' part"),
    "path with '..'": (descriptor(resource_entry(path="../outside.csv")), "'.' or '..' part"),
    "path with a '.' part beside the plain one": (
        descriptor(resource_entry(path="processed/regions.csv"), resource_entry(path="processed/./regions.csv")),
        "'.' or '..' part",
    ),
    "empty part": (descriptor(resource_entry(path="processed//x.csv")), "empty, '.' or '..' part"),
    "absolute path": (descriptor(resource_entry(path="/etc/cron.d/x")), "it is absolute"),
    "backslash": (descriptor(resource_entry(path="processed\\x.csv")), "backslash"),
    "a URL as the path": (descriptor(resource_entry(path="http://example.org/x.csv")), "is a URL"),
    "a hidden name": (descriptor(resource_entry(path=".git/hooks/post-checkout")), "hidden name"),
    "the descriptor's own name": (descriptor(resource_entry(path="datapackage.json")), "descriptor's own name"),
    "a folder in the target": (descriptor(resource_entry(path="processed")), "is a folder"),
    "a file then a folder of the same name": (
        descriptor(resource_entry(path="zz_a"), resource_entry(path="zz_a/b")),
        "both as a file and as a folder",
    ),
    "a folder then a file of the same name": (
        descriptor(resource_entry(path="zz_a/b"), resource_entry(path="zz_a")),
        "both as a file and as a folder",
    ),
    "a file in the target used as a folder": (
        descriptor(resource_entry(path="notes.txt/x.csv")),
        "notes.txt is a file, not a folder",
    ),
    "the same path twice with two hashes": (
        descriptor(resource_entry(), resource_entry(data=b"other")),
        "lists 'processed/extra.csv' twice",
    ),
    "two paths that differ only in case": (
        descriptor(resource_entry(path="processed/A.csv"), resource_entry(path="processed/a.csv")),
        "in case",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_DESCRIPTORS)
def test_a_hostile_descriptor_is_refused_before_anything_is_downloaded(case, dest, downloaded_tree):
    body, message = HOSTILE_DESCRIPTORS[case]
    before = downloaded_tree
    with serve(Scripted, script=lambda path, n: ok(body)) as (url, server):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert_clear_failure(run, "[download]", message, within=2)
    assert tree(dest) == before
    assert [path for path, _ in server.requests] == ["/datapackage.json"]  # no file was asked for


def test_an_oversized_descriptor_is_refused_unread(dest, downloaded_tree):
    before = downloaded_tree
    headers = {"Content-Length": str(200 * 2**20)}
    with serve_raw(answer(200, headers)) as (url, server):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert_clear_failure(
        run, f"announces 209,715,200 bytes, but this command reads at most {MAX_DESCRIPTOR_BYTES:,}", within=2
    )
    assert tree(dest) == before


PEAK_MEMORY = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE, text=True)
sys.stderr.write(result.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(result.returncode)
"""


def test_an_endless_descriptor_is_cut_at_its_cap_in_little_memory(dest, downloaded_tree):
    """The client runs in its own process, started from a small one, so that its peak memory is its own."""
    before = downloaded_tree
    with serve_raw(endless_chunked) as (url, _):
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                PEAK_MEMORY,
                sys.executable,
                "-m",
                "pipeline",
                "download",
                "--base-url",
                url,
                "--dest",
                str(dest),
                *SHORT,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    run = Run(result.returncode, "", result.stderr, time.monotonic() - started)
    assert_clear_failure(run, f"sent more than the {MAX_DESCRIPTOR_BYTES:,} bytes this command reads at most", within=5)
    peak_mb = int(result.stdout) / 1024  # kB on Linux
    assert peak_mb < 100, f"peak memory {peak_mb:.0f} MB"
    assert tree(dest) == before


# --- download: hostile servers -------------------------------------------------------------------

FILE = b"0123456789"
ONE_FILE = descriptor(resource_entry(path="processed/ten.csv", data=FILE))

HOSTILE_FILE_SERVERS = {
    "a file that streams for ever": (endless, "sent more than the 10 bytes its descriptor declares"),
    "a file that announces 100,000,000 bytes": (
        slow_body,
        "announces 100,000,000 bytes, but the descriptor declares 10",
    ),
    "a file sent one byte every 50 ms": (drip, "bytes per second this command accepts"),
    "a server that never answers": (stall, "sent no answer for 0.3 s"),
    "headers sent one byte every 50 ms": (slow_headers, "did not send its status line and headers within 0.6 s"),
    "a Content-Length far above the declared bytes": (
        answer(200, {"Content-Length": "10000010"}, FILE),
        "announces 10,000,010 bytes, but the descriptor declares 10",
    ),
    "a body shorter than declared": (answer(200, {}, FILE[:4]), "sent 4 bytes, but the descriptor declares 10"),
    "a body with another hash": (
        answer(200, {"Content-Length": "10"}, b"9876543210"),
        "does not match datapackage.json",
    ),
    "429 with Retry-After: 999999": (answer(429, {"Retry-After": "999999"}), "asks to wait 12 days before retrying"),
    "429 with Retry-After in 2100": (
        answer(429, {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}),
        "before retrying: more than the 60 s",
    ),
    "503 with an unreadable Retry-After": (
        answer(503, {"Retry-After": "soon"}),
        "answered HTTP 503 X (gave up after 2 retries)",
    ),
    "404": (answer(404, {}), "answered HTTP 404"),
}


@pytest.mark.parametrize("case", HOSTILE_FILE_SERVERS)
def test_a_hostile_file_server_ends_in_a_clear_error_and_changes_nothing(case, dest, downloaded_tree):
    behaviour, message = HOSTILE_FILE_SERVERS[case]
    before = downloaded_tree
    with serve_raw(routed({"/datapackage.json": ONE_FILE}, behaviour)) as (url, _):
        run = run_main(
            "download", "--base-url", url, "--dest", str(dest), *SHORT, *(RETRIED if "Retry-After" in case else [])
        )
    assert_clear_failure(run, "[download]", message, within=2.5)
    assert tree(dest) == before


def redirect(location: str, body):
    """A behaviour: a redirect to `location`, its body from `body` (a behaviour) or none."""

    def behaviour(conn, server, path=None):
        head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nConnection: close\r\n\r\n".encode()
        conn.sendall(head)
        if body is not None:
            body(conn, server, path)

    return behaviour


def endless_bytes(conn, server, path=None):
    while not server.stop.is_set():
        conn.sendall(b"x" * 65536)


def test_a_redirect_is_followed_without_reading_its_body(dest):
    """A redirect whose body never ends: the client must not read it (requests would, whole)."""
    files = {"/datapackage.json": ONE_FILE, "/real/ten.csv": FILE}
    with serve_raw(routed(files, redirect("/real/ten.csv", endless_bytes))) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert run.code == 0 and run.seconds < 2, run.err
    assert (dest / "processed" / "ten.csv").read_bytes() == FILE


@pytest.mark.parametrize(
    "location, message",
    [
        ("file:///etc/passwd", "redirects to 'file:///etc/passwd', which is not a usable http(s) URL"),
        ("/processed/ten.csv", "redirects more than 5 times"),
    ],
)
def test_a_hostile_redirect_is_refused(location, message, dest, downloaded_tree):
    before = downloaded_tree
    with serve_raw(routed({"/datapackage.json": ONE_FILE}, redirect(location, None))) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert_clear_failure(run, message, within=2)
    assert tree(dest) == before


def test_two_downloads_into_one_folder_take_turns(fresh_build, dest, downloaded_tree):
    from pipeline.common.lock import build_lock

    before = downloaded_tree
    with serve_folder(fresh_build) as (url, _), build_lock(dest, "test", holder=False):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT, "--wait", "0.3")
    assert "download: another download into" in run.err and "waiting for it to finish (at most 0.3 s)" in run.err
    assert_clear_failure(run, "still holds its lock after 0.3 s; nothing was changed", within=3)
    assert tree(dest) == before


def test_a_descriptor_server_that_stalls_or_drips_is_cut_off(tmp_path):
    for behaviour, message in (
        (stall, "sent no answer for 0.3 s"),
        (slow_body, "announces 100,000,000 bytes"),
        (drip, "bytes per second"),
        (slow_headers, "did not send its status line and headers"),
    ):
        with serve_raw(behaviour) as (url, _):
            run = run_main("download", "--base-url", url, "--dest", str(tmp_path / "new"), *SHORT)
        assert_clear_failure(run, message, within=2.5)
        assert not (tmp_path / "new").exists()  # a target it created is removed again


def test_retries_are_announced_and_bounded_by_the_deadline(dest, downloaded_tree):
    before = downloaded_tree
    with serve_raw(routed({"/datapackage.json": ONE_FILE}, answer(503, {"Retry-After": "1"}))) as (url, server):
        run = run_main(
            "download",
            "--base-url",
            url,
            "--dest",
            str(dest),
            "--timeout",
            "0.3",
            "--retries",
            "5",
            "--deadline",
            "1.5",
        )
    error = assert_clear_failure(run, "a retry in 1 s would pass the command's deadline of 1.5 s", within=2)
    assert "answered HTTP 503" in error
    notices = [line for line in run.err.splitlines() if not line.startswith("error:")]
    assert notices == [
        f"download: 1 file (10 bytes) to fetch from {url}/, 0 up to date (the command stops after 1.5 s: --deadline)",
        f"download: {url}/processed/ten.csv answered HTTP 503 X; retrying in 1 s (1 of 5)",
    ]
    assert tree(dest) == before


def test_a_server_that_is_down_is_named_in_words(tmp_path):
    url = closed_port()
    run = run_main("download", "--base-url", url, "--dest", str(tmp_path / "d"), *SHORT)
    assert_clear_failure(run, "refused the connection: no server is listening there", "(no retries: --retries 0)")
    run = run_main("download", "--base-url", url, "--dest", str(tmp_path / "d"), "--retries", "2", "--backoff", "0.01")
    assert_clear_failure(run, "refused the connection", "(gave up after 2 retries)")
    assert run.err.count("retrying in") == 2


def test_a_machine_without_dns_is_told_so(tmp_path):
    run = run_main("download", "--base-url", "http://kz-election-2023.invalid", "--dest", str(tmp_path / "d"), *SHORT)
    assert_clear_failure(run, "cannot look up the host 'kz-election-2023.invalid'", "no network or no DNS")


def test_a_staging_folder_that_is_a_symlink_cannot_redirect_the_download(fresh_build, dest, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / ".download-staging").symlink_to(outside)
    with serve_folder(fresh_build) as (url, _):
        rewrite(dest / "processed" / "regions.csv", "stale")
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert run.code == 0, run.err
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert not list(dest.glob(".download-staging*"))
    assert (dest / "processed" / "regions.csv").read_bytes() == (fresh_build / "processed" / "regions.csv").read_bytes()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dest", "{file}"], "exists and is not a folder"),
        (["--timeout", "0"], "argument --timeout: must be above 0"),
        (["--timeout", "-1"], "argument --timeout: must be above 0"),
        (["--timeout", "nan"], "argument --timeout: must be above 0"),
        (["--timeout", "soon"], "argument --timeout: expected a number"),
        (["--deadline", "inf"], "argument --deadline: must be above 0 and at most 86400"),
        (["--retries", "-1"], "argument --retries: must be at least 0"),
        (["--retries", "1.5"], "argument --retries: expected a whole number"),
        (["--base-url", "ftp://example.org/data"], "'ftp://example.org/data/datapackage.json', which is not a usable"),
        (["--base-url", "not a url"], "which is not a usable http(s) URL"),
        (["--base-url", "http://127.0.0.1:99999/"], "which is not a usable http(s) URL"),
        (["--base-url", "http://127.0.0.1:abc/"], "which is not a usable http(s) URL"),
        (["--base-url", "http://[::1"], "which is not a usable http(s) URL"),
        (["--base-url", "http://" + "a" * 64 + ".invalid/"], "cannot send a request to"),
        (["--base-url", "http://127.0.0.1:1/\x07"], "argument --base-url: must be printable text"),
        (["--contact", "me\r\nX-Injected: 1"], "argument --contact: must be printable text"),
    ],
)
def test_bad_download_options(argv, message, tmp_path):
    (tmp_path / "a-file").write_text("x")
    argv = [a.replace("{file}", str(tmp_path / "a-file")) for a in argv]
    if "--base-url" not in argv:
        argv += ["--base-url", closed_port()]
    if "--dest" not in argv:
        argv += ["--dest", str(tmp_path / "d")]
    assert_clear_failure(run_main("download", *argv), message, within=2)
    assert (tmp_path / "a-file").read_text() == "x" and not (tmp_path / "d").exists()


def older_files(dest: Path) -> dict:
    """Make three files of a complete download older versions (so that a download replaces them); the
    folder's tree."""
    for relative in ("processed/regions.csv", "processed/parties.csv", "docs/quality_report.md"):
        rewrite(dest / relative, "an older version")
    return tree(dest)


@pytest.mark.parametrize("fault", ["disk full", "Ctrl-C"])
def test_a_failure_while_moving_files_in_puts_everything_back(fresh_build, dest, monkeypatch, fault):
    """The disk fills up (ENOSPC), or the user presses Ctrl-C, at the fourth rename into the target: the
    files already moved are put back at once."""
    import errno

    import pipeline.net.download as module

    before = older_files(dest)
    real_replace, calls = os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 4:
            if fault == "Ctrl-C":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(module.os, "replace", failing_replace)
    with serve_folder(fresh_build) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    if fault == "Ctrl-C":
        assert run.code == 130 and run.err.strip().splitlines()[-1] == "error: [download] interrupted."
    else:
        assert_clear_failure(run, "No space left on device", "the folder is as it was")
    assert tree(dest) == before


def test_the_download_client_needs_nothing_but_requests(fresh_build, tmp_path):
    """A virtual environment holding only requests (and what requests needs) runs the download."""
    import requests

    site = tmp_path / "site"
    site.mkdir()
    packages = Path(requests.__file__).parent.parent
    for name in ("requests", "urllib3", "idna", "certifi", "charset_normalizer"):
        (site / name).symlink_to(packages / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    (tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "only-requests.pth").write_text(f"{site}\n")
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from pipeline.cli import main; sys.exit(main())"
    probe = subprocess.run([str(python), "-c", "import yaml"], capture_output=True, text=True)
    assert "No module named 'yaml'" in probe.stderr  # the environment really lacks the build stack
    with serve_folder(fresh_build) as (url, _):
        result = subprocess.run(
            [str(python), "-c", code, str(ROOT), "download", "--base-url", url, "--dest", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    for relative in (
        "processed/regions.csv",
        "docs/data_dictionary.md",
        "docs/quality_report.md",
        "docs/parquet_views.sql",
        "datapackage.json",
    ):
        assert (tmp_path / "data" / relative).read_bytes() == (fresh_build / relative).read_bytes()


# --- found by a hostile review: more inputs that once crashed, hung or changed what they must not ---


def test_retry_after_with_a_non_ascii_digit(dest, downloaded_tree):
    before = downloaded_tree
    with serve_raw(routed({"/datapackage.json": ONE_FILE}, answer(429, {"Retry-After": "\u00b2"}))) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT, *RETRIED)
    assert_clear_failure(run, "answered HTTP 429 X (gave up after 2 retries)", within=2)
    assert tree(dest) == before


@pytest.mark.parametrize("location", ["http://[::1/x", "http://127.0.0.1:99999/x", "http://" + "a" * 300 + ".invalid/"])
def test_a_redirect_to_an_unusable_url(location, dest, downloaded_tree):
    before = downloaded_tree
    with serve_raw(routed({"/datapackage.json": ONE_FILE}, redirect(location, None))) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert_clear_failure(run, "[download]", within=2)
    assert tree(dest) == before


def test_a_contact_in_any_script_is_sent_percent_encoded(tmp_path):
    """A release of one file: every request carries the same User-Agent, whatever the release holds."""
    served = tmp_path / "served"
    (served / "processed").mkdir(parents=True)
    (served / "processed" / "ten.csv").write_bytes(FILE)
    (served / "datapackage.json").write_bytes(ONE_FILE)
    with serve_folder(served) as (url, server):
        run = run_main("download", "--base-url", url, "--dest", str(tmp_path / "d"), "--contact", "Ерлан <e@x.kz> ✓")
    assert run.code == 0, run.err
    agent = server.requests[0][1]["User-Agent"]
    assert "%D0%95%D1%80%D0%BB%D0%B0%D0%BD <e@x.kz> %E2%9C%93" in agent
    assert (tmp_path / "d" / "processed" / "ten.csv").read_bytes() == FILE


def test_a_path_with_url_characters_is_requested_quoted(tmp_path):
    served = tmp_path / "served"
    (served / "processed").mkdir(parents=True)
    data = b"id\n1\n"
    (served / "processed" / "a#1 %20?.csv").write_bytes(data)
    (served / "datapackage.json").write_bytes(descriptor(resource_entry(path="processed/a#1 %20?.csv", data=data)))
    with serve_folder(served) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(tmp_path / "d"), *SHORT)
    assert run.code == 0, run.err
    assert (tmp_path / "d" / "processed" / "a#1 %20?.csv").read_bytes() == data


def test_a_folder_named_like_the_descriptor_is_not_removed(fresh_build, dest):
    (dest / "datapackage.json").unlink()
    (dest / "datapackage.json").mkdir()
    (dest / "datapackage.json" / "mine.txt").write_text("keep me")
    before = tree(dest)
    with serve_folder(fresh_build) as (url, _):
        run = run_main("download", "--base-url", url, "--dest", str(dest), *SHORT)
    assert_clear_failure(run, "datapackage.json cannot be saved", "is a folder")
    assert tree(dest) == before


def test_a_failed_download_removes_the_folders_it_created(tmp_path):
    run = run_main("download", "--base-url", closed_port(), "--dest", str(tmp_path / "a" / "b" / "c"), *SHORT)
    assert_clear_failure(run, "refused the connection")
    assert list(tmp_path.iterdir()) == []


def test_a_download_killed_while_moving_files_in_is_rolled_back_by_the_next(fresh_build, dest):
    before = older_files(dest)
    with serve_folder(fresh_build) as (url, _):
        # a real process, killed (tests/crash.py), in a child of the fork server: without the imports
        killed = forkserver.run(
            ["download-moved:2", "download", "--base-url", url, "--dest", str(dest)], ROOT, 60, module="tests.crash"
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert tree(dest) != before  # half moved in
        run = run_main("download", "--base-url", closed_port(), "--dest", str(dest), *SHORT)
    assert "an interrupted download into" in run.err and "was rolled back" in run.err
    assert_clear_failure(run, "refused the connection")
    assert tree(dest) == before


def test_two_downloads_into_a_new_folder_when_the_first_fails(fresh_build, tmp_path):
    """The first creates the folder, fails and removes it while the second waits: the second goes on."""
    from pipeline.common.lock import build_lock

    target = tmp_path / "new"
    with serve_folder(fresh_build) as (url, _):
        with build_lock(target, "first", holder=False, create=True):
            second = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "download", "--base-url", url, "--dest", str(target)],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            said = []  # the second says it waits for the lock (a fixed sleep lost the race on a loaded machine)
            while not any("waiting for it to finish" in line for line in said):
                line = second.stderr.readline()
                if not line:
                    break
                said.append(line)
            shutil.rmtree(target)  # the first fails and removes the folder it created
        _, rest = second.communicate(timeout=60)
        err = "".join(said) + rest
    assert second.returncode == 0, err
    assert "waiting for it to finish" in err
    assert (target / "processed" / "regions.csv").read_bytes() == (
        fresh_build / "processed" / "regions.csv"
    ).read_bytes()
