"""Operator commands. ``python -m parley.admin create-tenant --name Acme --sender-email hi@acme.example``.

Needs TABLE_NAME (and AWS credentials/region, or AWS_ENDPOINT_URL for the local emulator).
"""

from __future__ import annotations

import argparse
import json
import sys

from parley.domain import auth
from parley.models.domain import TENANT_SETTINGS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parley.admin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-tenant", help="create a tenant and print its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--sender-email", required=True, help="the From address of the tenant's email")
    create.add_argument("--sender-name", default="")
    create.add_argument("--tenant-id", default=None, help="default: a new UUID")
    key = sub.add_parser("create-key", help="issue another API key for an existing tenant")
    key.add_argument("--tenant-id", required=True)
    conf = sub.add_parser("configure-tenant", help="change tenant settings, e.g. --set sms_provider=twilio --set quiet_hours=true")
    conf.add_argument("--tenant-id", required=True)
    conf.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="one of: " + ", ".join(TENANT_SETTINGS))
    cand = sub.add_parser("upsert-candidate", help="create or update a candidate of the directory (by id, else by email/phone)")
    cand.add_argument("--tenant-id", required=True)
    cand.add_argument("--candidate-id", default=None, help="default: the candidate owning --email/--phone, else a new UUID")
    for opt in ("email", "phone", "firstname", "lastname", "timezone", "headline", "location", "profile-url"):
        cand.add_argument(f"--{opt}", default=None)
    user = sub.add_parser("upsert-user", help="create or rename a user (recruiter, by x-ph-userid); prints its integer id")
    user.add_argument("--tenant-id", required=True)
    user.add_argument("--user-id", required=True)
    user.add_argument("--firstname", default=None)
    user.add_argument("--lastname", default=None)
    args = parser.parse_args(argv)

    if args.command in ("upsert-candidate", "upsert-user"):
        from parley.domain import users
        from parley.errors import ParleyError

        try:
            if args.command == "upsert-candidate":
                profile = {k.replace("-", "_"): getattr(args, k.replace("-", "_")) for k in users.CANDIDATE_PROFILE_FIELDS}
                out = users.upsert_candidate(args.tenant_id, candidate_id=args.candidate_id, **profile)
            else:
                out = users.upsert_user(args.tenant_id, args.user_id, firstname=args.firstname, lastname=args.lastname)
        except ParleyError as err:
            print(err.message, file=sys.stderr)
            return 1
        print(json.dumps(out))
        return 0

    if args.command == "configure-tenant":
        from parley.errors import ParleyError

        malformed = [item for item in args.set if "=" not in item]
        if malformed:
            print(f"--set takes NAME=VALUE, got: {', '.join(malformed)}", file=sys.stderr)
            return 2
        try:
            tenant = auth.configure_tenant(args.tenant_id, **dict(item.split("=", 1) for item in args.set))
        except ParleyError as err:
            print(err.message, file=sys.stderr)
            return 1
        print(tenant.model_dump_json())
        return 0

    if args.command == "create-tenant":
        tenant, api_key = auth.create_tenant(args.name, args.sender_email, args.sender_name, args.tenant_id)
        print(json.dumps({"tenantId": tenant.id, "apiKey": api_key}))
        return 0
    api_key = auth.issue_key(args.tenant_id)
    if api_key is None:
        print(f"no tenant {args.tenant_id}", file=sys.stderr)
        return 1
    print(json.dumps({"tenantId": args.tenant_id, "apiKey": api_key}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
