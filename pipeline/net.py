"""HTTP for fetch and download: one requests session with a descriptive User-Agent, timeouts, and
retries with exponential backoff on 429 and 5xx that honour Retry-After (urllib3's Retry)."""

from __future__ import annotations

from pipeline.errors import PipelineError

USER_AGENT = ("kz-election-2023/0.1 (open-data package for the 2023 Kazakh legislative election; "
              "set a contact with --contact) python-requests")
RETRY_STATUSES = (429, 500, 502, 503, 504)


def session(*, retries: int = 5, backoff: float = 1.0, contact: str | None = None):
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    http = requests.Session()
    agent = USER_AGENT if not contact else USER_AGENT.replace("set a contact with --contact", contact)
    http.headers["User-Agent"] = agent
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                  backoff_factor=backoff, backoff_max=60, status_forcelist=RETRY_STATUSES,
                  allowed_methods=frozenset({"GET"}), respect_retry_after_header=True, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def get(http, stage: str, url: str, *, timeout: float, params: dict | None = None, stream: bool = False):
    """GET a URL; every network failure becomes a PipelineError that says what happened."""
    import requests

    try:
        response = http.get(url, params=params, timeout=timeout, stream=stream)
    except requests.exceptions.ChunkedEncodingError as error:
        raise PipelineError(stage, f"the response from {url} was cut short: {_short(error)}.") from None
    except requests.exceptions.ConnectTimeout:
        raise PipelineError(stage, f"connecting to {url} timed out (after {timeout:g} s, with retries).") from None
    except requests.exceptions.ReadTimeout:
        raise PipelineError(stage, f"{url} did not answer within {timeout:g} s.") from None
    except requests.exceptions.ConnectionError as error:
        reason = "timed out" if "timed out" in str(error).lower() else "failed"
        raise PipelineError(stage, f"the connection to {url} {reason} after retries: {_short(error)}.") from None
    except requests.exceptions.RequestException as error:
        raise PipelineError(stage, f"the request to {url} failed: {_short(error)}.") from None
    if response.status_code != 200:
        retried = len(response.raw.retries.history) if getattr(response.raw, "retries", None) else 0
        raise PipelineError(stage, f"{url} answered HTTP {response.status_code} {response.reason}"
                            f"{f' after {retried} retries' if retried else ''}.")
    return response


def read_body(response, stage: str, url: str) -> bytes:
    """The whole body; a body cut short (fewer bytes than Content-Length) is an error."""
    import requests

    try:
        return response.content
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            requests.exceptions.ConnectionError) as error:
        raise PipelineError(stage, f"the response from {url} was cut short: {_short(error)}.") from None


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 300 else text[:297] + "..."
