"""What went wrong with a request, in words: URLs checked, connection failures named, headers read.
Used by the HTTP client (pipeline/net/client.py)."""

from __future__ import annotations

import datetime as dt
import email.utils
import errno
import re
import socket
import time
from urllib.parse import quote, urlsplit

import requests
import urllib3

from pipeline.common.errors import PipelineError


class Retry(Exception):
    """A failure worth another attempt: `text` says what happened, `wait` is the server's Retry-After."""

    def __init__(self, text: str, wait: float | None = None):
        super().__init__(text)
        self.text, self.wait = text, wait


def header_text(text: str) -> str:
    """Text for an HTTP header: printable ASCII kept, everything else percent-encoded (UTF-8)."""

    return "".join(ch if 32 <= ord(ch) < 127 and ch != "%" else quote(ch, safe="", errors="replace") for ch in text)


def shown(url: str) -> str:
    """A URL for a message: quoted, shortened, control characters escaped."""
    return repr(url) if len(url) <= 120 and url.isprintable() else repr(url[:117]) + "..."


def url_problem(stage: str, url: str, prefix: str = "") -> None:
    """A PipelineError unless `url` is an http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and url.isprintable()
    except ValueError:
        ok = False
    if not ok:
        raise PipelineError(stage, f"{prefix}{shown(url)}, which is not a usable http(s) URL.")


def content_length(response) -> int | None:
    """The answer's Content-Length, or None if absent or unreadable."""
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value):
        return float(value) if len(value) <= 12 else 1e12  # a huge number stays huge
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - time.time())


def duration_text(value: float) -> str:
    """Seconds in words: '8 s', '5 min', '12 days'."""
    if value >= 86_400 * 2:
        return f"{value / 86_400:,.0f} days"
    if value >= 120:
        return f"{value / 60:,.0f} min"
    return f"{value:g} s" if value >= 1 else f"{value:.2g} s"


def first_line(error: BaseException) -> str:
    """An exception's first line, shortened, for a message."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) < 200 else text[:197] + "..."


def causes_of(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps (requests -> urllib3 -> socket)."""
    seen, queue = [], [error]
    while queue:
        item = queue.pop(0)
        if item is None or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        queue += [item.__cause__, item.__context__, getattr(item, "reason", None)]
        queue += [a for a in getattr(item, "args", ()) if isinstance(a, BaseException)]
    return [s for s in seen if isinstance(s, BaseException)]


def is_timeout(error: BaseException) -> bool:
    """Whether an error is, or wraps, a timeout."""
    return any(
        isinstance(c, (socket.timeout, TimeoutError, urllib3.exceptions.TimeoutError, requests.exceptions.Timeout))
        for c in causes_of(error)
    )


def connection_problem(stage: str, url: str, error: BaseException, timeout: float) -> Exception:
    """A request that failed before an answer, in words: _Retry if another attempt may help, else a
    PipelineError (no network at all, a bad URL)."""

    try:
        parts = urlsplit(url)
        host = parts.hostname or url
        where = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        host = where = url[:120]
    causes = causes_of(error)
    if isinstance(
        error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)
    ):
        return PipelineError(stage, f"{shown(url)} is not a usable URL ({first_line(error)}).")
    if isinstance(error, requests.exceptions.InvalidHeader):
        return PipelineError(
            stage, f"a header of the request to or the answer from {where} is invalid ({first_line(error)})."
        )
    if any(isinstance(c, socket.gaierror) or type(c).__name__ == "NameResolutionError" for c in causes):
        return PipelineError(
            stage,
            f"cannot look up the host {host!r}: this machine seems to have no network or no DNS, or the name is wrong.",
        )
    codes = {getattr(c, "errno", None) for c in causes}
    if codes & {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}:
        return PipelineError(stage, f"cannot reach {where}: the network is unreachable (is this machine offline?).")
    if isinstance(error, requests.exceptions.SSLError):
        return PipelineError(stage, f"the TLS handshake with {where} failed: {first_line(error)}.")
    if errno.ECONNREFUSED in codes or any(isinstance(c, ConnectionRefusedError) for c in causes):
        return Retry(f"{where} refused the connection: no server is listening there (is it down, or is the URL wrong?)")
    if errno.ECONNRESET in codes or any(isinstance(c, ConnectionResetError) for c in causes):
        return Retry(f"{where} reset the connection")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return Retry(f"connecting to {where} timed out after {timeout:g} s")
    if isinstance(error, requests.exceptions.ReadTimeout) or is_timeout(error):
        return Retry(f"{where} sent no answer for {timeout:g} s")
    if any(type(c).__name__ in ("RemoteDisconnected", "ProtocolError", "BadStatusLine") for c in causes):
        return Retry(f"{where} closed the connection without a valid answer")
    return Retry(f"the request to {where} failed ({first_line(error)})")
