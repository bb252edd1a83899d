"""The forensics in a second process, forked once the tables are known (and only when the build cache does
not hold their result), so that numpy's import and the simulations overlap the parent's validation,
loading and checks."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from pathlib import Path

from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.forensics import INPUTS, parameters, run


class Pending:
    """The forensics of the tables given to `send`: taken from the build cache when they were computed
    before from the same tables, parameters and code; else computed in a second process, forked then, so
    that numpy's import and the simulations run on the other core while this one validates, loads and
    checks; `result` waits for them. Where fork is not available, everything runs here, in `send`. The
    result is published only once the validation and the cross-checks have passed."""

    def __init__(self, params: dict | None = None):
        self._params = params or parameters()
        self._value, self._pid, self._received, self._key, self._results = None, None, False, "", None

    def send(self, tables: dict[str, list[dict]], prints: dict[str, str] | None = None) -> None:
        """Start the forensics of `tables` (or take them from the build cache; `prints`: the tables'
        cache.fingerprints, if the caller has them). The forensics are given the tables they read
        (forensics.INPUTS) and no other, and are known by those alone."""
        tables = {name: tables[name] for name in INPUTS}
        self._key = cache_key(prints or cache.fingerprints(tables), self._params)
        stored = cache.recall("forensics", self._key)
        if stored is not cache.MISSING:
            self._value = stored
            return
        if not hasattr(os, "fork"):
            self._value = run(tables, self._params)
            cache.remember("forensics", self._key, self._value)
            return
        results_read, results_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second process (it holds the tables already): it never returns into the caller
            code = 1
            try:
                os.close(results_read)
                _child(tables, results_write, self._params)
                code = 0
            finally:
                os._exit(code)
        os.close(results_write)
        self._pid, self._results = pid, results_read

    def result(self) -> dict[str, list[dict]]:
        """The forensics tables (a PipelineError if the second process failed)."""
        if self._value is not None or self._pid is None:
            if self._value is None:
                raise PipelineError("forensics", "the forensics were asked for before the tables were sent.")
            return self._value
        with os.fdopen(self._results, "rb") as stream:
            self._results = None
            data = stream.read()
        self._received = True
        self.close()
        try:
            status, value = pickle.loads(data) if data else ("error", "the forensics process ended without a result")
        except Exception:  # cut short: killed while it wrote
            status, value = "error", "the forensics process ended before its result was whole"
        if status != "ok":
            raise PipelineError("forensics", f"the forensics step failed: {value}.")
        self._value = value  # asked again (a release staged twice): the same tables
        cache.remember("forensics", self._key, value)
        return value

    def close(self) -> None:
        """End the second process: at once if the build stopped before it asked for the result."""
        if self._pid is None:
            return
        if self._results is not None:
            os.close(self._results)
            self._results = None
        if not self._received:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)
        os.waitpid(self._pid, 0)
        self._pid = None


def cache_key(prints: dict[str, str], params: dict) -> str:
    """The build cache's name for the forensics of these tables (their cache.fingerprints; only those of the
    tables the forensics read count), the parameters and numpy's version file (its generator and
    algorithms decide the draws); the code is in every key."""
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    version = Path(spec.origin).parent / "version.py" if spec and spec.origin else None
    numpy = version.read_bytes() if version and version.is_file() else b"no numpy"
    read = cache.fingerprint({name: prints[name] for name in INPUTS})
    return cache.key("forensics", read, cache.fingerprint(params), numpy) + ".pickle"


def _child(tables: dict[str, list[dict]], results_write: int, params: dict) -> None:
    # Every inherited descriptor but the result's pipe: the build lock stays the parent's.
    os.closerange(3, results_write)
    os.closerange(results_write + 1, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1 << 16)
    os.nice(10)  # the build comes first: this process takes the cores the build leaves idle
    try:
        answer = ("ok", run(tables, params))
    except Exception as error:  # reported by the parent as a clear error
        answer = ("error", f"{type(error).__name__}: {error}")
    with contextlib.suppress(OSError), os.fdopen(results_write, "wb") as stream:
        pickle.dump(answer, stream, protocol=pickle.HIGHEST_PROTOCOL)
