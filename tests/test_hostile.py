"""Fault injection for `fetch`, `publish`, `check` and the command line: hostile MediaWiki answers and
servers, a full disk, a read-only or locked release, a closed pipe, an ASCII terminal; and values that
must not pass unchecked (invisible characters, a poll moved a year back).

Every case asserts: exit code 1; one clear `error:` line as the last thing on stderr, and no traceback;
the target folder, raw/ and the release unchanged byte for byte; a bounded run time. The limits are
short (a fraction of a second) so that the suite stays fast; the defaults are in `--help`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import ROOT
from pipeline.common.defaults import MAX_API_BYTES, TITLE
from pipeline.release.swap import RELEASE_ITEMS
from tests import forkserver
from tests.conftest import linked_copy, tree
from tests.hostile import RETRIED, SHORT, Run, assert_clear_failure, run_main, sha256
from tests.servers import (
    Scripted,
    answer,
    drip,
    endless_chunked,
    gzip_bomb,
    ok,
    serve,
    serve_raw,
    slow_body,
    slow_headers,
    stall,
    steady,
)

# --- fetch: hostile MediaWiki answers ------------------------------------------------------------


def api(parse=None, **top) -> bytes:
    return json.dumps({"parse": parse, **top} if parse is not None else top).encode()


HOSTILE_ANSWERS = {
    "not JSON": (b"<html>Service unavailable</html>", "did not answer JSON"),
    "a JSON list": (b"[1, 2]", "answered a JSON array"),
    "null": (b"null", "answered a JSON null"),
    "a string": (b'"parse"', "answered a JSON string"),
    "a number": (b"12", "answered a JSON number"),
    "an error that is a string": (b'{"error": "boom"}', "the API answered an error: boom."),
    "parse that is a string": (b'{"parse": "text"}', "has no 'parse' object"),
    "no text": (api({"title": TITLE, "revid": 5}), "no HTML in parse.text"),
    "empty text": (api({"title": TITLE, "revid": 5, "text": "  "}), "no HTML in parse.text"),
    "a lone surrogate in the text": (
        b'{"parse": {"title": "%s", "revid": 5, "text": "<p>\\ud800</p>"}}' % TITLE.encode(),
        "not valid Unicode (surrogates not allowed",
    ),
    "a revision id of 10^250": (
        api({"title": TITLE, "revid": 10**250, "text": "<p>x</p>"}),
        "is not a positive whole number",
    ),
    "a revision id of -5": (api({"title": TITLE, "revid": -5, "text": "<p>x</p>"}), "revision id -5 is not"),
    "a revision id of true": (api({"title": TITLE, "revid": True, "text": "<p>x</p>"}), "revision id True is not"),
    "a revision id that is text": (api({"title": TITLE, "revid": "5", "text": "<p>x</p>"}), "revision id '5' is not"),
    "another article": (
        api({"title": "Main Page", "revid": 5, "text": "<p>x</p>"}),
        "answered the page Main Page, not '2023 Kazakh legislative election'",
    ),
    "no title": (api({"revid": 5, "text": "<p>x</p>"}), "answered the page None"),
    "deeply nested JSON": (b"[" * 100_000 + b"]" * 100_000, "did not answer JSON"),
}


@pytest.fixture()
def root_with_release(fresh_build, tmp_path):
    """A fresh release to fetch into: raw/, which fetch writes, copied; the release, linked (linked_copy)."""
    return linked_copy(fresh_build, tmp_path / "root", copied=("raw",), left_out=("build",))


def release_and_raw(root: Path) -> dict:
    return {name: tree(root / name) for name in ("raw", "processed", "docs")} | {
        "datapackage.json": sha256((root / "datapackage.json").read_bytes())
    }


@pytest.fixture(scope="module")
def pristine(fresh_build) -> dict:
    """release_and_raw(fresh_build), hashed once: what release_and_raw(root_with_release) reads until a test
    changes it (raw/ a copy, the release linked; a byte written into fresh_build's through a link since would
    show in every later test)."""
    return release_and_raw(fresh_build)


@pytest.mark.parametrize("case", HOSTILE_ANSWERS)
def test_a_hostile_api_answer_is_refused_and_raw_stays_as_it_was(case, root_with_release, pristine):
    body, message = HOSTILE_ANSWERS[case]
    before = pristine
    with serve(Scripted, script=lambda path, n: ok(body)) as (url, _):
        run = run_main("--root", str(root_with_release), "fetch", "--api-url", f"{url}/w/api.php", *SHORT)
    assert_clear_failure(run, "[fetch]", message, within=2)
    assert release_and_raw(root_with_release) == before
    assert (
        not list((root_with_release / "build" / "fetch").glob("*"))
        if (root_with_release / "build" / "fetch").exists()
        else True
    )


HOSTILE_API_SERVERS = {
    "an answer that streams for ever": (endless_chunked, f"sent more than the {MAX_API_BYTES:,} bytes"),
    "a gzip bomb": (gzip_bomb(200 * 2**20), f"sent more than the {MAX_API_BYTES:,} bytes"),  # (200 KB sent)
    "an answer that announces 100,000,000 bytes": (slow_body, "announces 100,000,000 bytes, but this command reads at"),
    "an answer sent one byte every 50 ms": (drip, "bytes per second this command accepts"),
    "a fast answer that outlasts the request deadline": (steady, "did not finish within the request deadline of 1 s"),
    "headers sent one byte every 50 ms": (slow_headers, "did not send its status line and headers within 0.6 s"),
    "a server that never answers": (stall, "sent no answer for 0.3 s"),
    "429 with Retry-After: 999999": (answer(429, {"Retry-After": "999999"}), "asks to wait 12 days"),
    "429 with Retry-After in 2100": (answer(429, {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}), "asks to wait"),
}


@pytest.mark.parametrize("case", HOSTILE_API_SERVERS)
def test_a_hostile_api_server_ends_in_a_clear_error(case, root_with_release, pristine):
    behaviour, message = HOSTILE_API_SERVERS[case]
    before = pristine
    with serve_raw(behaviour) as (url, _):
        run = run_main(
            "--root",
            str(root_with_release),
            "fetch",
            "--api-url",
            f"{url}/w/api.php",
            *SHORT,
            *(RETRIED if "Retry-After" in case else []),
        )
    assert_clear_failure(run, "[fetch]", message, within=3)
    assert release_and_raw(root_with_release) == before


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--revision", "-5"], "argument --revision: must be at least 1"),
        (["--revision", "true"], "argument --revision: expected a whole number"),
        (["--revision", "1" + "0" * 250], "argument --revision: must be at least 1 and at most 9007199254740991"),
        (["--timeout", "-1"], "argument --timeout: must be above 0"),
        (["--wait", "-1"], "argument --wait: must be at least 0"),
    ],
)
def test_bad_fetch_options(argv, message, root_with_release, pristine):
    before = pristine
    assert_clear_failure(run_main("--root", str(root_with_release), "fetch", *argv), message, within=2)
    assert release_and_raw(root_with_release) == before


def test_a_full_disk_after_the_snapshot_is_moved_into_raw_leaves_no_orphan(
    root_with_release, monkeypatch, article_html, pristine
):
    import errno

    import pipeline.raw.fetch as module
    from tests.test_network import api_answer

    before = pristine
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith("manifest.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(module.os, "replace", replace)
    body = api_answer(article_html)
    with serve(Scripted, script=lambda path, n: ok(body)) as (url, _):
        run = run_main("--root", str(root_with_release), "fetch", "--api-url", f"{url}/w/api.php", *SHORT)
    assert_clear_failure(run, "cannot save the snapshot in raw/: No space left on device; raw/ is unchanged")
    assert release_and_raw(root_with_release) == before  # no orphan snapshot, no manifest.json.tmp


# --- publish, check and the command line on a broken machine --------------------------------------


def cli(*args, root: Path | None = None, env: dict | None = None, max_file_bytes: int | None = None) -> Run:
    """`python -m pipeline ARGS` in a real process (tests/forkserver.py). With `max_file_bytes`, files may
    grow to that size, then writes fail with EFBIG (as on a full disk)."""
    arguments = (["--root", str(root)] if root else []) + list(args)
    started = time.monotonic()
    result = forkserver.run(arguments, ROOT, 120, env=env, max_file_bytes=max_file_bytes)
    return Run(result.returncode, result.stdout or "", result.stderr, time.monotonic() - started)


def release(root: Path) -> dict:
    return {
        item: tree(root / item) if (root / item).is_dir() else sha256((root / item).read_bytes())
        for item in RELEASE_ITEMS
    }


@pytest.fixture()
def stale(stale_release, tmp_path) -> Path:
    """A release for publish to replace: raw/ and build/ copied, the release linked (linked_copy: publish
    stages a new one in build/ and swaps it in by renaming; the published database is only opened read-only)."""
    return linked_copy(stale_release, tmp_path / "root", copied=("raw", "build", "releases"))


@pytest.mark.parametrize(
    "staging, limit",
    [  # staged anew, it fails in DuckDB's WAL, its commit, a CSV; taken whole from the build cache, in a file
        ("anew", 16_384),
        ("anew", 65_536),
        ("anew", 300_000),
        ("from the cache", 16_384),
    ],
)
def test_a_full_disk_during_publish_keeps_the_release(stale, staging, limit, request):
    if staging == "anew":
        request.getfixturevalue("staged_anew")
    else:  # the release of the pinned snapshot in the build cache (the first publish puts it there if none
        warm = stale.parent / "warm"  # did; the second, profiled, shows that it was taken from it)
        shutil.copytree(stale, warm)
        profile = stale.parent / "profile.json"
        for _ in range(2):
            assert cli("publish", root=warm, env=os.environ | {"PIPELINE_PROFILE": str(profile)}).code == 0
        assert "validate" not in dict(json.loads(profile.read_text(encoding="utf-8")))
    before = release(stale)
    run = cli("publish", root=stale, max_file_bytes=limit)
    assert_clear_failure(
        run,
        "[publish] could not write the new release",
        "File too large",
        "the published release is unchanged",
        within=30,
    )
    assert release(stale) == before
    assert not (stale / "build" / "staging").exists()


def immutable(path: Path, on: bool) -> bool:
    """chattr +i (root cannot write into the folder either); False where the file system refuses."""
    result = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return result.returncode == 0


def test_a_read_only_release_folder_is_rolled_back_and_reported(stale):
    if os.geteuid() != 0 or shutil.which("chattr") is None or not immutable(stale / "processed", True):
        pytest.skip("needs root and a file system with the immutable attribute (chattr +i)")
    try:
        before = release(stale)
        run = cli("publish", root=stale)
    finally:
        immutable(stale / "processed", False)
    assert_clear_failure(
        run,
        "could not swap the new release in: Operation not permitted",
        "the previous release is back in place",
        within=30,
    )
    assert release(stale) == before
    assert not (stale / "build" / "swap-journal.json").exists()


def test_check_while_another_process_holds_the_database_for_writing(published_copy):
    database = published_copy / "processed" / "kz_election_2023.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        run = run_main("--root", str(published_copy), "check")
    finally:
        holder.kill()
        holder.wait()
    assert_clear_failure(run, "[check] cannot open", "another process has it open for writing", within=10)


def test_check_on_a_damaged_or_missing_database(published_copy):
    database = published_copy / "processed" / "kz_election_2023.duckdb"
    database.write_bytes(b"not a database" * 100)
    assert_clear_failure(run_main("--root", str(published_copy), "check"), "cannot open", "as a DuckDB database")
    database.unlink()
    assert_clear_failure(run_main("--root", str(published_copy), "check"), "no published database")


def test_a_closed_pipe_ends_quietly():
    """`python -m pipeline extract | head -1`: the reader is gone before the first line is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "extract"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert stderr == ""


def test_an_ascii_terminal_gets_escapes_instead_of_a_crash():
    run = cli("extract", env=dict(os.environ, PYTHONIOENCODING="ascii"))
    assert run.code == 0 and "Traceback" not in run.err, run.err
    assert "Oksana \\xc4ub\\xe4kirova" in run.out


# --- values that must not pass unchecked ---------------------------------------------------------

WINNER_ROW = "| West Kazakhstan Region | 14 | 1 | | Abzal Quspan | Independent |"


@pytest.fixture(scope="module")
def baseline_tables(source_text):
    """The unmutated article's tables, extracted as tests/mutations.py's outcome() extracts them."""
    return extract_bytes(source_text.encode())


def extract_bytes(data: bytes) -> dict:
    from pipeline.extract import parse_bytes
    from pipeline.stages import document_tables

    return document_tables(parse_bytes(data, "mutated.txt"))


def article_outcome(text: str):
    from tests.mutations import outcome

    return outcome(text.encode("utf-8"))


@pytest.mark.parametrize("character", ["\u00ad", "\u200b", "\u2060", "\ufeff", "\u200e"])
def test_a_harmless_invisible_character_is_removed(source_text, baseline_tables, character):
    """A soft hyphen, zero-width space, word joiner, byte-order mark or left-to-right mark inside a name: the
    article extracts to the very tables of the unmutated one. Validation, the database and the quality gate
    read nothing else, so the release is the unmutated article's (which publishes: fresh_build), as outcome()
    in tests/mutations.py concludes ('identical') without running them again (a third of a second a case)."""
    from tests.conftest import replace_once

    text = replace_once(source_text, WINNER_ROW, WINNER_ROW.replace("Abzal Quspan", f"Abzal Qus{character}pan"))
    assert extract_bytes(text.encode("utf-8")) == baseline_tables


@pytest.mark.parametrize(
    "character, name",
    [
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u200d", "ZERO WIDTH JOINER"),
        ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\u0007", "Cc"),
        ("\ue000", "Co"),
        # printable to Python, but shown as nothing (Unicode's default-ignorable code points, and a blank)
        ("\u3164", "HANGUL FILLER"),
        ("\u115f", "HANGUL CHOSEONG FILLER"),
        ("\u034f", "COMBINING GRAPHEME JOINER"),
        ("\ufe0f", "VARIATION SELECTOR-16"),
        ("\u17b4", "KHMER VOWEL INHERENT AQ"),
        ("\u2800", "BRAILLE PATTERN BLANK"),
        ("\U000e0041", "TAG LATIN CAPITAL LETTER A"),
    ],
)
def test_an_invisible_character_that_changes_meaning_is_refused(source_text, character, name):
    from tests.conftest import replace_once

    text = replace_once(source_text, WINNER_ROW, WINNER_ROW.replace("Abzal Quspan", f"Abzal Qus{character}pan"))
    status, error = article_outcome(text)
    assert status == "rejected"
    assert (error.stage, error.table, error.row, error.column) == (
        "validate",
        "district_results",
        "district_number=14, candidate_rank=1",
        "candidate_name",
    )
    assert f"U+{ord(character):04X} ({name})" in str(error)


def test_a_poll_moved_a_year_back_is_refused(source_text):
    from tests.conftest import replace_once

    text = replace_once(source_text, "| Strategy | 17–27 February 2023 |", "| Strategy | 17–27 February 2022 |")
    status, error = article_outcome(text)
    assert status == "rejected" and error.stage == "check"
    assert "polls_fieldwork_dates" in str(error) and "strategy_2022_02_27" in str(error)


# --- found by a hostile review ---------------------------------------------------------------------


def test_a_fetch_title_that_is_not_text(root_with_release, pristine):
    before = pristine
    run = run_main("--root", str(root_with_release), "fetch", "--title", "\udcff")  # the byte 0xff on argv
    assert_clear_failure(run, "argument --title: must be printable text")
    assert release_and_raw(root_with_release) == before


@pytest.mark.parametrize(
    "attribute, accepted",
    [
        ('rowspan="\u00b2"', True),  # not ASCII digits: read as 1, as a browser does; the page extracts as before
        ('colspan="300000"', True),  # clamped to 1000 as a browser does; the extra columns are empty
        ('colspan="1000" rowspan="65534"', False),  # a thousand empty cells on every row: refused, in a short message
    ],
)
def test_hostile_spans_in_the_article_html(attribute, accepted, root_with_release, article_html, pristine):
    """Spans once crashed the HTML front end (int('²')) or took minutes and gigabytes (colspan=2000000)."""
    before = pristine
    first_cell = article_html.index("<th", article_html.index('<table class="wikitable'))
    html = article_html[: first_cell + 3] + f" {attribute}" + article_html[first_cell + 3 :]
    from tests.test_network import api_answer

    with serve(Scripted, script=lambda path, n: ok(api_answer(html))) as (url, _):
        run = run_main(
            "--root", str(root_with_release), "fetch", "--api-url", f"{url}/w/api.php", *SHORT, "--deadline", "20"
        )
    assert run.seconds < 5, run.seconds
    if accepted:
        assert run.code == 0, run.err
    else:
        error = assert_clear_failure(run, "[fetch] revision", "characters left out", within=5)
        assert len(error) < 1500
        assert release_and_raw(root_with_release) == before


@pytest.fixture(scope="module")
def article_html():
    from tests.conftest import SOURCE
    from tests.html_fixture import render

    return render(SOURCE.read_text(encoding="utf-8"), fragment=True)


def test_check_on_a_database_without_the_errata_table(published_copy):
    import duckdb

    database = published_copy / "processed" / "kz_election_2023.duckdb"
    con = duckdb.connect(str(database))
    con.execute("DROP TABLE errata")
    con.close()
    assert_clear_failure(
        run_main("--root", str(published_copy), "check"), "does not have what the checks read", "errata"
    )
