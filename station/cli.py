"""The ``station`` command: serve, demo, scan, config check, reindex, doctor, provision.

Only this module configures logging. A known problem (a :class:`StationError`) prints
one clear line in the chosen language and exits with its code; anything else is a bug
and prints its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from station import __version__
from station.app.orphans import requeue_orphans
from station.app.safe_mode import safe_mode_web
from station.app.station import Station, book_template, reindex_data
from station.capture.drivers.base import CaptureContext
from station.core import config, config_write, messages, sigpipe
from station.core.diskspace import is_disk_full
from station.core.errors import (
    ConfigError,
    DeviceError,
    DiskFullError,
    StationError,
    StoreError,
    UsageError,
)
from station.core.fsutil import write_atomic
from station.core.models import BYTES_PER_KB, OVER_BUDGET, BookRef
from station.lan.cli import add_pairing_parser, without_lan
from station.processing.batch import console as batch_console
from station.processing.batch import run as batch
from station.system import doctor, provision
from station.system.sdnotify import Heartbeat
from station.ui.server import serve, serve_safe

log = logging.getLogger(__name__)


Handler = Callable[[argparse.Namespace], int]
#: A SANE device name: "<backend>:<device>"; "sim:..." is the simulator's own.
_SANE_NAME = re.compile(r"^(?!sim:)[A-Za-z0-9_]+:")


def _say(args: argparse.Namespace, key: str, **values: object) -> None:
    print(messages.render(key, args.lang, **values))


def _say_error(args: argparse.Namespace, error: StationError) -> None:
    print(error.message(args.lang), file=sys.stderr)


def _load_config(args: argparse.Namespace) -> config.Config:
    if args.data_dir:
        os.environ["STATION_DATA_DIR"] = str(args.data_dir)
    return config.load(args.config)


def cmd_config_check(args: argparse.Namespace) -> int:
    path = args.file or args.config
    loaded = config.load(path)
    _say(args, "cli.config_ok", source=path or "(defaults)")
    if args.verbose:
        print(loaded)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    ref = BookRef.parse(args.book)
    with Station(without_lan(cfg)) as station:
        book = station.open_book(ref, args.profile, args.first_entry, args.expected)
        options: dict[str, object] = {}
        if args.simulate:
            kind = "simulated"
            if args.seed is not None:
                options["seed"] = args.seed
            if args.jam_after is not None:
                options["jam_after"] = args.jam_after
        else:
            kind = _scan_kind(args.device, cfg.capture.device)
        if args.device and kind != "simulated":
            options["device"] = args.device
        # The book goes as context: the simulator renders it, a real device ignores it.
        context = CaptureContext(profile=book.profile, first_entry=book.next_entry)
        driver = station.make_driver(kind, context, **options)
        device_error: DeviceError | None = None
        try:
            station.capture(driver, book, args.pages)
        except DeviceError as exc:
            # Pages fed before the fault are saved; they are processed and reported.
            device_error = exc
        finally:
            idle = station.wait_idle(args.timeout)
            station.release(driver)
        if not idle:
            return _not_idle(args, station)
        status = _report(args, station)
        if device_error is not None:
            print(device_error.message(args.lang), file=sys.stderr)
            return device_error.exit_code
        return status


def _scan_kind(device: str | None, configured: str) -> str:
    """The driver kind for ``scan --device``: a SANE name ("test:0", "epson2:libusb:001:004")
    picks the SANE driver when the simulator or no device is configured; otherwise the
    configured kind owns the id."""
    if device and configured in ("", "simulated") and _SANE_NAME.match(device):
        return "sane"
    return configured


def _report(args: argparse.Namespace, station: Station) -> int:
    published = over = review = failures = 0
    for result in station.results:
        if result.waits_for_space:  # processed again once space is back
            continue
        if result.error is not None:
            failures += 1
            _say(
                args,
                "cli.failed",
                capture=result.capture.id,
                detail=result.error.message(args.lang),
            )
            continue
        for entry in result.entries:
            if entry.current is None:
                continue
            published += 1
            over += OVER_BUDGET in entry.flags
            path = station.data_dir / "published" / entry.current.file
            kb = f"{entry.current.bytes / BYTES_PER_KB:.1f}"
            _say(args, "cli.wrote", path=path, kb=kb, encoding=entry.current.encoding)
        pending = [e for e in result.entries if e.current is None]
        if pending:
            review += len(pending)
            flags = ", ".join(result.page.flags if result.page else [])
            _say(args, "cli.review", capture=result.capture.id, count=len(pending), flags=flags)
    pages = len(station.results)
    _say(args, "cli.summary", pages=pages, entries=published, over=over, review=review)
    return 1 if failures else 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Process whatever is left in the queue (after a power cut, say), then exit."""
    with Station(without_lan(_load_config(args))) as station:
        kept = _requeue_orphans(args, station) if args.orphans else 0
        if not station.wait_idle(args.timeout):
            return _not_idle(args, station)
        return _report(args, station) or (1 if kept else 0)


def _requeue_orphans(args: argparse.Namespace, station: Station) -> int:
    """Queue the orphans again, one line each; return how many could not be."""
    outcomes = requeue_orphans(station)
    for outcome in outcomes:
        if outcome.error is None:
            _say(args, "cli.orphan_queued", path=outcome.path, capture=outcome.capture_id)
        else:
            _say(
                args, "cli.orphan_kept", path=outcome.path, detail=outcome.error.message(args.lang)
            )
    if not outcomes:
        _say(args, "cli.no_orphans")
    return sum(outcome.error is not None for outcome in outcomes)


def _not_idle(args: argparse.Namespace, station: Station) -> int:
    """Processing did not finish: the disk is full (one line, what to do) or time ran out."""
    waiting = station.waiting_for_space()
    if waiting:
        storage = station.storage()
        _say(args, "cli.waits_for_space", pages=waiting, free_mb=storage.free_mb,
             reserve_mb=storage.reserve_mb)  # fmt: skip
    else:
        _say(args, "cli.timeout")
    return 75  # EX_TEMPFAIL: run `station resume` later


def cmd_doctor(args: argparse.Namespace) -> int:
    """List the devices the station sees and what it would use; say what to fix."""
    if args.data_dir:
        os.environ["STATION_DATA_DIR"] = str(args.data_dir)
    report = doctor.examine(args.config)
    print(report.to_json(args.lang) if args.json else report.render(args.lang))
    return report.exit_code


def cmd_reindex(args: argparse.Namespace) -> int:
    report = reindex_data(_load_config(args))
    for problem in report.problems:
        print(problem, file=sys.stderr)
    _say(
        args,
        "cli.reindexed",
        books=report.books,
        entries=report.entries,
        files=report.files,
        problems=len(report.problems),
    )
    return 1 if report.problems else 0


def cmd_process(args: argparse.Namespace) -> int:
    """Cut existing page images into entry PDFs in a folder (see station.processing.batch.run)."""
    if not args.verbose:
        # One line per image and per file is printed; per-entry log lines would bury them.
        logging.getLogger().setLevel(logging.WARNING)
    cfg = _load_config(args)
    job = batch.make_job(
        cfg,
        args.images,
        args.book,
        args.profile,
        args.first_entry,
        args.out,
        args.budget_kb,
        args.first_page,
        args.template,
        args.template_image,
    )
    report = batch.run(
        job,
        args.report,
        lambda image, rows: batch_console.print_progress(job, image, rows, args.lang),
    )
    _say(args, "batch.summary", **batch_console.summary_values(report))
    for entry in report.over_budget:
        print(
            messages.render(
                "batch.over_budget",
                args.lang,
                file=entry.file,
                bytes=entry.bytes,
                budget=report.budget_bytes,
            ),
            file=sys.stderr,
        )
    return report.exit_code


def cmd_template_export(args: argparse.Namespace) -> int:
    """Write a book's template (``station process --template`` takes the file)."""
    cfg = _load_config(args)
    data = book_template(cfg, args.book)
    if data is None:
        raise UsageError("cli.template_none", book=args.book)
    write_atomic(args.out, json.dumps(data, indent=1).encode("utf-8"))
    _say(args, "cli.template_exported", book=args.book, count=len(data["regions"]),
         kind=data["kind"], path=str(args.out))  # fmt: skip
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the station; with a broken configuration, serve safe mode until it is fixed."""
    if args.port:
        os.environ["STATION__WEB__PORT"] = str(args.port)
    try:
        cfg = _load_config(args)
    except ConfigError as exc:
        _say_error(args, exc)
        web = safe_mode_web(config_write.target_path(args.config))
        with Heartbeat.for_web(web.host, web.port):
            serve_safe(config_write.target_path(args.config), exc, web, lambda: _restart(args))
        return 0
    if args.command == "demo":
        # The demo runs on the simulated scanner, which no installed station chooses.
        cfg = config.replace_key(cfg, "capture.device", "simulated")
    _say(args, "cli.serving", host=cfg.web.host, port=cfg.web.port)
    # Under systemd: READY once the web server answers, then watchdog pings while it does.
    with Heartbeat.for_web(cfg.web.host, cfg.web.port):
        return serve(cfg, demo=args.command == "demo")


def _restart(args: argparse.Namespace) -> NoReturn:
    """Start this command afresh in this process (same PID, so systemd keeps it)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "station.cli", *args.argv])


def cmd_provision(args: argparse.Namespace) -> int:
    """Export this station's settings as a provisioning file, or apply one."""
    if args.data_dir:
        os.environ["STATION_DATA_DIR"] = str(args.data_dir)
    return provision.command(args)


def _page_count(text: str) -> int | None:
    """--pages: a whole number of pages, 0 meaning 'until the feeder is empty' (None)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value or None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description="ledger-station")
    parser.add_argument("--version", action="version", version=f"ledger-station {__version__}")
    parser.add_argument("--config", type=Path, help="configuration file (TOML)")
    parser.add_argument("--data-dir", type=Path, help="data folder (overrides the config)")
    parser.add_argument("--lang", choices=messages.LANGUAGES, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    for name in ("serve", "demo"):
        serve = sub.add_parser(name, help="run the station and its web page")
        serve.add_argument("--port", type=int)
        serve.set_defaults(handler=cmd_serve)

    scan = sub.add_parser("scan", help="capture pages into a book")
    scan.add_argument("--book", required=True, help="book, e.g. KS/2007/01")
    source = scan.add_mutually_exclusive_group()
    source.add_argument("--simulate", action="store_true", help="use the simulated scanner")
    scan.add_argument("--device", help="device id, e.g. test:0")
    scan.add_argument(
        "--pages",
        type=_page_count,
        default=1,
        help="pages to capture (0: until the feeder is empty)",
    )
    scan.add_argument("--profile", help="layout profile for a new book")
    scan.add_argument("--first-entry", type=int, help="first entry number of a new book")
    scan.add_argument("--expected", type=int, help="expected number of entries of a new book")
    scan.add_argument("--seed", type=int, help="seed of the simulated pages")
    scan.add_argument("--jam-after", type=int, help="simulated scanner: jam after this many pages")
    scan.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for processing")
    scan.set_defaults(handler=cmd_scan)

    cfg = sub.add_parser("config", help="configuration tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    check = cfg_sub.add_parser("check", help="validate a configuration file")
    check.add_argument("file", nargs="?", type=Path)
    check.set_defaults(handler=cmd_config_check)

    resume = sub.add_parser("resume", help="finish processing queued pages, then exit")
    resume.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    resume.add_argument(
        "--orphans",
        action="store_true",
        help="first queue again the raw captures a power cut left without a job (orphans/)",
    )
    resume.set_defaults(handler=cmd_resume)

    process = sub.add_parser(
        "process",
        help="cut existing page images into entry PDFs",
        epilog="exit status: 0 all written within budget; 4 some file over its budget "
        "(kept, flagged for review, named); otherwise the first error's code",
    )
    process.add_argument("images", nargs="+", type=Path, help="image files or folders")
    process.add_argument("--book", required=True, help="book, e.g. KS/2007/01")
    process.add_argument("--profile", help="layout profile (default: processing.default_profile)")
    process.add_argument("--first-entry", type=int, required=True, help="number of the first entry")
    process.add_argument("--first-page", type=int, default=1, help="page number of the first page")
    process.add_argument("--out", type=Path, required=True, help="output folder for the PDFs")
    process.add_argument("--report", type=Path, help="write a JSON report to this file")
    process.add_argument("--budget-kb", type=int, help="largest PDF size in KB (1 KB = 1000 bytes)")
    process.add_argument(
        "--template",
        type=Path,
        help="cut the pages by this book template: a station's exported template, or a "
        "confirmed page (truth JSON or a --report, polygons in the image's stored pixels)",
    )
    process.add_argument(
        "--template-image", type=Path, help="the confirmed page's image (default: beside FILE)"
    )
    process.set_defaults(handler=cmd_process)

    template = sub.add_parser("template", help="book templates (the last accepted page's cuts)")
    template_sub = template.add_subparsers(dest="template_command", required=True)
    export = template_sub.add_parser("export", help="write a book's template to a JSON file")
    export.add_argument("--book", required=True, help="book, e.g. KS/2007/01")
    export.add_argument("out", type=Path, help="the JSON file to write")
    export.set_defaults(handler=cmd_template_export)

    reindex = sub.add_parser("reindex", help="rebuild the index from the PDF files")
    reindex.set_defaults(handler=cmd_reindex)

    doctor = sub.add_parser("doctor", help="list devices, check the setup, say what to fix")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument("--lang", choices=messages.LANGUAGES, default=argparse.SUPPRESS)
    doctor.set_defaults(handler=cmd_doctor)

    prov = sub.add_parser(
        "provision",
        help="export settings to a provisioning file, or apply one",
        description="station provision export FILE | station provision [apply] FILE | "
        "station provision apply --usb",
    )
    prov.add_argument("words", nargs="*", metavar="[export|apply] FILE")
    prov.add_argument("--usb", action="store_true", help="apply the file found on a USB stick")
    prov.add_argument("--name", help="apply: this station's name")
    prov.add_argument("--office-code", help="apply: the office (commune) code")
    prov.add_argument("--office-name", help="apply: the office (commune) name")
    prov.set_defaults(handler=cmd_provision)

    add_pairing_parser(sub)
    return parser


def _system_error(exc: OSError) -> StationError:
    """The one line said for an OSError that reached the command."""
    where = exc.filename or ""
    if is_disk_full(exc):
        return DiskFullError("cli.disk_full")
    return StoreError("cli.system_error", path=where, detail=exc.strerror or str(exc))


def _language(args: argparse.Namespace) -> str:
    if args.lang:
        return str(args.lang)
    env = os.environ.get("STATION__STATION__LANGUAGE", "")
    return env if env in messages.LANGUAGES else "vi"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``station`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.lang = _language(args)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    sigpipe.install()  # before any scanner library can reset it (station.core.sigpipe)
    try:
        return handler(args)
    except StationError as exc:
        log.debug("station error", exc_info=True)
        print(exc.message(args.lang), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the disk or the system, not a bug: one line, what to do
        log.debug("system error", exc_info=True)
        error = _system_error(exc)
        print(error.message(args.lang), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
