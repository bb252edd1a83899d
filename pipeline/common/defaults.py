"""Defaults and limits that the command line shows in `--help`: the article's identity, the network
limits and the build lock's wait. Standard library only, so that `--help` stays fast."""

from __future__ import annotations

from dataclasses import dataclass

# The source: the English Wikipedia article, through the MediaWiki API.
DEFAULT_API = "https://en.wikipedia.org/w/api.php"
TITLE = "2023 Kazakh legislative election"
PAGE_URL = "https://en.wikipedia.org/wiki/2023_Kazakh_legislative_election"

# Network: what fetch and download accept and how long they wait (docs/build.md, "Limits").
MAX_API_BYTES = 16 * 2**20  # the article's parse output is about 1 MB; the longest Wikipedia pages ~5 MB
MAX_DESCRIPTOR_BYTES = 8 * 2**20  # our datapackage.json is about 0.1 MB
FETCH_DEADLINE = 300.0
DOWNLOAD_DEADLINE = 1800.0


@dataclass(frozen=True)
class Limits:
    """The limits of one network command."""

    timeout: float = 30.0  # silence: connecting, or between bytes; also the window of min_speed
    request_deadline: float = 300.0  # one attempt, whatever the server does
    deadline: float = 600.0  # the whole command
    retries: int = 5
    backoff: float = 1.0
    max_wait: float = 60.0
    min_speed: int = 1024  # bytes per second, over each `timeout` window of a body; headers within 2 x timeout


# The build lock: how long a build waits for another one (or a download for another into its folder).
LOCK_WAIT = 600.0
