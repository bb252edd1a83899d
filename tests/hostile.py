"""Helpers of the fault-injection tests (tests/test_hostile*.py): the command line run in this process,
and the assertion every hostile case makes."""

from __future__ import annotations

import hashlib
import io
import json
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from pipeline.cli import main

SHORT = ["--timeout", "0.3", "--request-deadline", "1", "--deadline", "3", "--retries", "0", "--backoff", "0.05"]


@dataclass
class Run:
    code: int | str
    out: str
    err: str
    seconds: float


def run_main(*argv: str) -> Run:
    """The command line, in this process (so that a server in this process can answer it)."""
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as stop:
            code = stop.code
        except BaseException:  # noqa: BLE001 (reported as the traceback a user would see)
            err.write("Traceback (most recent call last):\n" + traceback.format_exc())
            code = "crash"
    return Run(code, out.getvalue(), err.getvalue(), time.monotonic() - started)


def assert_clear_failure(run: Run, *needles: str, within: float = 5.0) -> str:
    """Exit code 1, no traceback, the error as one line at the end of stderr, in bounded time."""
    assert "Traceback" not in run.err, run.err
    assert run.code == 1, (run.code, run.err)
    lines = run.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], run.err
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    assert run.seconds < within, f"took {run.seconds:.1f} s"
    return errors[0]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


RETRIED = ["--retries", "2", "--backoff", "0.01"]  # the Retry-After cases need a retry to be asked for


def resource_entry(path="processed/extra.csv", data=b"a,b\n1,2\n", **override):
    return {"name": "extra", "path": path, "hash": f"sha256:{sha256(data)}", "bytes": len(data)} | override


def descriptor(*resources) -> bytes:
    return json.dumps({"name": "hostile", "resources": list(resources)}).encode()
