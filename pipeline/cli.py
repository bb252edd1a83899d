"""Command line: `python -m pipeline <command>`: the arguments, their checks and limits, and the handling
of every expected failure (one `error:` line, exit code 1). The commands are in pipeline/commands.py."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline import ROOT
from pipeline.commands import (
    cmd_bundle,
    cmd_check,
    cmd_download,
    cmd_extract,
    cmd_fetch,
    cmd_publish,
    cmd_site,
    cmd_validate,
    cmd_verify_raw,
)
from pipeline.common.errors import PipelineError, escape


def _number(kind: type, low: float, high: float, *, strict_low: bool = False):
    """An argparse type: a finite number of `kind` in [low, high] (above low if strict_low)."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, not {text!r}"
            ) from None
        if value != value or value < low or value > high or (strict_low and value == low):
            bound = f"above {low:g}" if strict_low else f"at least {low:g}"
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise argparse.ArgumentTypeError(
                f"must be {bound} and at most {high:g}, not {shown!r}"
                if isinstance(high, float)
                else f"must be {bound} and at most {high}, not {shown!r}"
            )
        return value

    return convert


SECONDS = _number(float, 0, 86_400, strict_low=True)


def _text(limit: int):
    """An argparse type: printable text (no control characters, no undecodable bytes) up to `limit`."""

    def convert(text: str) -> str:
        if not text.isprintable() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            raise argparse.ArgumentTypeError(f"must be printable text, not {text[:40]!r}")
        if not text.strip() or len(text) > limit:
            raise argparse.ArgumentTypeError(f"must be 1 to {limit} characters")
        return text

    return convert


def _network_options(command, *, deadline: float, cap: str) -> None:
    """The limits of a network command (docs/build.md, "Limits"), with their defaults (pipeline/common/defaults.py)."""
    from pipeline.common.defaults import Limits

    options = [  # (option, type, default, metavar, help)
        (
            "--timeout",
            SECONDS,
            Limits.timeout,
            "S",
            "seconds to wait for a connection, and for the next bytes of "
            f"an answer, before the attempt fails (default {Limits.timeout:g})",
        ),
        (
            "--request-deadline",
            SECONDS,
            Limits.request_deadline,
            "S",
            "each request (one attempt) must finish "
            f"within S seconds, however slowly the server sends (default {Limits.request_deadline:g})",
        ),
        (
            "--deadline",
            SECONDS,
            deadline,
            "S",
            f"the whole command, retries included, must finish within S seconds (default {deadline:g})",
        ),
        (
            "--retries",
            _number(int, 0, 100),
            Limits.retries,
            "N",
            "retries on 429, 5xx, refused or broken "
            f"connections and timeouts, each announced on stderr (default {Limits.retries})",
        ),
        (
            "--backoff",
            _number(float, 0, 3600),
            Limits.backoff,
            "S",
            f"wait before the first retry, doubled each time (default {Limits.backoff:g})",
        ),
        (
            "--max-wait",
            SECONDS,
            Limits.max_wait,
            "S",
            "the longest wait before a retry; a server asking for more "
            f"(Retry-After) makes the command fail at once (default {Limits.max_wait:g})",
        ),
        (
            "--min-speed",
            _number(int, 0, 10**9),
            Limits.min_speed,
            "B",
            "an answer slower than B bytes per second "
            "over any --timeout window fails, and so do headers not complete within twice --timeout (default "
            f"{Limits.min_speed:,}; 0: no minimum)",
        ),
    ]
    for option, kind, default, metavar, text in options:
        command.add_argument(option, type=kind, default=default, metavar=metavar, help=text)
    command.add_argument(
        "--contact", type=_text(200), help="contact (URL or e-mail) for the User-Agent, as Wikimedia asks"
    )
    command.epilog = cap


def _anomaly(text: str):
    from pipeline.stations.commands import parse_anomaly

    return parse_anomaly(text)


def _lock_option(command) -> None:
    from pipeline.common.defaults import LOCK_WAIT

    command.add_argument(
        "--wait",
        type=_number(float, 0, 86_400),
        default=LOCK_WAIT,
        metavar="S",
        help="if another build (or download) holds this folder's lock, wait at most S seconds for it "
        f"(default {LOCK_WAIT:g})",
    )


COMMANDS = {
    "verify-raw": (cmd_verify_raw, "check the raw snapshot against its manifest (sha256)"),
    "extract": (cmd_extract, "extract the tables from raw/ and print their row counts and inferences"),
    "validate": (cmd_validate, "extract, then validate every table against its schema"),
    "publish": (cmd_publish, "extract, validate, cross-check and publish processed/ and datapackage.json"),
    "check": (cmd_check, "run the SQL cross-checks on the published database"),
    "bundle": (cmd_bundle, "write the release bundle (dist/kz-election-2023-VERSION.zip) from the published release"),
    "site": (cmd_site, "build the static data portal (site/) from the published release"),
    "fetch": (cmd_fetch, "download the article (latest or --revision) from the MediaWiki API into raw/"),
    "download": (cmd_download, "download the published files, verified against datapackage.json"),
    "synth": (
        "pipeline.stations.commands:cmd_synth",
        "write SYNTHETIC polling-station returns (Parquet) that sum to the published regional totals",
    ),
    "stations": (
        "pipeline.stations.commands:cmd_stations",
        "validate, cross-check and test a folder of polling-station returns (Parquet)",
    ),
}


class _Version(argparse.Action):
    """--version, reading pyproject.toml only when asked (a damaged one breaks no other command)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from pipeline.release.history import version

        try:
            text = f"kz-election-2023 {version()}"
        except PipelineError as error:
            parser.exit(1, f"error: {error.describe()}\n")
        print(text)
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with code 1, like every other expected failure."""

    def error(self, message: str):
        """A usage error: the usage line, then one `error:` line, exit code 1."""
        self.print_usage(sys.stderr)
        self.exit(1, f"error: [{self.prog.split()[-1]}] {message}\n")


def _parser() -> argparse.ArgumentParser:
    from pipeline.common import defaults
    from pipeline.common.defaults import DEFAULT_API, TITLE

    parser = _Parser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="folder holding raw/ (input), processed/, docs/ and datapackage.json (outputs) and build/ (scratch); "
        "default: the repository. schemas/ and errata/ are reviewed with the code and always the repository's",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print the package's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command", parser_class=_Parser)
    commands = {}
    for name, (handler, help_text) in COMMANDS.items():
        commands[name] = sub.add_parser(name, help=help_text, description=help_text)
        commands[name].set_defaults(handler=handler)
    commands["synth"].add_argument(
        "--stations",
        type=_number(int, 20, 5_000_000),
        required=True,
        metavar="N",
        help="how many stations (at least one per region)",
    )
    commands["synth"].add_argument(
        "--seed",
        type=_number(int, 0, 2**32 - 1),
        default=0,
        metavar="S",
        help="seed of the random draws (default 0): the same seed gives the same files",
    )
    commands["synth"].add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write (new, or an earlier synthetic set; outside the repository, or in its build/)",
    )
    commands["synth"].add_argument(
        "--anomaly",
        type=_anomaly,
        action="append",
        metavar="KIND=FRACTION",
        help="plant an anomaly at a fraction (at most 0.2) of the stations with at least 100 valid votes "
        "(repeatable): whole_pct, two_decimal_pct, stuffing, digits, final_favours_leader, or "
        "commission_two_decimal_pct (at most 0.5 of the commissions with 10,000 valid votes), e.g. whole_pct=0.02",
    )
    commands["synth"].add_argument(
        "--preliminary",
        action="store_true",
        help="add preliminary protocols: the final ones but at 2 %% of the stations, which a clerical "
        "correction of 1 to 10 votes sets apart",
    )
    commands["stations"].add_argument("folder", type=Path, metavar="DIR", help="folder of station Parquet files")
    commands["stations"].add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the results and the turnout x leader histogram as JSON (outside the repository, or in "
        "its build/)",
    )
    for name in ("synth", "stations"):
        commands[name].add_argument(
            "--release",
            type=Path,
            metavar="DIR",
            help="the published release to compare with (default: ROOT/processed)",
        )
    commands["build"] = sub.add_parser("build", help="same as publish", description="same as publish")
    commands["build"].set_defaults(handler=cmd_publish)
    commands["fetch"].add_argument(
        "--revision", type=_number(int, 1, 2**53 - 1), metavar="ID", help="a revision id to pin (default: the latest)"
    )
    commands["fetch"].add_argument(
        "--dry-run",
        action="store_true",
        help="download and validate the revision and say what it would change in the published release, "
        "leaving raw/ as it is",
    )
    commands["fetch"].add_argument(
        "--api-url", default=DEFAULT_API, type=_text(2000), help=f"MediaWiki API endpoint (default {DEFAULT_API})"
    )
    commands["fetch"].add_argument(
        "--title",
        default=TITLE,
        type=_text(255),
        help=f"the article's title; the API's answer must name it (default {TITLE!r})",
    )
    commands["download"].add_argument(
        "--base-url",
        required=True,
        type=_text(2000),
        help="URL of the folder holding datapackage.json (e.g. a raw-file URL of this repository)",
    )
    commands["download"].add_argument(
        "--dest",
        type=Path,
        default=Path("kz-election-2023-data"),
        help="folder to download into (default ./kz-election-2023-data)",
    )
    _network_options(
        commands["fetch"],
        deadline=defaults.FETCH_DEADLINE,
        cap=f"The API's answer is read up to {defaults.MAX_API_BYTES // 2**20} MiB; a longer one is refused.",
    )
    _network_options(
        commands["download"],
        deadline=defaults.DOWNLOAD_DEADLINE,
        cap=f"datapackage.json is read up to {defaults.MAX_DESCRIPTOR_BYTES // 2**20} MiB and each file up "
        "to the bytes its descriptor declares; more is refused. Nothing in DEST changes unless "
        "every file is verified.",
    )
    for name in ("publish", "build"):
        commands[name].add_argument(
            "--accept-changes",
            type=_text(200),
            metavar="WHO",
            help="publish a new snapshot's changed values after review, recording who accepted them and when "
            "(releases/changes/VERSION.yaml); without it, publish stops and prints them",
        )
    for name in ("publish", "build", "check", "bundle", "site", "fetch", "download"):
        _lock_option(commands[name])
    return parser


class _Escaped:
    """A text stream that writes control characters and direction overrides as escapes (a name or value
    read from a file may hold an ANSI escape sequence); lines, tabs and carriage returns pass."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(escape(text, lines=True))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _robust_streams() -> tuple:
    """Print what cannot be encoded (PYTHONIOENCODING=ascii) as escapes instead of failing; a closed
    stdout or stderr (`>&-`) writes nowhere instead of failing; every character a terminal would act on
    is escaped. Returns the streams to restore."""
    saved = (sys.stdout, sys.stderr)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the whole process)
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
        setattr(sys, name, stream if isinstance(stream, _Escaped) else _Escaped(stream))
    return saved


def main(argv: list[str] | None = None) -> int:
    """Run one command; every expected failure ends in one `error:` line and exit code 1."""
    saved = _robust_streams()
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved  # as they were, for callers in the same process (tests)


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command != "download":  # the download client does not touch a build's folder
            from pipeline.release.swap import recover

            if recover(args.root):
                print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        handler = args.handler
        if isinstance(handler, str):  # imported when used: --help stays fast
            module, _, name = handler.partition(":")
            handler = getattr(__import__(module, fromlist=[name]), name)
        return handler(args)
    except PipelineError as error:
        print(f"error: {error.describe()}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `python -m pipeline extract | head -1`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"error: [{args.command}] interrupted.", file=sys.stderr)
        return 130
    except OSError as error:  # the machine, not the data: a full disk, a read-only or missing folder
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: [{args.command}] {error.strerror or error}{where}.", file=sys.stderr)
        return 1
