"""Fetch stage: download the article from the MediaWiki API (latest or a pinned revision) into raw/.

The HTML is staged first and becomes the pipeline's input (the manifest's `current`) only after it
extracts and validates; until then raw/ and its manifest are untouched, and the previous snapshots
stay in raw/ and in the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from pipeline.errors import PipelineError

DEFAULT_API = "https://en.wikipedia.org/w/api.php"
TITLE = "2023 Kazakh legislative election"
PAGE_URL = "https://en.wikipedia.org/wiki/2023_Kazakh_legislative_election"
LICENCE = {"name": "CC-BY-SA-4.0", "title": "Creative Commons Attribution-ShareAlike 4.0",
           "path": "https://creativecommons.org/licenses/by-sa/4.0/"}


def request_params(revision: int | None) -> dict:
    params = {"action": "parse", "format": "json", "formatversion": "2", "prop": "text|revid|displaytitle",
              "disableeditsection": "1", "disablelimitreport": "1"}
    if revision is None:
        params |= {"page": TITLE, "redirects": "1"}
    else:
        params["oldid"] = str(revision)
    return params


def download_article(api_url: str, revision: int | None, *, timeout: float, retries: int, backoff: float,
                     contact: str | None = None) -> tuple[int, str, str]:
    """(revision id, title, HTML) of the article from the API."""
    from pipeline.net import get, read_body, session

    http = session(retries=retries, backoff=backoff, contact=contact)
    response = get(http, "fetch", api_url, timeout=timeout, params=request_params(revision))
    body = read_body(response, "fetch", api_url)
    try:
        data = json.loads(body)
    except ValueError:
        raise PipelineError("fetch", f"{api_url} did not answer JSON (first bytes: {body[:80]!r}).") from None
    if "error" in data:
        error = data["error"]
        raise PipelineError("fetch", f"the API answered an error: {error.get('code')}: {error.get('info')}.")
    parsed = data.get("parse") or {}
    if not isinstance(parsed.get("text"), str) or not isinstance(parsed.get("revid"), int):
        raise PipelineError("fetch", "the API answer has no parse.text and parse.revid.")
    if revision is not None and parsed["revid"] != revision:
        raise PipelineError("fetch", f"asked for revision {revision}, the API returned {parsed['revid']}.")
    return parsed["revid"], parsed.get("title", TITLE), parsed["text"]


def fetch(root: Path, *, api_url: str = DEFAULT_API, revision: int | None = None, timeout: float = 30,
          retries: int = 5, backoff: float = 1.0, contact: str | None = None) -> dict:
    """Fetch, stage, check, then add the snapshot to raw/ and make it current. Returns its manifest entry."""
    from pipeline import extract
    from pipeline.raw import MANIFEST, Snapshot, load_manifest
    from pipeline.validate import to_frames

    raw = root / "raw"
    manifest_path = raw / MANIFEST.name
    manifest = load_manifest(manifest_path)
    revid, title, fragment = download_article(api_url, revision, timeout=timeout, retries=retries,
                                              backoff=backoff, contact=contact)
    document = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
                f'<meta name="revision-id" content="{revid}"></head>\n<body>\n<h1>{title}</h1>\n{fragment}\n'
                "</body></html>\n").encode("utf-8")
    name = f"2023_Kazakh_legislative_election.r{revid}.html"
    staging = root / "build" / "fetch"
    staging.mkdir(parents=True, exist_ok=True)
    staged = staging / name
    staged.write_bytes(document)
    entry = {
        "path": name, "title": title, "source_url": api_url, "page_url": PAGE_URL,
        "request": request_params(revision), "publisher": "English Wikipedia",
        "authors": "Wikipedia contributors (see the article's history page)", "licence": LICENCE,
        "format": "text/html; MediaWiki parser output (action=parse)",
        "retrieved_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "revision_id": revid, "sha256": hashlib.sha256(document).hexdigest(), "bytes": len(document),
    }
    try:
        to_frames(extract.run(Snapshot(path=staged, entry=entry)))
    except PipelineError as error:
        staged.unlink()
        raise PipelineError("fetch", f"revision {revid} was downloaded but does not pass extraction and "
                            f"validation, so raw/ is unchanged: {error.describe()}") from None
    known = next((s for s in manifest.get("snapshots", []) if s.get("path") == name), None)
    if known is not None:  # this revision is already in raw/, which is immutable: just make it current
        staged.unlink()
        if known.get("sha256") != entry["sha256"]:
            raise PipelineError("fetch", f"revision {revid} is already in raw/ as {name} with another sha256 "
                                f"({known.get('sha256')}); raw/ is immutable, so it was not replaced.")
        entry = known
    else:
        os.replace(staged, raw / name)
        manifest["snapshots"] = manifest.get("snapshots", []) + [entry]
    manifest["current"] = name
    temporary = manifest_path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, manifest_path)
    return entry
