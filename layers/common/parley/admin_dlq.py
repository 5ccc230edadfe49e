"""``python -m parley.admin dlq list|show|redrive|discard``: the dead-letter queues, for the operator.

    dlq list [--queue NAME] [--limit N]          what waits, one JSON line per message, with why it failed
    dlq show ID... [--queue NAME]                everything about those messages (body, attributes, reason, state)
    dlq redrive (ID... | --all) --queue NAME     send them back to their queue, then delete them from the DLQ
    dlq discard (ID... | --all) --queue NAME     delete them

The queues are named ``send``, ``ses-events``, ``inbound-mail``, ``provider-events``, ``directory-events``, ``purge``,
``multicast`` and ``tally``; their URLs come from ``SEND_DLQ_URL``, ``SES_EVENTS_DLQ_URL``, … (the stack's outputs; the local stack's
state file has them). What each does and when to use it: docs/operations.md "Dead letters"; the logic: ``parley.domain.dead_letters``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NAMES = ("send", "ses-events", "inbound-mail", "provider-events", "directory-events", "purge", "multicast", "text-callback", "tally")


def register(sub: Any) -> None:
    """Add the ``dlq`` command to ``python -m parley.admin``'s subcommands."""
    dlq = sub.add_parser("dlq", help="the dead-letter queues: list, show, redrive, discard (docs/operations.md)")
    dlq.set_defaults(run=run)
    commands = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = commands.add_parser("list", help="what waits in the DLQs, with why each message failed (one JSON line each)")
    listing.add_argument("--queue", choices=NAMES, default=None, help="default: every DLQ whose URL is set")
    listing.add_argument("--limit", type=int, default=100, help="messages per queue (default 100, at most 1000)")
    show = commands.add_parser("show", help="everything about some messages: body, attributes, reason, their message's state")
    show.add_argument("ids", nargs="+", metavar="ID", help="SQS MessageIds, as dlq list prints them")
    show.add_argument("--queue", choices=NAMES, default=None, help="default: look in every DLQ whose URL is set")
    for name, text in (
        ("redrive", "send messages back to the queue they came from, then delete them from the DLQ (a send goes out at most once)"),
        ("discard", "delete messages from the DLQ (a dead-lettered send stays FAILED)"),
    ):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("ids", nargs="*", metavar="ID", help="SQS MessageIds, as dlq list prints them")
        cmd.add_argument("--all", action="store_true", help="every message of the queue (up to 1000 a run)")
        cmd.add_argument("--queue", choices=NAMES, required=True)


def _print(obj: Any) -> None:
    print(json.dumps(obj, default=str))


def run(args: argparse.Namespace, local: dict | None = None) -> int:
    """(``local``: the local stack's state, when it is the target; the DLQ URLs come from the environment.)"""
    from parley.domain import dead_letters

    try:
        if args.dlq_command == "list":
            names = [args.queue] if args.queue else [q.name for q in dead_letters.configured()]
            if not names:
                print("no dead-letter queue URL is set (SEND_DLQ_URL, …: see docs/operations.md)", file=sys.stderr)
                return 2
            limit = max(1, min(args.limit, dead_letters.MAX_SCAN))
            for name in names:
                depth = dead_letters.depth(name)
                print(f"{name}: {depth['visible']} waiting, {depth['in_flight']} being read", file=sys.stderr)
                for letter in dead_letters.letters(name, limit=limit):
                    _print(letter.summary())
            return 0
        if args.dlq_command == "show":
            names = [args.queue] if args.queue else [q.name for q in dead_letters.configured()]
            found = dead_letters.show(args.ids, names)
            for letter in found:
                _print(letter.detail())
            missing = [i for i in args.ids if i not in {le.id for le in found}]
            for i in missing:
                print(f"{i}: not in {', '.join(names) or 'any configured DLQ'}", file=sys.stderr)
            return 1 if missing else 0
        if bool(args.ids) == bool(args.all):
            print(f"dlq {args.dlq_command}: give message ids or --all (not both)", file=sys.stderr)
            return 2
        act = dead_letters.redrive if args.dlq_command == "redrive" else dead_letters.discard
        done = act(args.queue, None if args.all else args.ids)
    except dead_letters.DeadLetterError as err:
        print(str(err), file=sys.stderr)
        return 2
    for d in done:
        _print(d.as_dict())
    return 0 if all(d.result in ("redriven", "discarded") for d in done) else 1
