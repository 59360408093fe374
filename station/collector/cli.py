"""The ``station-collect`` command: pair, run, once, status.

Only this module configures logging: a rotating log file in the state folder keeps
everything; the console shows the messages meant for people (in ``--lang``, Vietnamese
by default) and warnings. A known problem prints one line and exits with its code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from station import __version__
from station.collector.console import USER_LOGGER, Console
from station.collector.errors import StateError, StoppedError
from station.collector.pairing import PairRequest, default_name, pair
from station.collector.paths import default_state_dir
from station.collector.runner import Collector, Options
from station.collector.state import State
from station.collector.status import dest_filter, report, show
from station.core import messages
from station.core.errors import StationError

log = logging.getLogger(__name__)

LOG_FILE = "collect.log"
LANG_ENV = "LEDGER_COLLECT_LANG"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="station-collect",
        description="Thu tệp PDF từ trạm số hóa về máy nhập liệu / "
        "Collect the PDF files of ledger stations onto this entry PC",
    )
    parser.add_argument("--version", action="version", version=f"ledger-station {__version__}")
    parser.add_argument("--state-dir", type=Path, help="state folder (pairings, cursors, log)")
    parser.add_argument(
        "--lang", choices=messages.LANGUAGES, default=None, help="vi (default) or en"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="more detail in log and console"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pair", help="pair this PC with a station (approved on the station)")
    p.add_argument("--station", help="host:port, IP address or station name; default: discover")
    p.add_argument("--name", default=default_name(), help="this PC's name shown on the station")
    p.add_argument("--office", help="only stations of this office code")
    p.add_argument("--timeout", type=float, default=30.0, help="network timeout, seconds")
    p.add_argument("--discover-seconds", type=float, default=5.0, help="how long to look")
    p.add_argument("--wait", type=float, default=600.0, help="how long to wait for approval")
    p.set_defaults(handler=cmd_pair)

    for name, helptext in (("run", "collect continuously"), ("once", "collect once, then exit")):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("--dest", type=Path, required=True, help="folder that mirrors the files")
        c.add_argument("--office", help="only stations of this office code")
        c.add_argument("--timeout", type=float, default=30.0, help="network timeout, seconds")
        c.add_argument("--no-browse", action="store_true", help="use last known addresses only")
        c.add_argument(
            "--parallel", type=_parallel, default=4, help="downloads in flight per station (1-16)"
        )
        if name == "run":
            c.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
        else:
            c.add_argument("--discover-seconds", type=float, default=5.0, help="how long to look")
            c.add_argument("--retries", type=int, default=2, help="retries per station")
        c.set_defaults(handler=cmd_collect)

    s = sub.add_parser("status", help="paired stations, cursors, counts, errors")
    s.add_argument("--dest", help="only this destination folder")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(handler=cmd_status)
    return parser


def cmd_pair(args: argparse.Namespace, console: Console) -> int:
    request = PairRequest(
        name=args.name,
        station=args.station,
        office=args.office,
        timeout=args.timeout,
        discover_seconds=args.discover_seconds,
        wait_seconds=args.wait,
    )
    with State(args.state_dir) as state:
        pair(state, request, console)
    return 0


def cmd_collect(args: argparse.Namespace, console: Console) -> int:
    dest: Path = args.dest
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError("collect.dest", path=str(dest), detail=str(exc)) from exc
    options = Options(
        state_dir=args.state_dir,
        dest=dest.resolve(),
        office=args.office,
        timeout=args.timeout,
        browse=not args.no_browse,
        parallel=args.parallel,
    )
    if args.command == "run":
        options.interval = args.interval
        return Collector(options, console).run()
    options.discover_seconds = args.discover_seconds
    options.retries = args.retries
    return Collector(options, console).once()


def _parallel(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError("must be between 1 and 16")
    return value


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    with State(args.state_dir) as state:
        stations = report(state, dest_filter(args.dest))
    if args.json:
        print(json.dumps({"state_dir": str(args.state_dir), "stations": stations}, indent=2))
    else:
        show(stations, console)
    return 0


class _ConsoleFilter(logging.Filter):
    """People's messages always; other records only from warnings up (or -v)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.threshold = logging.INFO if verbose else logging.WARNING

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == USER_LOGGER:
            return True
        return record.levelno >= self.threshold and record.name.startswith("station")


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.name == USER_LOGGER:
            return record.getMessage()
        return f"{record.levelname}: {record.getMessage()}"


@contextmanager
def _logging(state_dir: Path, verbose: bool) -> Iterator[None]:
    """Console and rotating file handlers for the command's lifetime."""
    root = logging.getLogger()
    saved_level = root.level
    handlers: list[logging.Handler] = []
    if sys.stdout is not None:  # None under pythonw.exe (started at logon without a window)
        console = logging.StreamHandler(sys.stdout)
        console.addFilter(_ConsoleFilter(verbose))
        console.setFormatter(_ConsoleFormatter())
        handlers.append(console)
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_handler = logging.handlers.RotatingFileHandler(
            state_dir / LOG_FILE, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        print(f"log file: {exc}", file=sys.stderr)  # print() ignores a missing stderr
    else:
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
        )
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved_level)


@contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Stop on Ctrl+C and on SIGTERM (systemd, kill) alike, for the command's lifetime.

    Ctrl+C is set up here too, not left to Python's default: a process started with
    SIGINT ignored (a background job of a script, some service managers) would
    otherwise never stop on it.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    for name, action in (("SIGTERM", handler), ("SIGINT", signal.default_int_handler)):
        number = getattr(signal, name, None)
        if number is None:
            continue
        # Not the main thread (embedded use): leave signals alone.
        with contextlib.suppress(ValueError):
            previous[number] = signal.signal(number, action)
    try:
        yield
    finally:
        for number, action in previous.items():
            signal.signal(number, action)


def _language(args: argparse.Namespace) -> str:
    if args.lang:
        return str(args.lang)
    env = os.environ.get(LANG_ENV, "")
    return env if env in messages.LANGUAGES else "vi"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``station-collect`` console script."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A Windows console redirected to a file may not encode Vietnamese: never crash on it.
        sys.stdout.reconfigure(errors="replace")
    args = _build_parser().parse_args(argv)
    args.state_dir = args.state_dir or default_state_dir()
    console = Console(_language(args))
    with _logging(args.state_dir, args.verbose), _interrupt_on_sigterm():
        log.debug("station-collect %s %s", __version__, args.command)
        try:
            code: int = args.handler(args, console)
            return code
        except StoppedError:
            console("collect.stopped")
            return 130
        except KeyboardInterrupt:
            console("collect.stopped")
            return 0 if args.command == "run" else 130
        except StationError as exc:
            log.debug("collect error", exc_info=True)
            console.warn(exc.key, **exc.values)
            return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
