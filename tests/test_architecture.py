"""The folder tree is the architecture: a package per concern, every stage importing only the stages
below it, no module over 400 lines, and no two module names that differ by one letter."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from pipeline import ROOT

PACKAGE = ROOT / "pipeline"
# Lowest first: a package may import only the packages before it (and itself).
LAYERS = (
    "common",
    "metadata",
    "net",
    "raw",
    "extract",
    "derive",
    "validate",
    "checks",
    "forensics",
    "stations",
    "release",
    "stages",
    "publish",
    "site",
    "commands",
    "cli",
    "__main__",
)
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def part(module: str) -> str:
    """The top-level part of pipeline a dotted module name belongs to (`pipeline.release.gate` -> release)."""
    return module.split(".")[1] if module.count(".") else "pipeline"


def imports(path: Path) -> set[str]:
    """The parts of pipeline that a file imports: `from ... import`, relative imports resolved against the
    file's package, `import pipeline.x`, `pipeline.x` after `import pipeline`, and importlib.import_module
    or __import__ of a literal name; lazy imports inside functions included."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("").parts  # ("pipeline", "validate", "x")
    package = relative[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "pipeline":
                names = [f"pipeline.{a.name}" for a in node.names]
            elif base.split(".")[0] == "pipeline":
                names = [base]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pipeline":
            names = [f"pipeline.{node.attr}"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found |= {part(name) for name in names if name.split(".")[0] == "pipeline"}
    return found - {"ROOT", "pipeline"}


def upward_imports(files: list[Path]) -> list[str]:
    """Every import of a package from a package below it in LAYERS (or of a package LAYERS does not know)."""
    problems = []
    for path in files:
        relative = path.relative_to(PACKAGE)
        own = relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.stem != "__init__" else ""
        if not own:
            continue
        for other in sorted(imports(path) - {own}):
            if own not in LAYERS or other not in LAYERS or LAYERS.index(other) > LAYERS.index(own):
                problems.append(f"{relative} ({own}) imports {other}")
    return problems


def one_letter_apart(a: str, b: str) -> bool:
    """True if a and b differ by exactly one inserted, deleted or replaced letter."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def names() -> set[str]:
    """The names of every module and package under pipeline/."""
    found = set()
    for path in modules():
        found.add(path.parent.name if path.stem == "__init__" else path.stem)
    return found - {"__init__", "__main__"}


def test_every_package_is_a_layer_and_imports_only_the_layers_below_it():
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert parts == set(LAYERS)
    assert upward_imports(modules()) == []


def test_an_upward_import_is_found(tmp_path):
    # validate importing a later stage breaks the one-way dependency, in any of the forms Python has.
    folder = tmp_path / "pipeline" / "validate"
    folder.mkdir(parents=True)
    sources = {
        "x.py": "def f():\n    from pipeline.publish.staging import stage_release\n",
        "y.py": "from ..site import build\n",
        "z.py": "import importlib\nimportlib.import_module('pipeline.publish.run')\n",
        "w.py": "import pipeline\n\ndef f():\n    return pipeline.stages.source_tables\n",
    }
    for name, text in sources.items():
        (folder / name).write_text(text, encoding="utf-8")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "pipeline"
    try:
        assert upward_imports(sorted(folder.glob("*.py"))) == [
            "validate/w.py (validate) imports stages",
            "validate/x.py (validate) imports publish",
            "validate/y.py (validate) imports site",
            "validate/z.py (validate) imports publish",
        ]
    finally:
        PACKAGE = saved


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_package_says_what_it_holds():
    for init in PACKAGE.rglob("__init__.py"):
        if "__pycache__" in init.parts or init.parent.name == "sections":
            continue
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_no_two_module_names_differ_by_one_letter():
    pairs = [(a, b) for a, b in itertools.combinations(sorted(names()), 2) if one_letter_apart(a, b)]
    assert pairs == []


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("release", "releases", True),
        ("report", "reports", True),
        ("stage", "stages", True),
        ("net", "nets", True),
        ("check", "checks", True),
        ("lock", "look", True),
        ("gate", "gate", False),
        ("run", "raw", False),
    ],
)
def test_names_one_letter_apart_are_found(a, b, near):
    assert one_letter_apart(a, b) is near
