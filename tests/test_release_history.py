"""A release history nobody can rewrite without CI seeing it.

The build re-derives every release from the committed files (tests/test_release_gate.py), but the
committed files are text anyone can edit: someone who rewrites an entry of releases/releases.yaml, an
acceptance in releases/changes/ and a snapshot in raw/ together leaves a history that agrees with itself.
What cannot be rewritten unseen is the git history. This test walks every commit that touched releases/
or raw/ (merges included: each commit against each of its parents), then the working tree against HEAD,
and requires each to keep what the one before it held:

- a release, once listed, stays listed, and every field it had keeps its value (a field may be added);
- an acceptance file only grows: its earlier text stays byte for byte at its start (and the build refuses
  a key given twice, so what grows cannot override what was there);
- a release's recorded tables (releases/structure/VERSION.yaml), once committed, keep every byte;
- a snapshot, once in raw/manifest.json, keeps every field its entry had, and its file keeps its bytes.

`make test` runs it on every change (CI runs it on main), so a rewrite fails there, naming the commit. A
shallow clone holds only part of the history and is checked only that far."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline import ROOT


def state(files: dict[str, bytes]) -> dict:
    """What one commit (or the working tree) holds of the history: {path: bytes} of releases/ and raw/."""
    releases = yaml.safe_load(files.get("releases/releases.yaml", b"[]")) or []
    manifest = json.loads(files.get("raw/manifest.json", b"{}"))
    return {
        "releases": {str(e["version"]): e for e in releases if isinstance(e, dict) and "version" in e},
        "records": {p: body for p, body in files.items() if p.startswith("releases/changes/")},
        "structures": {p: body for p, body in files.items() if p.startswith("releases/structure/")},
        "snapshots": {e["path"]: e for e in manifest.get("snapshots", []) if isinstance(e, dict) and "path" in e},
        "raw": {p: body for p, body in files.items() if p.startswith("raw/") and p != "raw/manifest.json"},
    }


def rewrites(before: dict, after: dict) -> list[str]:
    """What `after` changed or dropped of what `before` held."""
    out = _entries_kept(before["releases"], after["releases"], "release", "releases/releases.yaml")
    out += _entries_kept(before["snapshots"], after["snapshots"], "snapshot", "raw/manifest.json")
    for path, body in before["records"].items():
        if not after["records"].get(path, b"").startswith(body):
            out.append(f"{path} was edited or removed (an acceptance file only grows)")
    for path, body in before.get("structures", {}).items():
        if after.get("structures", {}).get(path) != body:
            out.append(f"{path} was changed or removed (a release's recorded tables never change)")
    for path, body in before["raw"].items():
        if after["raw"].get(path) != body:
            out.append(f"{path} was changed or removed (raw/ is immutable)")
    return out


def _entries_kept(before: dict, after: dict, kind: str, where: str) -> list[str]:
    out = []
    for name, entry in before.items():
        later = after.get(name)
        if later is None:
            out.append(f"{kind} {name} was removed from {where}")
            continue
        out += [
            f"{kind} {name}: {field} changed from {entry[field]!r} to {later.get(field)!r}"
            for field in entry
            if later.get(field) != entry[field]
        ]
    return out


def _git(*args: str, repo: Path = ROOT) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def transitions(repo: Path = ROOT) -> list[tuple[str, dict, dict]]:
    """(what, before, after) for every commit that touched releases/ or raw/ against each of its parents
    (`--full-history`: a merge that takes one side's files is compared with the other side too), then the
    working tree against HEAD."""
    lines = _git("log", "--full-history", "--format=%H %P", "--", "releases", "raw", repo=repo).splitlines()
    pairs = [(commit, parent) for commit, *parents in map(str.split, lines) for parent in parents]
    commits = sorted({c for pair in pairs for c in pair} | {_git("rev-parse", "HEAD", repo=repo).strip()})
    listings = {}
    for commit in commits:
        lines = _git("ls-tree", "-r", commit, "--", "releases", "raw", repo=repo).splitlines()
        listings[commit] = [line.split("\t", 1) for line in lines]
    contents = _read_blobs(sorted({meta.split()[2] for listing in listings.values() for meta, _ in listing}), repo)
    states = {c: state({path: contents[meta.split()[2]] for meta, path in listings[c]}) for c in commits}
    out = [(f"commit {c[:10]} against its parent {p[:10]}", states[p], states[c]) for c, p in pairs]
    tracked = _git("ls-files", "--", "releases", "raw", repo=repo).splitlines()
    working = {path: (repo / path).read_bytes() for path in tracked if (repo / path).is_file()}
    for folder in ("releases", "raw"):  # new, not yet committed files count too
        working |= {str(p.relative_to(repo)): p.read_bytes() for p in (repo / folder).rglob("*") if p.is_file()}
    head = _git("rev-parse", "HEAD", repo=repo).strip()
    return [*out, ("the working tree against HEAD", states[head], state(working))]


def _read_blobs(ids: list[str], repo: Path) -> dict[str, bytes]:
    result = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"], input="\n".join(ids).encode() + b"\n", capture_output=True
    )
    data, out, at = result.stdout, {}, 0
    for blob in ids:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        out[blob] = data[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return out


def problems(repo: Path = ROOT) -> list[str]:
    return [f"{what}: {problem}" for what, before, after in transitions(repo) for problem in rewrites(before, after)]


def test_no_commit_rewrote_a_release_a_record_or_a_snapshot():
    try:
        steps = transitions()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: there is no history to check")
    shallow = _git("rev-parse", "--is-shallow-repository").strip() == "true"
    assert len(steps) >= 3 or shallow  # the commits that added raw/ and releases/, and the working tree
    assert [f"{what}: {p}" for what, before, after in steps for p in rewrites(before, after)] == []
    assert steps[-1][2]["releases"] and steps[-1][2]["snapshots"]  # something was checked


def test_a_rewrite_through_a_merge_is_caught(tmp_path):
    """A side branch that rewrites a released entry, merged taking the side's files: git log's default
    history simplification would skip the main line; every parent is compared."""
    repo = tmp_path / "repo"
    (repo / "raw").mkdir(parents=True)
    (repo / "raw" / "manifest.json").write_text(json.dumps({"snapshots": [{"path": "a.txt", "sha256": "a"}]}))
    (repo / "raw" / "a.txt").write_text("a")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "raw"], check=True)
    entry = {"version": "2026.11.25", "previous_version": None, "snapshot_sha256": "a"}

    def commit_releases(snapshot: str, message: str) -> None:
        (repo / "releases").mkdir(exist_ok=True)
        (repo / "releases" / "releases.yaml").write_text(yaml.safe_dump([entry | {"snapshot_sha256": snapshot}]))
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", message], check=True)

    subprocess.run([*git, "checkout", "-qb", "side"], check=True)
    commit_releases("b", "the release on another snapshot")
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    commit_releases("a", "the release")
    subprocess.run([*git, "merge", "-q", "-s", "ours", "--no-commit", "side"], check=True)
    subprocess.run([*git, "checkout", "side", "--", "releases"], check=True)
    subprocess.run([*git, "commit", "-qm", "merge"], check=True)
    default = _git("log", "--format=%s", "--", "releases", repo=repo).split("\n")
    assert "the release" not in default  # what the default history leaves out
    assert any("snapshot_sha256 changed from 'a' to 'b'" in p for p in problems(repo))


def test_every_kind_of_rewrite_is_caught():
    entry = {"version": "2026.11.25", "release_date": "2026-11-25", "previous_version": None, "snapshot_sha256": "a"}
    entry |= {"data_notes": "n"}
    snapshot = {"path": "s.txt", "sha256": "a", "bytes": 1, "retrieved_at": "2026-11"}
    files = {
        "releases/releases.yaml": yaml.safe_dump([entry]).encode(),
        "releases/changes/2026.11.26.yaml": b"- accepted_by: A\n",
        "releases/structure/2026.11.25.yaml": b"tables: {}\n",
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
        "data_notes changed": {"releases/releases.yaml": yaml.safe_dump([entry | {"data_notes": "x"}])},
        "raw/ is immutable": {"raw/s.txt": "y"},
        "recorded tables never change": {"releases/structure/2026.11.25.yaml": "tables: {a: {}}\n"},
    }
    for phrase, edit in cases.items():
        found = rewrites(base, state(files | {k: v.encode() for k, v in edit.items()}))
        assert len(found) == 1 and phrase in found[0], (phrase, found)
