"""Operator commands. ``python -m parley.admin create-tenant --name Acme --sender-email hi@acme.example``.

Targets a deployed table with TABLE_NAME (and AWS credentials/region), or the running local stack
(``make run``) by itself: with ``--local [STATE_FILE]``, or when TABLE_NAME is unset and
``.local/stack.json`` exists — the emulator's URL and the table name are read from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from parley import admin_ask, admin_directory, admin_dlq, admin_keys, admin_replicators, admin_tallies
from parley.domain import auth
from parley.models.domain import TENANT_SETTINGS

LOCAL_STATE = Path(".local/stack.json")
LOCAL_REGION = "us-east-1"  # the local stack's region (parley_local.templates.REGION)


class TargetError(Exception):
    """Neither a deployed table nor a running local stack to talk to."""


def target_local(state_file: Path) -> dict:
    """Point this process at the local stack described by ``state_file`` (written by ``python -m parley_local``):
    the emulator's endpoint, dummy credentials, the region and every resource name. Returns the state."""
    try:
        state = json.loads(state_file.read_text())
        endpoint, resources = state["emulator"], state["resources"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TargetError(f"{state_file} is not a local stack state file ({err}); start the stack with `make run`") from None
    where = urlsplit(endpoint)
    try:
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 80), timeout=2).close()
    except OSError:
        raise TargetError(f"the local stack of {state_file} is not running (its emulator {endpoint} does not answer); `make run`") from None
    os.environ.update(
        {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_REGION": state.get("region", LOCAL_REGION), "AWS_DEFAULT_REGION": state.get("region", LOCAL_REGION)}
    )  # fmt: skip
    os.environ.update({k: str(v) for k, v in resources.items()})
    os.environ.pop("AWS_PROFILE", None)
    from parley.dal import aws
    from parley.settings import get_settings

    get_settings.cache_clear()
    aws.reset()
    return state


def choose_target(local: str | None) -> dict | None:
    """The local stack's state when targeting it (explicitly, or by default without TABLE_NAME); None: the
    environment's table. Raises ``TargetError`` when there is nothing to target."""
    if local is None and not os.environ.get("TABLE_NAME"):
        if not LOCAL_STATE.exists():
            raise TargetError(
                "TABLE_NAME is not set and there is no .local/stack.json here: set TABLE_NAME (with AWS credentials), "
                "or start the local stack (`make run`) and run this from the repository root, or pass --local STATE_FILE"
            )
        local = str(LOCAL_STATE)
    if local is None:
        return None
    state = target_local(Path(local))
    print(f"targeting the local stack of {local}: {state.get('api', '')} (table {os.environ['TABLE_NAME']})", file=sys.stderr)
    return state


def register_local_key(state: dict, tenant_id: str, api_key: str, name: str = "") -> None:
    """Tell the running local stack about a key this command made, so its console can show and use it
    (only the key's SHA-256 is stored; the stack cannot know it otherwise). Best effort: a warning if not."""
    from urllib.request import Request, urlopen

    api = str(state.get("api", ""))
    if not api.startswith("http://"):
        print(f"warning: the local console was not told about the new key (no http API URL in the state file: {api!r})", file=sys.stderr)
        return
    body = json.dumps({"tenantId": tenant_id, "apiKey": api_key, "name": name, "createdBy": "python -m parley.admin"}).encode()
    request = Request(f"{api}/_local/keys", data=body, method="POST", headers={"Content-Type": "application/json"})  # noqa: S310 (http only)
    try:
        with urlopen(request, timeout=5) as out:  # noqa: S310 (the local stack's own http URL)
            out.read()
    except OSError as err:
        print(f"warning: the local console was not told about the new key ({err})", file=sys.stderr)


def create_tenant(local: dict | None, name: str, sender_email: str, sender_name: str = "", tenant_id: str | None = None) -> tuple:
    """A new tenant and its first API key (``create-tenant``; the smoke test makes its throwaway tenant with it).
    ``local``: the local stack's state when targeting it (``choose_target``), else None."""
    tenant, api_key = auth.create_tenant(name, sender_email, sender_name, tenant_id)
    if local is not None:
        # The emulator's SES refuses a sender whose identity is unknown: make this one sendable locally.
        # (Deployed, verifying a sender domain is DNS work for the operator: see docs/operations.md.)
        from parley.dal import identities

        identities.create_domain_identity(sender_email.rsplit("@", 1)[1])
        register_local_key(local, tenant.id, api_key, name)
    return tenant, api_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parley.admin", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--local", nargs="?", const=str(LOCAL_STATE), default=None, metavar="STATE_FILE",
        help="target the running local stack described by STATE_FILE (default .local/stack.json); "
        "the default when TABLE_NAME is unset and .local/stack.json exists",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-tenant", help="create a tenant and print its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--sender-email", required=True, help="the From address of the tenant's email")
    create.add_argument("--sender-name", default="")
    create.add_argument("--tenant-id", default=None, help="default: a new UUID")
    admin_keys.register(sub)  # create-key, list-keys, revoke-key, rotate-key, disable-/enable-tenant, backfill-key-index
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
    phones = sub.add_parser(
        "migrate-phones",
        help="re-key opt-ins, candidate numbers and SMS messages stored before phone numbers were E.164 (offline: one Scan)",
    )
    phones.add_argument("--tenant-id", default=None, help="default: every tenant")
    phones.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    due = sub.add_parser(
        "backfill-due-index",
        help="put records scheduled before the due index (GSI9) existed on it, so GET /scheduled lists them "
        "(once after that deploy; without --tenant-id one Scan finds the tenants)",
    )
    due.add_argument("--tenant-id", default=None, help="default: every tenant")
    due.add_argument("--dry-run", action="store_true", help="count what would be indexed, write nothing")
    admin_dlq.register(sub)
    admin_tallies.register(sub)
    admin_directory.register(sub)
    admin_replicators.register(sub)
    admin_ask.register(sub)
    args = parser.parse_args(argv)
    try:
        local = choose_target(args.local)
    except TargetError as err:
        print(str(err), file=sys.stderr)
        return 2
    if hasattr(args, "run"):  # a command registered by its own module (admin_keys, admin_dlq, admin_tallies, admin_directory)
        return args.run(args, local)

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

    if args.command == "migrate-phones":
        from parley.dal import phone_migration

        if args.tenant_id:
            from parley.dal import tenants

            if tenants.get(args.tenant_id) is None:
                print(f"no tenant {args.tenant_id}", file=sys.stderr)
                return 1
        print(json.dumps(phone_migration.migrate(args.tenant_id, dry_run=args.dry_run)))
        return 0

    if args.command == "backfill-due-index":
        from parley.dal import due_backfill, tenants

        if args.tenant_id and tenants.get(args.tenant_id) is None:
            print(f"no tenant {args.tenant_id}", file=sys.stderr)
            return 1
        print(json.dumps(due_backfill.backfill(args.tenant_id, dry_run=args.dry_run)))
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
        if "@" not in args.sender_email:
            print("--sender-email must be an email address", file=sys.stderr)
            return 2
        tenant, api_key = create_tenant(local, args.name, args.sender_email, args.sender_name, args.tenant_id)
        print(json.dumps({"tenantId": tenant.id, "apiKey": api_key}))
        return 0
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
