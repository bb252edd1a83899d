"""A fork server for the tests' `python -m pipeline` runs: one process per test worker imports the
libraries and the pipeline's modules once (about 0.25 s of every run: duckdb alone 0.15 s), then forks a
child for each run, which executes `pipeline/__main__.py` as `python -m pipeline` would, in the folder,
with the environment, arguments and standard streams of the run. The child is a real process of its own:
its exit code, its output, its files, its locks and a kill are the same as a fresh interpreter's.

What a forked child shares with the other runs is the interpreter's start: the hash seed, what the
environment sets for an interpreter's start only (a run that sets it otherwise runs in a new interpreter:
STARTUP), the modules imported before the fork (imported only, never called: no cached state) and the
digest of their code, which the build cache's keys hold (taken when they were imported, so that a file
edited during a run cannot label the old code's results as the new code's). The test that compares two
builds for byte-identical output stages one anew in a new interpreter (`run_cli(..., fresh=True)`), so
that a result depending on the hash seed still shows.

`run(args, cwd, timeout)` returns a subprocess.CompletedProcess, as subprocess.run(capture_output=True,
text=True) does; it also runs another module (tests.crash), with another environment or a file size limit.
Only the output's encoding cannot change (PYTHONIOENCODING): it is the server's. The server starts on
the first run and ends with the test worker (its socket closes).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import socket
import subprocess
import sys
import tempfile

# What the commands import: the libraries (numpy for the forensics, requests for fetch and download) and
# every module of pipeline/ but the portal's (vl-convert: its builds are few) and the HTML front end's
# (pandas: only `fetch` reads HTML).
LIBRARIES = ("duckdb", "yaml", "numpy", "requests")
SKIPPED = ("pipeline.site", "pipeline.__main__", "pipeline.extract.html")
_SERVER: dict = {}


def run(
    args: list[str],
    cwd,
    timeout: float,
    *,
    env: dict | None = None,
    module: str = "pipeline",
    max_file_bytes: int | None = None,
) -> subprocess.CompletedProcess:
    """`python -m MODULE ARGS` (by default the pipeline) in `cwd`, in a child of the fork server, with
    `env` (by default this process's environment); its output captured as text, as
    subprocess.run(capture_output=True, text=True) has it. `max_file_bytes`: the child's files may grow
    to that size, then writes fail with EFBIG (as on a full disk; SIGXFSZ ignored)."""
    server = _server()
    environment = dict(os.environ if env is None else env)
    if any(environment.get(name) != _SERVER["startup"].get(name) for name in STARTUP):
        return _fresh(args, cwd, timeout, environment, module, max_file_bytes)
    request = {"args": list(args), "cwd": str(cwd), "env": environment}
    request = json.dumps(request | {"module": module, "max_file_bytes": max_file_bytes}).encode()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            socket.send_fds(server, [request], [out.fileno(), err.fileno()])
            pid = int(_answer(server))
        except OSError:  # the server is gone (a test killed it?): start another, once
            _SERVER.pop("socket")
            return run(args, cwd, timeout, env=env, module=module, max_file_bytes=max_file_bytes)
        server.settimeout(timeout)
        try:
            status = int(_answer(server))
        except TimeoutError:
            os.kill(pid, 9)
            server.settimeout(None)
            server.recv(64)  # the server reaps the killed child
            raise subprocess.TimeoutExpired(["python", "-m", module, *args], timeout) from None
        finally:
            server.settimeout(None)
        outputs = []
        for stream in (out, err):
            stream.seek(0)
            text = stream.read().decode(locale.getpreferredencoding(False))
            outputs.append(text.replace("\r\n", "\n").replace("\r", "\n"))  # universal newlines, as text=True
    code = os.waitstatus_to_exitcode(status)
    return subprocess.CompletedProcess(["python", "-m", module, *args], code, *outputs)


# What an interpreter reads only when it starts: a run whose environment sets one of them otherwise than
# the server's runs in a new interpreter.
STARTUP = (
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONWARNINGS",
    "PYTHONDEVMODE",
    "PYTHONOPTIMIZE",
    "PYTHONPATH",
    "PYTHONSAFEPATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
)


def _fresh(args, cwd, timeout, env, module, max_file_bytes) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=(lambda: _limit_file_size(max_file_bytes)) if max_file_bytes is not None else None,
    )


def _limit_file_size(max_file_bytes: int) -> None:
    """This process's files may grow to `max_file_bytes`, then writes fail with EFBIG (SIGXFSZ ignored)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes,) * 2)


def _answer(server: socket.socket) -> bytes:
    data = server.recv(64)
    if not data:
        raise RuntimeError("the tests' fork server has ended: its traceback is above, in the test worker's output")
    return data


def _server() -> socket.socket:
    if "socket" not in _SERVER:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        theirs.close()
        if not _SERVER.get("registered"):  # (once, whatever the number of servers started)
            atexit.register(_stop)
        _SERVER.update(socket=ours, process=process, registered=True)
        _SERVER["startup"] = {name: os.environ.get(name) for name in STARTUP}
    return _SERVER["socket"]


def _stop() -> None:
    """End the server with the test worker (its socket closed, it leaves), and wait for it."""
    if "socket" in _SERVER:
        _SERVER["socket"].close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _SERVER["process"].wait(timeout=10)


def _serve(connection: socket.socket) -> None:
    import importlib
    import pkgutil

    import pipeline

    modules = (m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.") if not m.name.startswith(SKIPPED))
    for name in (*LIBRARIES, *modules):
        importlib.import_module(name)
    from pipeline.common import cache

    cache._code()  # the digest of the code imported here, not of the files as a later edit leaves them
    null = os.open(os.devnull, os.O_RDONLY)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 2)
        except OSError:
            return
        if not message:  # the test worker has gone
            return
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            connection.close()
            _child(request, null, *fds)
        for fd in fds:
            os.close(fd)
        connection.send(str(pid).encode())
        _, status = os.waitpid(pid, 0)
        connection.send(str(status).encode())


def _child(request: dict, stdin: int, stdout: int, stderr: int) -> None:
    """Become `python -m pipeline ARGS`: the streams, the folder, the environment, then __main__.py."""
    import runpy
    import time
    import traceback

    code = 1
    try:
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
        for fd in (stdin, stdout, stderr):
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        if request["max_file_bytes"] is not None:
            _limit_file_size(request["max_file_bytes"])
        sys.argv = ["-m", *request["args"]]
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)  # (pipeline's leaves by os._exit)
        code = 0
    except SystemExit as leaving:  # as the interpreter ends on SystemExit
        if leaving.code is None or isinstance(leaving.code, int):
            code = leaving.code or 0
        else:
            print(leaving.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
