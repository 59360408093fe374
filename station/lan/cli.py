"""``station pairing list|approve|deny|revoke``: pairing from a technician's shell.

Works whether or not the station is running: it changes the pairing database under
its own lock (:mod:`station.lan.db`), never the store's, so a running ``station
serve`` sees the decision at the collector's next request.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from typing import Any

from station.core import config, messages
from station.lan.db import LanDB
from station.lan.pairing import Pairing


def add_pairing_parser(sub: Any) -> None:
    """Add ``pairing`` to the ``station`` command's subparsers."""
    pairing = sub.add_parser("pairing", help="entry PCs: list, approve, deny or revoke")
    verbs = pairing.add_subparsers(dest="pairing_command", required=True)
    listing = verbs.add_parser("list", help="pending requests and paired entry PCs")
    listing.add_argument("--all", action="store_true", help="also revoked entry PCs")
    listing.add_argument("--json", action="store_true", help="print JSON")
    for verb in ("approve", "deny"):
        decide = verbs.add_parser(verb, help=f"{verb} a pending pairing request")
        decide.add_argument("id", help="the request id, or the 6-digit code on screen")
    revoke = verbs.add_parser("revoke", help="withdraw a paired entry PC's token")
    revoke.add_argument("id", help="the entry PC's id (pc-...)")
    pairing.set_defaults(handler=cmd_pairing)


def cmd_pairing(args: argparse.Namespace) -> int:
    """Run one ``station pairing`` verb."""
    if args.data_dir:
        os.environ["STATION_DATA_DIR"] = str(args.data_dir)
    pairing = Pairing(LanDB.for_data_dir(config.load(args.config).data_dir))
    verb = args.pairing_command
    if verb == "list":
        return _list(pairing, args)
    if verb == "approve":
        done = pairing.approve(args.id)
        _say(args, "lan.pairing_approved", name=done.name, code=done.code)
    elif verb == "deny":
        _say(args, "lan.pairing_denied", name=pairing.deny(args.id).name)
    else:
        _say(args, "lan.collector_revoked", name=pairing.revoke(args.id).name)
    return 0


def without_lan(cfg: config.Config) -> config.Config:
    """``cfg`` for a command that runs and exits: no listener, no announcement."""
    return dataclasses.replace(cfg, lan=dataclasses.replace(cfg.lan, enabled=False))


def _list(pairing: Pairing, args: argparse.Namespace) -> int:
    pending = [
        {**r.public(), "expires_in": round(pairing.expires_in(r))} for r in pairing.pending()
    ]
    collectors = [c.public() for c in pairing.collectors(include_revoked=args.all)]
    if args.json:
        print(json.dumps({"pending": pending, "collectors": collectors}, ensure_ascii=False))
        return 0
    _say(args, "cli.pairing_pending", count=len(pending))
    for request in pending:
        minutes = max(1, round(request["expires_in"] / 60))
        _say(args, "cli.pairing_request", minutes=minutes, **request)
    _say(args, "cli.pairing_collectors", count=len(collectors))
    for collector in collectors:
        revoked = ""
        if collector["revoked_at"]:
            revoked = messages.render(
                "cli.pairing_revoked_at", args.lang, at=collector["revoked_at"]
            )
        _say(args, "cli.pairing_collector", revoked=revoked, **collector)
    return 0


def _say(args: argparse.Namespace, key: str, **values: Any) -> None:
    print(messages.render(key, args.lang, **values))
