"""How many hostile or mistaken edits of a value the article states once reach a release unseen.

Takes 42 edits of once-stated values of the pinned snapshot (timetable dates, candidate lists' first
names, dates and counts, a debate's duration, moderator and respondents, the polls' sample sizes,
margins and fieldwork dates, district winners' names), and for each one publishes the edited snapshot
over a release of the pinned one, with the code of a checkout (default: this one). Prints, per edit,
whether it was published without a word, rejected by a check, or stopped by the change gate.

    .venv/bin/python bench/changes_gate.py [--code DIR]   (DIR: another checkout, e.g. a git worktree)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "raw" / "2023_Kazakh_legislative_election.txt"
EDITS = [
    ("| 19 January | Dissolution", "| 18 January | Dissolution"),
    ("| 20 January | Nomination", "| 21 January | Nomination"),
    ("| 8 February, 18:00 |", "| 9 February, 18:00 |"),
    ("| 18 February | Registration", "| 17 February | Registration"),
    ("| 13 March, 18:00 |", "| 12 March, 18:00 |"),
    ("| 18 March | Day of silence", "| 17 March | Day of silence"),
    ("| Jiguli Dairabaev |", "| Jiguli Dairabayev |"),
    ("| Erlan Abdiev |", "| Erlan Abdiyev |"),
    ("| Aidarbek Hodjanazarov |", "| Aidarbek Khodjanazarov |"),
    ("| 11 February 2023 |", "| 10 February 2023 |"),
    ("| 18 | 4 | 22 | 14 February 2023 |", "| 18 | 4 | 22 | 13 February 2023 |"),
    ("| 52 | 15 | 67 |", "| 53 | 14 | 67 |"),
    ("| 18 | 4 | 22 |", "| 17 | 5 | 22 |"),
    ("| 2:30:13 |", "| 2:31:13 |"),
    ("| 21,000 |", "| 20,000 |"),
    ("| Aigül Ädilova Darhan Äbduahit |", "| Aigül Adilova Darhan Äbduahit |"),
    ("| 2,000 | ± 1.1% |", "| 2,500 | ± 1.1% |"),
    ("| 1,600 | ± 3.0% |", "| 1,800 | ± 3.0% |"),
    ("| 8,000 | ± 1.1% |", "| 9,000 | ± 1.1% |"),
    ("| 1,200 | ± 2.8% |", "| 1,300 | ± 2.8% |"),
    ("| 2,000 | ± 1.1% |", "| 2,000 | ± 1.4% |"),
    ("| 1,600 | ± 3.0% |", "| 1,600 | ± 2.5% |"),
    ("| 1,200 | ± 2.8% |", "| 1,200 | ± 2.9% |"),
    ("| 17–27 February 2023 |", "| 16–27 February 2023 |"),
    ("| 3–18 February 2023 |", "| 4–18 February 2023 |"),
    ("| Democratic Institute | 12,000 |", "| Democratic Institute | 11,000 |"),
]
# A district row's winner: the cell before the winner's party, votes and share.
DISTRICT_ROW = re.compile(
    r"\| ([^|]+?) \| (?:Amanat|Independent[^|]*|Auyl|Aq Jol|QHP|Respublica|JSDP|Baytaq) \| [\d,]+ \| [\d.]+% \|"
)


def edits(text: str) -> list[tuple[str, str]]:
    """The fixed edits, then district winners' names (one letter changed) up to 42 in all."""
    out = [(old, new) for old, new in EDITS if text.count(old) == 1]
    for match in DISTRICT_ROW.finditer(text):
        name = match.group(1)
        if len(out) == 42:
            break
        if text.count(f"| {name} |") == 1 and "a" in name:
            out.append((f"| {name} |", f"| {name.replace('a', 'o', 1)} |"))
    return out


def root_with(text: str, folder: Path) -> Path:
    """A folder whose raw/ holds `text` as the pinned snapshot."""
    raw = folder / "raw"
    raw.mkdir(parents=True)
    manifest = json.loads((ROOT / "raw" / "manifest.json").read_text(encoding="utf-8"))
    data = text.encode("utf-8")
    (raw / SOURCE.name).write_bytes(data)
    manifest["snapshots"][0].update(sha256=sha256(data).hexdigest(), bytes=len(data))
    (raw / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def add_snapshot(root: Path, text: str) -> str:
    """The edited article added to raw/ beside the released snapshot and made current, as `fetch` does
    (retrieved on the day of the next release); returns its sha256."""
    data = text.encode("utf-8")
    sha = sha256(data).hexdigest()
    manifest = json.loads((root / "raw" / "manifest.json").read_text(encoding="utf-8"))
    name = f"{SOURCE.stem}.{sha[:12]}{SOURCE.suffix}"
    (root / "raw" / name).write_bytes(data)
    entry = {k: v for k, v in manifest["snapshots"][0].items() if not k.startswith("retrieved")}
    entry |= {"path": name, "retrieved_at": "2026-11-26T12:00:00Z", "sha256": sha, "bytes": len(data)}
    manifest["snapshots"].append(entry)
    manifest["current"] = name
    (root / "raw" / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return sha


def next_release(root: Path, sha: str) -> None:
    """The edited snapshot entered as the next release (2026.11.26), in the folder's own
    releases/releases.yaml (as a maintainer would)."""
    import datetime as dt

    import yaml

    entries = yaml.safe_load((ROOT / "releases" / "releases.yaml").read_text(encoding="utf-8"))
    entry = entries[0] | {
        "version": "2026.11.26",
        "release_date": dt.date(2026, 11, 26),
        "previous_version": entries[0]["version"],
        "snapshot_sha256": sha,
    }
    (root / "releases").mkdir(exist_ok=True)
    (root / "releases" / "releases.yaml").write_text(yaml.safe_dump([entry, *entries]), encoding="utf-8")


def publish(code: Path, root: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pipeline", "--root", str(root), "publish"]
    return subprocess.run(command, cwd=code, capture_output=True, text=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose code publishes (default: this)")
    code = parser.parse_args().code.resolve()
    text = SOURCE.read_text(encoding="utf-8")
    chosen = edits(text)
    counts = {"published unseen": 0, "rejected by a check": 0, "stopped for review": 0}
    with tempfile.TemporaryDirectory() as scratch:
        base = root_with(text, Path(scratch) / "base")
        assert publish(code, base).returncode == 0
        for number, (old, new) in enumerate(chosen, 1):
            root = Path(scratch) / f"edit{number}"
            shutil.copytree(base, root)
            next_release(root, add_snapshot(root, text.replace(old, new)))
            result = publish(code, root)
            if result.returncode == 0:
                kind = "published unseen"
            elif "not accepted yet" in result.stderr:
                kind = "stopped for review"
            else:
                kind = "rejected by a check"
            counts[kind] += 1
            print(f"{number:2}. {kind:<20} {old.strip('| ')!r} -> {new.strip('| ')!r}", flush=True)
            shutil.rmtree(root)
    print(f"{code}: {len(chosen)} edits: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))


if __name__ == "__main__":
    main()
