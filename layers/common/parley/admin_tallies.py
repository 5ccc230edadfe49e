"""``python -m parley.admin rebuild-tallies --tenant-id T [--list LIST ...] [--dry-run]``: count a tenant's lists
and make their tallies equal to the counts (``parley.domain.tally_rebuild``; docs/operations.md "Rebuilding tallies").

Prints one JSON line per tally item that differed (what it held, what was counted), then a JSON summary: the lists,
the tally items checked, how many were fixed (with ``--dry-run``: would be; nothing is written), and the minutes
left alone because their items kept changing (exit status 1 then: run it again).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from parley.errors import ParleyError


def register(sub: Any) -> None:
    """Add ``rebuild-tallies`` to ``python -m parley.admin``'s subcommands."""
    cmd = sub.add_parser(
        "rebuild-tallies",
        help="count a tenant's lists (Query) and correct their tallies; safe while the stream consumer runs (docs/operations.md)",
    )
    cmd.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
    cmd.add_argument(
        "--list", dest="lists", action="append", default=[], metavar="LIST",
        help="only this list (repeatable): email, sms, records, status:<STATUS>, address:<address>, candidate:<id>, "
        "optin:<address>, forward:<email>; default: every list of the tenant",
    )  # fmt: skip
    cmd.add_argument("--dry-run", action="store_true", help="print what differs, write nothing")
    cmd.add_argument(
        "--settle", type=float, default=5.0, metavar="SECONDS",
        help="how long a minute whose count differs from its tally must stay unchanged before it is corrected; more than "
        "the stream's delay (TallyFunction's IteratorAge). Default 5",
    )  # fmt: skip
    cmd.add_argument("--rounds", type=int, default=5, help="how often such a minute is read again before it is left alone (default 5)")
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace, local: dict | None = None) -> int:
    from parley.domain import tally_rebuild

    if args.settle < 0 or args.rounds < 1:
        print("--settle must be >= 0 and --rounds >= 1", file=sys.stderr)
        return 2
    try:
        summary = tally_rebuild.rebuild(
            args.tenant_id, specs=args.lists, dry_run=args.dry_run, settle=args.settle, rounds=args.rounds,
            report=lambda line: print(json.dumps(line), flush=True),
        )  # fmt: skip
    except ParleyError as err:
        print(err.message, file=sys.stderr)
        return 2 if err.status == 400 else 1
    print(json.dumps(summary))
    if summary["unsettled"]:
        print("some minutes kept changing and were left as they are: run it again (or with a longer --settle)", file=sys.stderr)
        return 1
    return 0
