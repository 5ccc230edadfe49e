"""``python -m parley.admin replicator create|list|delete|poll``: the courier replicators (docs/courier.md "Replicators").

    replicator create --tenant-id T --entity-type users --url URL [--every-minutes 5] [--secret-name NAME | --token-stdin]
    replicator list --tenant-id T
    replicator delete --tenant-id T ID
    replicator poll --tenant-id T ID          one poll now, here (what the schedule's run does), its summary printed

``create`` stores the replicator and puts its ``rate()`` schedule in the replicators' schedule group
(``REPLICATOR_SCHEDULE_GROUP_NAME``), invoking the poller (``REPLICATOR_FUNCTION_ARN``) with ``SCHEDULER_ROLE_ARN``
(the stack's outputs; the local stack's state file has them). The first run is due at once. ``--token-stdin`` reads a
bearer token for the upstream from standard input and keeps it in a new secret ``parley/replicators/<tenant>/<id>``;
``--secret-name`` names an existing JSON secret ``{"token": …}``. Prints JSON; exit status 1 when refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    cmd = sub.add_parser("replicator", help="courier replicators (directory pollers of an upstream JSON:API): create, list, delete, poll")
    cmd.set_defaults(run=run)
    commands = cmd.add_subparsers(dest="replicator_command", required=True)
    create = commands.add_parser("create", help="a replicator and its rate() schedule (first run at once)")
    create.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
    create.add_argument("--entity-type", required=True, choices=("organizations", "users", "individuals", "individual-groups"))
    create.add_argument("--url", required=True, help="the upstream's JSON:API collection, e.g. https://platform.example/v1/users/")
    create.add_argument("--every-minutes", type=int, default=5, help="the schedule's rate (1..1440, default 5)")
    auth = create.add_mutually_exclusive_group()
    auth.add_argument("--secret-name", help='an existing Secrets Manager JSON secret {"token": …} (sent as a bearer token)')
    auth.add_argument("--token-stdin", action="store_true", help="read a bearer token from standard input, keep it in a new secret")
    listing = commands.add_parser("list", help="the tenant's replicators, one JSON line each")
    listing.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
    for name, text in (("delete", "delete a replicator and its schedule"), ("poll", "poll now (what a scheduled run does)")):
        one = commands.add_parser(name, help=text)
        one.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
        one.add_argument("id", metavar="ID")


def _describe(rep: Any) -> dict[str, Any]:
    return {"id": rep.replicator_id, **rep.attributes().model_dump(by_alias=True), "entity-type": rep.entity_type, "url": rep.url,
            "every-minutes": rep.every_minutes, "schedule": rep.schedule_name, "secret-name": rep.secret_name,
            "last-error": rep.last_error}  # fmt: skip


def run(args: argparse.Namespace, local: dict | None = None) -> int:
    from parley.domain import replicators
    from parley.errors import ParleyError

    try:
        if args.replicator_command == "create":
            token = sys.stdin.read().strip() if args.token_stdin else None
            if args.token_stdin and not token:
                print("--token-stdin: no token on standard input", file=sys.stderr)
                return 1
            rep = replicators.create(args.tenant_id, args.entity_type, args.url, every_minutes=args.every_minutes,
                                     secret_name=args.secret_name, token=token)  # fmt: skip
            print(json.dumps(_describe(rep)))
        elif args.replicator_command == "list":
            for rep in replicators.all_of(args.tenant_id):
                print(json.dumps(_describe(rep)))
        elif args.replicator_command == "delete":
            print(json.dumps({"deleted": replicators.delete(args.tenant_id, args.id).replicator_id}))
        else:
            print(json.dumps(replicators.poll(args.tenant_id, args.id).as_dict()))
    except ParleyError as err:
        print(err.message, file=sys.stderr)
        return 1
    except replicators.ReplicationError as err:
        print(f"poll failed (last-poll-time kept): {err}", file=sys.stderr)
        return 1
    return 0
