"""Fetch stage: download the article from the MediaWiki API (latest or a pinned revision) into raw/.

The HTML is staged first and becomes the pipeline's input (the manifest's `current`) only after it
extracts and validates; until then raw/ and its manifest are untouched, and the previous snapshots
stay in raw/ and in the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import time
from pathlib import Path

from pipeline import metadata
from pipeline.common.defaults import DEFAULT_API, FETCH_DEADLINE, LOCK_WAIT, MAX_API_BYTES, PAGE_URL, TITLE, Limits
from pipeline.common.errors import PipelineError
from pipeline.common.files import write_atomically
from pipeline.common.lock import build_lock
from pipeline.net.client import Client, DeadlineExpired, timer
from pipeline.raw.snapshot import MANIFEST, Snapshot, load_manifest


def request_params(revision: int | None, title: str = TITLE) -> dict:
    """The MediaWiki action=parse parameters for the latest revision or a pinned one."""
    params = {
        "action": "parse",
        "format": "json",
        "formatversion": "2",
        "prop": "text|revid|displaytitle",
        "disableeditsection": "1",
        "disablelimitreport": "1",
    }
    if revision is None:
        params |= {"page": title, "redirects": "1"}
    else:
        params["oldid"] = str(revision)
    return params


MAX_REVISION = 2**53 - 1  # MediaWiki revision ids are positive integers (about 1.2e9 in 2023)


def parse_answer(body: bytes, api_url: str, revision: int | None, title: str) -> tuple[int, str, str]:
    """(revision id, title, HTML) from an action=parse answer, after checking its shape: anything else
    is a PipelineError saying what the answer was."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PipelineError("fetch", f"{api_url} did not answer JSON (first bytes: {body[:80]!r}).") from None
    if not isinstance(data, dict):
        kind = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(data), "null")
        raise PipelineError("fetch", f"{api_url} answered a JSON {kind}, not the object of an action=parse answer.")
    if "error" in data:
        error = data["error"]
        if isinstance(error, dict):
            detail = f"{_text(error.get('code'))}: {_text(error.get('info'))}"
        else:
            detail = _text(error)
        raise PipelineError("fetch", f"the API answered an error: {detail}.")
    parsed = data.get("parse")
    if not isinstance(parsed, dict):
        raise PipelineError("fetch", f"the API answer has no 'parse' object (keys: {_text(sorted(data)[:8])}).")
    text, revid, answered_title = parsed.get("text"), parsed.get("revid"), parsed.get("title")
    if not isinstance(text, str) or not text.strip():
        raise PipelineError("fetch", "the API answer has no HTML in parse.text.")
    if type(revid) is not int or not 1 <= revid <= MAX_REVISION:
        raise PipelineError(
            "fetch",
            f"the API answer's revision id {_text(repr(revid))} is not a positive whole number up to {MAX_REVISION}.",
        )
    if not isinstance(answered_title, str) or answered_title.replace("_", " ") != title.replace("_", " "):
        raise PipelineError(
            "fetch",
            f"the API answered the page {_text(answered_title)}, not {title!r}.",
            hint="If the article was renamed, pass its new title with --title.",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PipelineError(
            "fetch", f"the API answer's HTML is not valid Unicode ({error.reason} at character {error.start})."
        ) from None
    if revision is not None and revid != revision:
        raise PipelineError("fetch", f"asked for revision {revision}, the API returned {revid}.")
    return revid, answered_title, text


def _text(value) -> str:
    """A value from the answer, for a message: plain text as it is, anything else (or text with control
    characters) as its repr; shortened."""
    shown = value if isinstance(value, str) and value.isprintable() else repr(value)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def download_article(
    api_url: str, revision: int | None, *, limits, title: str = TITLE, contact: str | None = None
) -> tuple[int, str, str]:
    """(revision id, title, HTML) of the article from the API."""
    client = Client("fetch", limits, contact=contact)
    try:
        body = client.get(api_url, params=request_params(revision, title), max_bytes=MAX_API_BYTES, compressed=True)
    finally:
        client.close()
    return parse_answer(body, api_url, revision, title)


def fetch(
    root: Path,
    *,
    accept,
    api_url: str = DEFAULT_API,
    revision: int | None = None,
    title: str = TITLE,
    limits: Limits | None = None,
    contact: str | None = None,
    wait: float | None = None,
    dry_run: bool = False,
) -> dict:
    """Fetch, stage, then add the snapshot to raw/ and make it current, if `accept(snapshot)` (the later
    stages: pipeline.stages.refresh) raises no PipelineError; with `dry_run`, raw/ is left as it is.
    Returns its manifest entry. Holds the build lock for the whole run: raw/ does not change under a build."""
    limits = limits or Limits(deadline=FETCH_DEADLINE)
    with build_lock(root, "fetch", wait=LOCK_WAIT if wait is None else wait):
        return _fetch(root, accept, api_url, revision, title, limits, contact, dry_run)


def _fetch(
    root: Path, accept, api_url: str, revision: int | None, title: str, limits, contact: str | None, dry_run: bool
) -> dict:
    ends = time.monotonic() + limits.deadline
    raw = root / "raw"
    manifest_path = raw / MANIFEST.name
    manifest = load_manifest(manifest_path)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("snapshots", []), list):
        raise PipelineError("fetch", f"{manifest_path} should be an object with a 'snapshots' list.")
    revid, title, fragment = download_article(api_url, revision, limits=limits, title=title, contact=contact)
    escaped = html.escape(title)
    document = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escaped}</title>'
        f'<meta name="revision-id" content="{revid}"></head>\n<body>\n<h1>{escaped}</h1>\n{fragment}\n'
        "</body></html>\n"
    ).encode()
    name = f"2023_Kazakh_legislative_election.r{revid}.html"
    staging = root / "build" / "fetch"
    staged = staging / name
    try:
        staging.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(document)
    except OSError as error:
        _remove(staged)
        raise PipelineError(
            "fetch", f"cannot stage the download in {staging}: {error.strerror}; raw/ is unchanged."
        ) from None
    entry = {
        "path": name,
        "title": title,
        "source_url": api_url,
        "page_url": PAGE_URL,
        "request": request_params(revision, title),
        "publisher": "English Wikipedia",
        "authors": "Wikipedia contributors (see the article's history page)",
        "licence": metadata.load().meta["licenses"][0],  # the article's, which the package shares (share-alike)
        "format": "text/html; MediaWiki parser output (action=parse)",
        "retrieved_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "retrieved_at_precision": "second",
        "revision_id": revid,
        "sha256": hashlib.sha256(document).hexdigest(),
        "bytes": len(document),
    }
    try:  # the staged page must extract and validate, within what is left of the command's deadline
        with timer(ends - time.monotonic()):
            accept(Snapshot(path=staged, entry=entry))
    except PipelineError as error:
        _remove(staged)
        raise PipelineError(
            "fetch",
            f"revision {revid} was downloaded but does not pass extraction and "
            f"validation, so raw/ is unchanged: {error.describe()}",
        ) from None
    except DeadlineExpired:
        _remove(staged)
        raise PipelineError(
            "fetch",
            f"revision {revid} was downloaded but extracting it did not finish within "
            f"the command's deadline of {limits.deadline:g} s; raw/ is unchanged.",
        ) from None
    except Exception as error:  # noqa: BLE001 (a page the extractor does not expect must not reach raw/)
        _remove(staged)
        raise PipelineError(
            "fetch",
            f"revision {revid} was downloaded but the extractor failed on it "
            f"({type(error).__name__}: {str(error)[:200]}); raw/ is unchanged.",
            hint="This is a bug in the HTML front end: please report it with the revision id.",
        ) from None
    if dry_run:  # looked at, not kept
        _remove(staged)
        return entry
    known = next((s for s in manifest.get("snapshots", []) if isinstance(s, dict) and s.get("path") == name), None)
    if known is not None:  # this revision is already in raw/, which is immutable: just make it current
        _remove(staged)
        if known.get("sha256") != entry["sha256"]:
            raise PipelineError(
                "fetch",
                f"revision {revid} is already in raw/ as {name} with another sha256 "
                f"({known.get('sha256')}); raw/ is immutable, so it was not replaced.",
            )
        entry = known
    else:
        manifest["snapshots"] = manifest.get("snapshots", []) + [entry]
    manifest["current"] = name
    _commit(raw, manifest_path, manifest, staged if known is None else None)
    return entry


def _commit(raw: Path, manifest_path: Path, manifest: dict, staged: Path | None) -> None:
    """Move the staged snapshot into raw/ and replace the manifest; on any failure (a full disk, Ctrl-C)
    both are undone, so raw/ is as it was."""
    added = raw / staged.name if staged is not None else None
    try:
        if staged is not None:
            os.replace(staged, added)
        write_atomically(manifest_path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except BaseException as error:
        for path in (added, staged):
            if path is not None:
                _remove(path)
        if isinstance(error, OSError):
            raise PipelineError(
                "fetch", f"cannot save the snapshot in raw/: {error.strerror}; raw/ is unchanged."
            ) from None
        raise


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass
