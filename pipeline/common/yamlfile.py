"""Reading the project's YAML files: one function, with libyaml's safe loader when it is installed (about
ten times faster than the pure-Python one; the same results)."""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path

import yaml

from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.common.files import NotReadable, read_regular

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 16 * 2**20  # the largest reviewed file (sources/reports) is about 1 MB


class _StrictLoader(_LOADER):
    """The safe loader, refusing a mapping that gives a key twice (YAML would keep the last silently: an
    entry of a reviewed file could be changed by appending a line to it)."""


def _mapping_without_repeats(loader, node):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool, type(None))) or isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                None, None, "a key that is not a plain value (text, a number)", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats)


_PARSED: dict[str, bytes] = {}  # key -> pickled contents: a file read again unchanged is not parsed again


def read_yaml(path: Path, *, strict: bool = False, stage: str = "read"):
    """The parsed contents of a YAML file (safe types only; with `strict`, a key given twice in a mapping is
    an error). Only a regular file of at most MAX_BYTES is read (never a FIFO or a device). A file whose
    bytes were parsed before, in this process or in an earlier build (pipeline/common/cache.py), is not
    parsed again: a fresh copy of that parse is returned (the mutation suite reads the same reviewed files
    hundreds of times, and a build about 90)."""
    try:
        data = read_regular(path, MAX_BYTES)
    except NotReadable as error:
        raise PipelineError(stage, f"{error}.") from None
    loader = _StrictLoader if strict else _LOADER
    name = cache.key("yaml", yaml.__version__, loader.__name__, data) + ".pickle"
    stored = _PARSED.get(name) or cache.get("yaml", name)
    if stored is not None:
        with contextlib.suppress(Exception):  # a damaged entry is parsed again
            contents = pickle.loads(stored)  # noqa: S301 (the build's own cache, written by this function)
            _PARSED[name] = stored
            return contents
    contents = yaml.load(data.decode("utf-8"), Loader=loader)  # noqa: S506 (a safe loader)
    stored = pickle.dumps(contents, protocol=pickle.HIGHEST_PROTOCOL)
    _PARSED[name] = stored
    cache.put("yaml", name, stored)
    return contents


def yaml_reason(error: Exception) -> str:
    """A YAML or decoding error in one short line (`... at line 3, column 3`)."""
    return " ".join(str(error).replace(' in "<unicode string>",', " at").split())[:300]


def read_reviewed(path: Path, required: tuple[str, ...], kind: str, stage: str) -> list[dict]:
    """The entries of a reviewed list (errata, acknowledgements, gaps, releases, acceptances): [] when the
    file is absent; each entry must be a mapping with every `required` key and no key twice, else a
    PipelineError names the file and entry."""

    if not path.exists() and not path.is_symlink():
        return []
    try:
        entries = read_yaml(path, strict=True, stage=stage) or []
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise PipelineError(stage, f"{path.name} is not valid YAML: {yaml_reason(error)}.") from None
    except OSError as error:
        raise PipelineError(stage, f"cannot read {path}: {error.strerror}.") from None
    if not isinstance(entries, list):
        raise PipelineError(stage, f"{path.name} must be a list of {kind} entries.")
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in required if not isinstance(entry, dict) or key not in entry]
        if missing:
            raise PipelineError(stage, f"{kind} #{number} in {path.name} lacks {', '.join(missing)}.")
    return entries
