"""Download the published files (datapackage.json and every file it lists) from a base URL.

Each file is checked against the sha256 and size in the descriptor. Everything is downloaded into a
staging folder inside the target and moved into place only when every file is verified, so a failure
leaves the target folder as it was; files already present with the right hash are not downloaded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.raw import sha256_file

PROGRESS_BYTES = 256 * 1024  # show progress for files larger than this


def _safe(relative: str, target: Path) -> Path:
    path = (target / relative).resolve()
    if Path(relative).is_absolute() or target.resolve() not in path.parents:
        raise PipelineError("download", f"the descriptor lists an unsafe path {relative!r}.")
    return path


def download(base_url: str, target: Path, *, timeout: float = 60, retries: int = 5, backoff: float = 1.0,
             contact: str | None = None, progress=sys.stderr) -> dict[str, str]:
    """Returns {relative path: 'downloaded' | 'up to date'}."""
    from pipeline.net import get, read_body, session

    http = session(retries=retries, backoff=backoff, contact=contact)
    base = base_url.rstrip("/") + "/"
    descriptor_bytes = read_body(get(http, "download", base + "datapackage.json", timeout=timeout), "download",
                                 base + "datapackage.json")
    try:
        descriptor = json.loads(descriptor_bytes)
        files = [(r["path"], r["hash"].removeprefix("sha256:"), int(r["bytes"])) for r in descriptor["resources"]]
    except (ValueError, KeyError, TypeError) as error:
        raise PipelineError("download", f"{base}datapackage.json is not a descriptor with path, hash and bytes "
                            f"for every resource ({error}).") from None
    target.mkdir(parents=True, exist_ok=True)
    staging = target / ".download-staging"
    shutil.rmtree(staging, ignore_errors=True)
    status: dict[str, str] = {}
    try:
        for relative, sha256, size in files:
            final = _safe(relative, target)
            if final.exists() and final.stat().st_size == size and sha256_file(final) == sha256:
                status[relative] = "up to date"
                continue
            part = _safe(relative, staging)
            part.parent.mkdir(parents=True, exist_ok=True)
            url = base + relative
            response = get(http, "download", url, timeout=timeout, stream=True)
            digest, written = hashlib.sha256(), 0
            with part.open("wb") as handle:
                try:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        handle.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        if size > PROGRESS_BYTES and progress is not None:
                            print(f"\r  {relative}: {written * 100 // size:3d}% of {size:,} bytes", end="",
                                  file=progress, flush=True)
                except Exception as error:  # requests raises several classes for a broken body
                    raise PipelineError("download", f"the download of {url} broke off after {written:,} bytes: "
                                        f"{error}.") from None
            if size > PROGRESS_BYTES and progress is not None:
                print(file=progress)
            if written != size or digest.hexdigest() != sha256:
                raise PipelineError("download", f"{relative} does not match datapackage.json: {written:,} bytes with "
                                    f"sha256 {digest.hexdigest()}, expected {size:,} bytes with sha256 {sha256}. "
                                    "Nothing was saved.")
            status[relative] = "downloaded"
        for relative, _, _ in files:
            if status[relative] == "downloaded":
                final = _safe(relative, target)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(_safe(relative, staging), final)
        temporary = target / "datapackage.json.part"
        temporary.write_bytes(descriptor_bytes)
        os.replace(temporary, target / "datapackage.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return status
