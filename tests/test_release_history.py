"""A release history nobody can rewrite without CI seeing it.

The build re-derives every release from the committed files (tests/test_release_gate.py), but the
committed files are text anyone can edit: someone who rewrites an entry of releases/releases.yaml, an
acceptance in releases/changes/ and a snapshot in raw/ together leaves a history that agrees with itself.
What cannot be rewritten unseen is the git history. This test walks every commit that touched releases/
or raw/, then the working tree, and requires each to keep what the one before it held:

- a release, once listed, stays listed with the same date, predecessor and snapshot;
- an acceptance file only grows: its earlier text stays byte for byte at its start;
- a snapshot, once in raw/manifest.json, keeps its file, sha256, size, revision and retrieval time,
  and the file in raw/ keeps its bytes.

`make test` runs it on every change (CI runs it on main), so a rewrite fails there, naming the commit."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from pipeline import ROOT

KEPT_RELEASE_FIELDS = ("release_date", "previous_version", "snapshot_sha256")
KEPT_SNAPSHOT_FIELDS = ("sha256", "bytes", "revision_id", "retrieved_at")


def state(files: dict[str, bytes]) -> dict:
    """What one commit (or the working tree) holds of the history: {path: bytes} of releases/ and raw/."""
    releases = yaml.safe_load(files.get("releases/releases.yaml", b"[]")) or []
    manifest = json.loads(files.get("raw/manifest.json", b"{}"))
    return {
        "releases": {str(e["version"]): e for e in releases if isinstance(e, dict) and "version" in e},
        "records": {p: body for p, body in files.items() if p.startswith("releases/changes/")},
        "snapshots": {e["path"]: e for e in manifest.get("snapshots", []) if isinstance(e, dict) and "path" in e},
        "raw": {p: body for p, body in files.items() if p.startswith("raw/") and p != "raw/manifest.json"},
    }


def rewrites(before: dict, after: dict) -> list[str]:
    """What `after` changed or dropped of what `before` held."""
    out = _entries_kept(before["releases"], after["releases"], KEPT_RELEASE_FIELDS, "release", "releases/releases.yaml")
    out += _entries_kept(before["snapshots"], after["snapshots"], KEPT_SNAPSHOT_FIELDS, "snapshot", "raw/manifest.json")
    for path, body in before["records"].items():
        if not after["records"].get(path, b"").startswith(body):
            out.append(f"{path} was edited or removed (an acceptance file only grows)")
    for path, body in before["raw"].items():
        if after["raw"].get(path) != body:
            out.append(f"{path} was changed or removed (raw/ is immutable)")
    return out


def _entries_kept(before: dict, after: dict, fields: tuple[str, ...], kind: str, where: str) -> list[str]:
    out = []
    for name, entry in before.items():
        later = after.get(name)
        if later is None:
            out.append(f"{kind} {name} was removed from {where}")
            continue
        out += [
            f"{kind} {name}: {field} changed from {entry[field]!r} to {later.get(field)!r}"
            for field in fields
            if field in entry and later.get(field) != entry[field]
        ]
    return out


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def committed_states() -> list[tuple[str, dict]]:
    """(commit, state) of every commit that touched releases/ or raw/, oldest first, then the working tree."""
    commits = _git("log", "--format=%H", "--reverse", "--", "releases", "raw").split()
    listings = {}
    for commit in commits:
        lines = _git("ls-tree", "-r", commit, "--", "releases", "raw").splitlines()
        listings[commit] = [line.split("\t", 1) for line in lines]
    blobs = {meta.split()[2] for listing in listings.values() for meta, _ in listing}
    contents = _read_blobs(sorted(blobs))
    out = [(c[:10], state({path: contents[meta.split()[2]] for meta, path in listings[c]})) for c in commits]
    tracked = _git("ls-files", "--", "releases", "raw").splitlines()
    working = {path: (ROOT / path).read_bytes() for path in tracked if (ROOT / path).is_file()}
    for folder in ("releases", "raw"):  # new, not yet committed files count too
        working |= {str(p.relative_to(ROOT)): p.read_bytes() for p in (ROOT / folder).rglob("*") if p.is_file()}
    return [*out, ("the working tree", state(working))]


def _read_blobs(ids: list[str]) -> dict[str, bytes]:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "--batch"], input="\n".join(ids).encode() + b"\n", capture_output=True
    )
    data, out, at = result.stdout, {}, 0
    for blob in ids:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        out[blob] = data[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return out


def test_no_commit_rewrote_a_release_a_record_or_a_snapshot():
    try:
        shallow = _git("rev-parse", "--is-shallow-repository").strip() == "true"
        states = committed_states()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: there is no history to check")
    assert len(states) >= 2 or shallow  # at least the commit that added raw/ and the working tree
    problems = [
        f"{label}: {problem}"
        for (_, before), (label, after) in zip(states, states[1:], strict=False)
        for problem in rewrites(before, after)
    ]
    assert problems == []
    assert states[-1][1]["releases"] and states[-1][1]["snapshots"]  # something was checked


def test_every_kind_of_rewrite_is_caught():
    entry = {"version": "2026.11.25", "release_date": "2026-11-25", "previous_version": None, "snapshot_sha256": "a"}
    snapshot = {"path": "s.txt", "sha256": "a", "bytes": 1, "retrieved_at": "2026-11"}
    files = {
        "releases/releases.yaml": yaml.safe_dump([entry]).encode(),
        "releases/changes/2026.11.26.yaml": b"- accepted_by: A\n",
        "raw/manifest.json": json.dumps({"snapshots": [snapshot]}).encode(),
        "raw/s.txt": b"x",
    }
    base = state(files)
    assert rewrites(base, base) == []
    grown = files | {"releases/changes/2026.11.26.yaml": b"- accepted_by: A\n- accepted_by: B\n"}
    assert rewrites(base, state(grown)) == []  # an acceptance appended
    cases = {
        "snapshot_sha256 changed": {"releases/releases.yaml": yaml.safe_dump([entry | {"snapshot_sha256": "b"}])},
        "was removed from releases": {"releases/releases.yaml": "[]"},
        "edited or removed": {"releases/changes/2026.11.26.yaml": "- accepted_by: B\n"},
        "sha256 changed": {"raw/manifest.json": json.dumps({"snapshots": [snapshot | {"sha256": "b"}]})},
        "retrieved_at changed": {"raw/manifest.json": json.dumps({"snapshots": [snapshot | {"retrieved_at": "x"}]})},
        "raw/ is immutable": {"raw/s.txt": "y"},
    }
    for phrase, edit in cases.items():
        found = rewrites(base, state(files | {k: v.encode() for k, v in edit.items()}))
        assert len(found) == 1 and phrase in found[0], (phrase, found)
