"""The key commands of ``python -m parley.admin``: create-key, list-keys, revoke-key, rotate-key, disable-tenant,
enable-tenant, backfill-key-index (``domain.api_keys``; docs/architecture.md §5.1).

Each prints its result as JSON on stdout (``list-keys``: a table, or JSON with ``--json``) and says in a
sentence on stderr what happens next, e.g. how soon a revoked key is refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta
from typing import Any

from parley import clock
from parley.errors import ParleyError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CACHE_DEFAULT = 30  # the root template's AuthorizerCacheSeconds default


def duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``24h``, ``7d``, ``1h30m``, or plain seconds (``3600``)."""
    value = text.strip().lower()
    if value.isdigit():
        return timedelta(seconds=int(value))
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 15m, 24h, 7d, 1h30m, or seconds)")
    return timedelta(seconds=sum(int(n) * _UNIT[u] for n, u in parts))


def instant(text: str) -> datetime:
    """An ISO-8601 time with a zone (``2026-01-31T00:00:00Z``)."""
    try:
        return clock.parse_iso(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time with a zone (e.g. 2026-01-31T00:00:00Z)") from None


def register(sub: Any) -> None:
    """Add the key commands to ``python -m parley.admin``'s subparsers; each sets ``run(args, local_state)``."""
    create = sub.add_parser("create-key", help="issue another API key for an existing tenant (optionally expiring)")
    create.add_argument("--tenant-id", required=True)
    create.add_argument("--name", default="", help="a label to tell the key apart in list-keys")
    _expiry_options(create, "the key")
    create.set_defaults(run=_create)

    listing = sub.add_parser("list-keys", help="a tenant's API keys: id, prefix, state, created, last used, expiry, rotation")
    listing.add_argument("--tenant-id", required=True)
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(run=_list)

    revoke = sub.add_parser("revoke-key", help="revoke an API key (refused within the authorizer cache time, at most 60 s)")
    revoke.add_argument("--tenant-id", required=True)
    revoke.add_argument("key", metavar="KEY", help="the key's id (list-keys), its prefix (prl_xxxxxx) or the key itself")
    revoke.set_defaults(run=_revoke)

    rotate = sub.add_parser("rotate-key", help="issue a new key; the old one keeps working for --overlap, and not after")
    rotate.add_argument("--tenant-id", required=True)
    rotate.add_argument("key", metavar="KEY", help="the key's id (list-keys), its prefix (prl_xxxxxx) or the key itself")
    rotate.add_argument("--overlap", type=duration, default=None, help="how long the old key keeps working (default 24h; 0 = stop now)")
    rotate.add_argument("--name", default=None, help="the new key's label (default: the old key's)")
    _expiry_options(rotate, "the new key")
    rotate.set_defaults(run=_rotate)

    for command, disabled, text in (
        ("disable-tenant", True, "refuse every API key of a tenant, and its queued and scheduled sends (its keys and data are kept)"),
        ("enable-tenant", False, "accept a disabled tenant's keys again"),
    ):
        toggle = sub.add_parser(command, help=text)
        toggle.add_argument("--tenant-id", required=True)
        toggle.set_defaults(run=_toggle, disabled=disabled)

    backfill = sub.add_parser(
        "backfill-key-index",
        help="put keys made before list-keys existed on the tenant key index (once after that deploy; one Scan)",
    )
    backfill.add_argument("--dry-run", action="store_true", help="count the keys that would be indexed, write nothing")
    backfill.set_defaults(run=_backfill)


def _expiry_options(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--expires-in", type=duration, default=None, metavar="DURATION", help=f"{what} expires after this (e.g. 90d)")
    group.add_argument("--expires-at", type=instant, default=None, metavar="TIME", help=f"{what} expires at this ISO-8601 time")


def _expiry(args: argparse.Namespace, now: datetime) -> datetime | None:
    return now + args.expires_in if args.expires_in is not None else args.expires_at


def _cache_time(local: dict | None) -> str:
    """How long the gateway may still accept a revoked key: the local stack's AuthorizerCacheSeconds, else the
    deployed stack's parameter (unknown here)."""
    if local is not None:
        seconds = (local.get("parameters") or {}).get("AuthorizerCacheSeconds", CACHE_DEFAULT)
        return f"{seconds} s (this local stack's AuthorizerCacheSeconds)"
    return f"the stack's AuthorizerCacheSeconds ({CACHE_DEFAULT} s unless deployed otherwise; at most 60 s)"


def _fail(err: ParleyError) -> int:
    print(err.message, file=sys.stderr)
    return 1


def describe(key: Any, now: datetime) -> dict[str, Any]:
    """A key record as the commands print it (camelCase, like create-tenant's output)."""

    def at(value: datetime | None) -> str | None:
        return clock.iso(value) if value is not None else None

    return {
        "keyId": key.id,
        "prefix": key.key_prefix or None,
        "name": key.name,
        "state": key.state(now),
        "createdAt": at(key.created_at),
        "lastUsedAt": at(key.last_used_at),
        "expiresAt": at(key.expires_at),
        "revokedAt": at(key.revoked_at),
        "rotatedFrom": key.rotated_from or None,
        "rotatedTo": key.rotated_to or None,
    }


def _create(args: argparse.Namespace, local: dict | None) -> int:
    from parley.domain import api_keys

    now = clock.now()
    try:
        key, plain = api_keys.issue(args.tenant_id, name=args.name, expires_at=_expiry(args, now), now=now)
    except ParleyError as err:
        return _fail(err)
    _tell_local(local, args.tenant_id, plain, args.name)
    print(json.dumps({"tenantId": args.tenant_id, "apiKey": plain, "keyId": key.id, "expiresAt": describe(key, now)["expiresAt"]}))
    if key.expires_at is not None:
        print(f"key {key.id} works until {clock.iso(key.expires_at)} and is refused from then on", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, local: dict | None) -> int:
    from parley.domain import api_keys

    try:
        found = api_keys.listing(args.tenant_id)
    except ParleyError as err:
        return _fail(err)
    now = clock.now()
    rows = [describe(k, now) for k in found]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(table(rows))
    if any(r["prefix"] is None for r in rows):
        print("(no prefix: the key was stored without one; its id is the start of its SHA-256)", file=sys.stderr)
    from parley.domain.auth import LAST_USED_EVERY

    print(
        f"LAST USED is written by the authorizer to within {LAST_USED_EVERY.seconds // 60} min; '-' = no use recorded. "
        "Keys made before the key index are listed after `backfill-key-index`.",
        file=sys.stderr,
    )
    return 0


def table(rows: list[dict[str, Any]]) -> str:
    """The keys as a plain text table (times in UTC to the second)."""

    def when(value: str | None) -> str:
        return value[:19].replace("T", " ") + "Z" if value else "-"

    def rotation(row: dict[str, Any]) -> str:
        parts = [f"from {row['rotatedFrom']}"] if row["rotatedFrom"] else []
        parts += [f"to {row['rotatedTo']}"] if row["rotatedTo"] else []
        return ", ".join(parts) or "-"

    header = ("KEY ID", "PREFIX", "NAME", "STATE", "CREATED", "LAST USED", "EXPIRES", "ROTATED")
    lines = [
        (r["keyId"], r["prefix"] or "(none)", r["name"] or "-", r["state"], when(r["createdAt"]), when(r["lastUsedAt"]),
         when(r["expiresAt"]), rotation(r))
        for r in rows
    ]  # fmt: skip
    if not lines:
        return "(no keys)"
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=False)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in (header, *lines))


def _revoke(args: argparse.Namespace, local: dict | None) -> int:
    from parley.domain import api_keys

    now = clock.now()
    try:
        key, revoked_now = api_keys.revoke(args.tenant_id, args.key, now=now)
    except ParleyError as err:
        return _fail(err)
    print(json.dumps({"tenantId": args.tenant_id, **describe(key, now)}))
    if revoked_now:
        print(f"key {key.id} revoked: the gateway refuses it within {_cache_time(local)}", file=sys.stderr)
    else:
        print(f"key {key.id} was revoked already; nothing changed", file=sys.stderr)
    return 0


def _rotate(args: argparse.Namespace, local: dict | None) -> int:
    from parley.domain import api_keys

    now = clock.now()
    overlap = api_keys.DEFAULT_OVERLAP if args.overlap is None else args.overlap
    try:
        old, new, plain = api_keys.rotate(args.tenant_id, args.key, overlap=overlap, name=args.name, expires_at=_expiry(args, now), now=now)
    except ParleyError as err:
        return _fail(err)
    _tell_local(local, args.tenant_id, plain, new.name)
    print(json.dumps({"tenantId": args.tenant_id, "apiKey": plain, "keyId": new.id, "old": describe(old, now)}))
    ends = describe(old, now)["expiresAt"]
    print(f"new key {new.id} issued; the old key {old.id} works until {ends} and is refused from then on", file=sys.stderr)
    return 0


def _toggle(args: argparse.Namespace, local: dict | None) -> int:
    from parley.domain import api_keys

    try:
        tenant = api_keys.set_tenant_disabled(args.tenant_id, args.disabled)
    except ParleyError as err:
        return _fail(err)
    disabled_at = clock.iso(tenant.disabled_at) if tenant.disabled_at else None
    print(json.dumps({"tenantId": tenant.id, "disabled": disabled_at is not None, "disabledAt": disabled_at}))
    if args.disabled:
        print(f"tenant {tenant.id} disabled: the gateway refuses its keys within {_cache_time(local)}", file=sys.stderr)
    else:
        print(f"tenant {tenant.id} enabled: its keys that are not revoked or expired work again", file=sys.stderr)
    return 0


def _backfill(args: argparse.Namespace, local: dict | None) -> int:
    from parley.dal import api_keys

    print(json.dumps(api_keys.index_unlisted(dry_run=args.dry_run)))
    return 0


def _tell_local(local: dict | None, tenant_id: str, plain: str, name: str) -> None:
    if local is not None:
        from parley.admin import register_local_key

        register_local_key(local, tenant_id, plain, name)
