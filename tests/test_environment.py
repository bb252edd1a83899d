"""The environment is what the project declares: requirements.lock pins a version of every dependency
pyproject.toml names, inside its range, with hashes; the installer (uv) is pinned by hash too."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline import ROOT


def pins(lock: str) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a `uv pip compile --generate-hashes` file."""
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        head = re.match(r"([A-Za-z0-9._-]+)==([^\s\\;]+)", block)
        if head:
            found[canonicalize_name(head.group(1))] = (head.group(2), block.count("--hash=sha256:"))
    return found


def disagreements(pyproject: str, lock: str) -> list[str]:
    """Every dependency pyproject.toml declares (with the dev group) that the lock does not pin within range."""
    project = tomllib.loads(pyproject)
    locked = pins(lock)
    problems = []
    for text in project["project"]["dependencies"] + project["dependency-groups"]["dev"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{name} is not in the lock")
        elif not requirement.specifier.contains(locked[name][0], prereleases=True):
            problems.append(f"{name}=={locked[name][0]} is outside {requirement.specifier}")
    return problems


def test_the_lock_pins_every_declared_dependency_within_its_range():
    problems = disagreements(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), (ROOT / "requirements.lock").read_text(encoding="utf-8")
    )
    assert problems == [], "regenerate requirements.lock (its first lines give the command): " + "; ".join(problems)


def test_a_disagreement_is_found():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    changed = pyproject.replace('"duckdb>=1.2"', '"duckdb>=99"').replace('"ruff>=0.8",', '"ruff>=0.8",\n    "numpyx",')
    assert disagreements(changed, lock) == ["duckdb==2.0.1 is outside >=99", "numpyx is not in the lock"]


def test_every_pin_carries_hashes():
    for lock in ("requirements.lock", "requirements-tools.lock"):
        locked = pins((ROOT / lock).read_text(encoding="utf-8"))
        assert locked and all(count >= 1 for _, count in locked.values()), lock


def test_the_installer_is_pinned_by_hash_and_used_that_way():
    assert list(pins((ROOT / "requirements-tools.lock").read_text(encoding="utf-8"))) == ["uv"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-tools.lock" in makefile
    assert "--require-hashes requirements.lock" in makefile
