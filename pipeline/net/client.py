"""HTTP for fetch and download, written for hostile servers and broken networks. Needs only requests.

Every request has limits that hold whatever the server does:
- `timeout`: the longest silence (connecting, or waiting for the next bytes);
- `request_deadline`: one attempt, however slowly the server sends (a slow-loris server is cut off);
- `deadline`: the whole command, retries included;
- a size cap: an answer is read up to `max_bytes` (and a file up to the bytes its descriptor declares);
  a Content-Length above the cap is refused before the body is read.
Retries (429, 5xx, refused or broken connections, timeouts, bodies cut short) wait `backoff` seconds,
doubled each time, or what Retry-After asks, up to `max_wait`; a server asking for longer, or a wait that
would pass the deadline, ends the command with an error. Each wait is announced on one line.
The deadlines are enforced between reads and, in the main thread, by a timer signal that also interrupts a
server that sends its headers one byte at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import requests
import urllib3

from pipeline.common.defaults import Limits
from pipeline.common.errors import PipelineError
from pipeline.net.problems import (
    Retry,
    connection_problem,
    content_length,
    duration_text,
    first_line,
    header_text,
    is_timeout,
    retry_after,
    shown,
    url_problem,
)

USER_AGENT = (
    "kz-election-2023/0.1 (open-data package for the 2023 Kazakh legislative election; "
    "set a contact with --contact) python-requests"
)
RETRY_STATUSES = {429, 500, 502, 503, 504}
CHUNK = 1 << 16
MAX_REDIRECTS = 5


class _Expired(BaseException):
    """Raised by the timer signal; a BaseException so that no library's `except Exception` swallows it."""


DeadlineExpired = _Expired  # for callers that bound their own work with `timer`


@contextlib.contextmanager
def timer(seconds: float):
    """Raise _Expired after `seconds` in the main thread (elsewhere the checks between reads suffice).
    Nests: an inner timer never outlives an outer one, and the outer one is re-armed on exit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _Expired()

    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(min(seconds, outer) if outer > 0 else seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


LARGE_FILE_BYTES = 256 * 1024  # a file this large gets a line of progress when it is complete


class Progress:
    """Progress of one file: a line rewritten in place on a terminal; elsewhere (a log, a pipe) one line
    when the file is complete, so a log does not fill up."""

    def __init__(self, stream, label: str, total: int | None):
        self.stream, self.label, self.total = stream, label, total
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.shown = 0.0

    def update(self, done: int) -> None:
        """Show how far the file has come (on a terminal, at most five times a second)."""
        if self.stream is None or not self.tty or time.monotonic() - self.shown < 0.2:
            return
        self.shown = time.monotonic()
        share = f"{done * 100 // self.total:3d}% of {self.total:,}" if self.total else f"{done:,}"
        print(f"\r  {self.label}: {share} bytes", end="", file=self.stream, flush=True)

    def finish(self, done: int) -> None:
        """One line: the file is complete."""
        if self.stream is None:
            return
        print(f"{chr(13) if self.tty else ''}  {self.label}: {done:,} bytes, complete", file=self.stream, flush=True)


class Client:
    """One command's HTTP client: the limits hold for every request it makes."""

    def __init__(self, stage: str, limits: Limits | None = None, *, contact: str | None = None, log=None):

        self.stage, self.limits = stage, limits or Limits()
        limits = self.limits
        self.log = log if log is not None else sys.stderr  # looked up now: tests replace sys.stderr
        self.ends = time.monotonic() + limits.deadline
        self.http = requests.Session()
        self.http.headers["User-Agent"] = (
            USER_AGENT if not contact else USER_AGENT.replace("set a contact with --contact", header_text(contact))
        )
        self.http.trust_env = True

    def close(self) -> None:
        """Close the client's connections."""
        self.http.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        params: dict | None = None,
        exact_bytes: int | None = None,
        into: Path | None = None,
        progress=None,
        label: str | None = None,
        compressed: bool = False,
    ) -> bytes | tuple[int, str]:
        """GET `url`, retrying what is worth retrying. The body is returned (at most max_bytes), or with
        `into`, written to that file and (bytes, sha256) returned. With `exact_bytes`, a body of any other
        size is an error (read no further than that size)."""
        url_problem(self.stage, url)
        limits = self.limits
        for attempt in range(limits.retries + 1):
            remaining = self.ends - time.monotonic()
            if remaining <= 0:
                raise self._deadline_error(url)
            per_request = min(limits.request_deadline, remaining)
            try:
                with timer(per_request):
                    return self._once(
                        url,
                        params,
                        max_bytes,
                        exact_bytes,
                        into,
                        progress,
                        label or url,
                        compressed,
                        time.monotonic() + per_request,
                    )
            except _Expired:
                if time.monotonic() >= self.ends - 0.01:
                    raise self._deadline_error(url) from None
                problem = Retry(f"{url} did not finish within the request deadline of {limits.request_deadline:g} s")
            except Retry as retry:
                problem = retry
            if attempt == limits.retries:
                after = (
                    f" (gave up after {limits.retries} {'retry' if limits.retries == 1 else 'retries'})"
                    if limits.retries
                    else " (no retries: --retries 0)"
                )
                raise PipelineError(self.stage, f"{problem.text}{after}.")
            self._wait(problem, attempt + 1)
        raise AssertionError("unreachable")

    def _deadline_error(self, url: str) -> PipelineError:
        return PipelineError(
            self.stage,
            f"the command did not finish within its deadline of {self.limits.deadline:g} s (while getting {url}).",
            hint="A slow or stalled server; raise --deadline to allow more time.",
        )

    def _wait(self, problem: Retry, number: int) -> None:
        limits = self.limits
        if problem.wait is not None:
            if problem.wait > limits.max_wait:
                raise PipelineError(
                    self.stage,
                    f"{problem.text}, and the server asks to wait "
                    f"{duration_text(problem.wait)} before retrying: more than the {limits.max_wait:g} s "
                    "this command waits at most.",
                    hint="Try again later, or raise --max-wait.",
                )
            delay = problem.wait
        else:
            delay = min(limits.backoff * 2 ** (number - 1), limits.max_wait)
        if time.monotonic() + delay >= self.ends:
            raise PipelineError(
                self.stage,
                f"{problem.text}; a retry in {duration_text(delay)} would pass the "
                f"command's deadline of {limits.deadline:g} s, so it gives up.",
            )
        print(
            f"{self.stage}: {problem.text}; retrying in {duration_text(delay)} ({number} of {limits.retries})",
            file=self.log,
            flush=True,
        )
        time.sleep(delay)  # checked above to end before the deadline

    def _once(self, url, params, max_bytes, exact_bytes, into, progress, label, compressed, ends):
        response, url = self._follow(url, params, compressed)
        with contextlib.closing(response):
            self._check_status(response, url)
            cap = exact_bytes if exact_bytes is not None else max_bytes
            declared = content_length(response)
            encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
            if declared is not None and not encoded:
                if declared > cap:
                    what = "the descriptor declares" if exact_bytes is not None else "this command reads at most"
                    raise PipelineError(
                        self.stage, f"{url} announces {declared:,} bytes, but {what} {cap:,}; nothing was read."
                    )
                if exact_bytes is not None and declared != exact_bytes:
                    raise PipelineError(
                        self.stage,
                        f"{url} announces {declared:,} bytes, but the descriptor "
                        f"declares {exact_bytes:,}; nothing was read.",
                    )
            return self._read(
                response,
                url,
                cap,
                exact_bytes,
                declared if not encoded else None,
                into,
                Progress(progress, label, exact_bytes or declared),
                ends,
            )

    def _follow(self, url, params, compressed):
        """GET with redirects followed here (at most MAX_REDIRECTS, http(s) only) without reading the body
        of a redirect, which requests would read whole."""

        headers = {"Accept-Encoding": "gzip" if compressed else "identity"}
        for _ in range(MAX_REDIRECTS + 1):
            try:
                # The adapter directly: Session.get reads a redirect's body whole, even with
                # allow_redirects=False (to prepare Response.next).
                prepared = self.http.prepare_request(requests.Request("GET", url, params=params, headers=headers))
                settings = self.http.merge_environment_settings(prepared.url, {}, True, None, None)
                # The status line and headers must be complete within 2 x timeout: a server sending them
                # a byte at a time never lets a single read time out.
                headers_due = time.monotonic() + 2 * self.limits.timeout
                with timer(2 * self.limits.timeout):
                    response = self.http.get_adapter(prepared.url).send(
                        prepared,
                        stream=True,
                        timeout=(self.limits.timeout, self.limits.timeout),
                        verify=settings["verify"],
                        cert=settings["cert"],
                        proxies=settings["proxies"],
                    )
            except _Expired:
                if time.monotonic() < headers_due - 0.01:
                    raise  # the request's or the command's deadline, not the headers'
                raise PipelineError(
                    self.stage,
                    f"{url} did not send its status line and headers within "
                    f"{2 * self.limits.timeout:g} s (a stalled or deliberately slow server).",
                ) from None
            except requests.exceptions.RequestException as error:
                raise connection_problem(self.stage, url, error, self.limits.timeout) from None
            except (ValueError, UnicodeError) as error:  # a URL or header urllib3 cannot even send
                raise PipelineError(
                    self.stage, f"cannot send a request to {shown(url)}: {first_line(error)}."
                ) from None
            except OSError as error:  # e.g. REQUESTS_CA_BUNDLE names a missing file
                raise PipelineError(
                    self.stage, f"the request to {shown(url)} failed before it was sent: {first_line(error)}."
                ) from None
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response, url
            response.close()  # the body of a redirect is never read
            try:
                target = urljoin(response.url, location)
            except ValueError:
                target = location
            url_problem(self.stage, target, f"{url} redirects to ")
            url, params = target, None
        raise PipelineError(self.stage, f"{url} redirects more than {MAX_REDIRECTS} times.")

    def _check_status(self, response, url: str) -> None:
        if response.status_code == 200:
            return
        text = f"{url} answered HTTP {response.status_code} {response.reason or ''}".rstrip()
        if response.status_code in RETRY_STATUSES:
            raise Retry(text, retry_after(response.headers.get("Retry-After")))
        raise PipelineError(self.stage, f"{text}.")

    def _read(self, response, url, cap, exact_bytes, declared, into, progress, ends):

        raw = response.raw
        read = raw.read1 if hasattr(raw, "read1") else raw.read
        digest, size, parts = hashlib.sha256(), 0, []
        window_start, window_size = time.monotonic(), 0  # the low-speed rule: min_speed over each window
        handle = into.open("wb") if into is not None else None
        try:
            while True:
                now = time.monotonic()
                if now > ends:
                    raise _Expired()
                if now - window_start >= self.limits.timeout:
                    if size - window_size < self.limits.min_speed * (now - window_start):
                        raise PipelineError(
                            self.stage,
                            f"{url} sent only {size - window_size:,} bytes in "
                            f"{now - window_start:.2g} s, less than the {self.limits.min_speed:,} "
                            "bytes per second this command accepts (a stalled or deliberately "
                            "slow server).",
                            hint="Lower --min-speed for a very slow link.",
                        )
                    window_start, window_size = now, size
                try:
                    chunk = read(CHUNK, decode_content=True)
                except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as error:
                    if is_timeout(error):
                        raise Retry(f"{url} sent nothing for {self.limits.timeout:g} s after {size:,} bytes") from None
                    raise Retry(f"the answer from {url} broke off after {size:,} bytes ({first_line(error)})") from None
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    what = (
                        f"the {cap:,} bytes its descriptor declares"
                        if exact_bytes is not None
                        else f"the {cap:,} bytes this command reads at most"
                    )
                    raise PipelineError(self.stage, f"{url} sent more than {what}; the rest was not read.")
                digest.update(chunk)
                if handle is not None:
                    handle.write(chunk)
                else:
                    parts.append(chunk)
                progress.update(size)
        finally:
            if handle is not None:
                handle.close()
        if declared is not None and size < declared:
            raise Retry(f"the answer from {url} was cut short: {size:,} of the {declared:,} bytes announced")
        if exact_bytes is not None and size != exact_bytes:
            raise PipelineError(self.stage, f"{url} sent {size:,} bytes, but the descriptor declares {exact_bytes:,}.")
        if exact_bytes is not None and exact_bytes > LARGE_FILE_BYTES:
            progress.finish(size)
        if into is not None:
            return size, digest.hexdigest()
        return b"".join(parts)
