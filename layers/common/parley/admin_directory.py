"""``python -m parley.admin import-directory --tenant-id T FILE``: replicate the courier directory (organizations,
users, individuals, individual-groups) from JSON lines (``parley.domain.directory``; docs/courier.md "Directory").

Each line is one resource, ``{"type": "users", "id": "…", "last-sync-time": "…", "attributes": {…}}`` (the seed's
dasherized attributes). A line is applied only when it is newer than what is stored (its ``last-sync-time``), so the
command is idempotent and lines may come in any order. ``-`` reads standard input. Prints each invalid line as a
JSON line on stderr and a JSON summary on stdout; the exit status is 1 when a line was invalid (the others are
applied), 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    """Add ``import-directory`` to ``python -m parley.admin``'s subcommands."""
    cmd = sub.add_parser(
        "import-directory",
        help="replicate courier organizations, users, individuals and individual-groups from JSON lines "
        "(idempotent; an older last-sync-time never overwrites a newer one)",
    )
    cmd.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
    cmd.add_argument("file", metavar="FILE", help="JSON lines, one resource each; - for standard input")
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace, local: dict | None = None) -> int:
    from parley.domain import directory

    def report(problem: dict[str, Any]) -> None:
        print(json.dumps(problem), file=sys.stderr, flush=True)

    try:
        if args.file == "-":
            summary = directory.import_lines(args.tenant_id, sys.stdin, report=report)
        else:
            with open(args.file, encoding="utf-8") as lines:
                summary = directory.import_lines(args.tenant_id, lines, report=report)
    except (OSError, UnicodeDecodeError) as err:
        print(f"cannot read {args.file}: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary.as_dict()))
    return 1 if summary.invalid else 0
