"""Courier replicators (issue 15; docs/courier.md "Replicators"): per tenant, a poller that pulls one entity type of the
directory from an upstream JSON:API service on an EventBridge Scheduler ``rate()`` schedule and applies every resource
through ``directory.apply`` — the same last-sync-time-ordered write as ``import-directory`` and directory events.

A poll (``poll``):

1. ``GET <url>`` (``Accept: application/vnd.api+json``; ``Authorization: Bearer <token>`` when the replicator names a
   secret), with ``filter[since]=<last-poll-time>`` once a poll has succeeded (the first pulls everything);
2. each page's ``data[]`` applied in order: a resource of the replicator's type, its order time its
   ``meta.last-sync-time``, else its attributes' ``last-sync-time`` (users, individual-groups), else their
   ``last-modified-time`` (organizations, individuals); ``meta.deleted: true`` deletes it (a tombstone);
3. the next page: ``links.next`` (relative or absolute, on the upstream's own scheme, host and port), else, when the
   page's ``meta`` has ``page[total]``/``page[offset]`` (the seed's paging), the same URL at the next offset; at most
   ``MAX_PAGES`` pages a poll;
4. only when every page was read and applied, ``last-poll-time`` becomes the time the poll *started* (so what changed
   during the poll is pulled again next time: harmless, the writes are ordered). A transport error, an HTTP error,
   a page that is not a JSON:API document, or too many pages fail the poll: ``last-poll-time`` stays, the error is
   kept (``last_error``), and the next run starts from the same time. A resource that is itself invalid (unknown
   attribute, wrong type, no order time) is skipped and counted (``invalid``), as ``import-directory`` skips a line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import replicators as store
from parley.dal import secrets, tenants
from parley.domain import directory
from parley.domain.ids import new_id
from parley.errors import BadRequest, Conflict, NotFound
from parley.models.courier_directory import ATTRIBUTES
from parley.models.courier_replicators import Replicator

logger = Logger(child=True)

MAX_PER_TENANT = 100  # also the list's page[limit]: GET /v1/replicators/ answers them all
MAX_PAGES = 1_000  # a poll reads at most this many upstream pages
MAX_PAGE_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 20
MIN_MINUTES, MAX_MINUTES = 1, 1440
SECRET_PREFIX = "parley/replicators/"  # noqa: S105 (a secret name prefix, not a secret)


class ReplicationError(Exception):
    """The poll cannot go on (upstream unreachable, an HTTP error, not a JSON:API page): nothing more is applied and
    ``last-poll-time`` stays."""


Fetch = Callable[[str, dict[str, str]], Any]


@dataclass
class PollSummary:
    pages: int = 0
    read: int = 0
    written: int = 0
    unchanged: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)
    since: str | None = None
    poll_time: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"pages": self.pages, "read": self.read, "written": self.written, "unchanged": self.unchanged,
                "invalid": len(self.invalid), "since": self.since, "last_poll_time": self.poll_time}  # fmt: skip


# ───────────── the operator's side ─────────────
def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"url: must be an http(s) URL of the upstream's JSON:API collection, not {url!r}")
    if parts.fragment:
        raise BadRequest("url: no #fragment")
    return url


def create(
    tenant_id: str, entity_type: str, url: str, *, every_minutes: int = 5, secret_name: str | None = None, token: str | None = None
) -> Replicator:
    """A replicator for one entity type of the tenant's directory, and its schedule (first run: now). ``token``: put
    in a new secret ``parley/replicators/<tenant>/<id>`` (``{"token": …}``); ``secret_name``: an existing one."""
    if tenants.get(tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    if entity_type not in ATTRIBUTES:
        raise BadRequest(f"entity type: one of {', '.join(ATTRIBUTES)}, not {entity_type!r}")
    if not MIN_MINUTES <= every_minutes <= MAX_MINUTES:
        raise BadRequest(f"every: {MIN_MINUTES} to {MAX_MINUTES} minutes")
    if token is not None and secret_name is not None:
        raise BadRequest("give a token or a secret name, not both")
    check_url(url)
    if len(store.all_of(tenant_id)) >= MAX_PER_TENANT:
        raise Conflict(f"the tenant has {MAX_PER_TENANT} replicators already")
    replicator_id = new_id()
    if token is not None:
        secret_name = f"{SECRET_PREFIX}{tenant_id}/{replicator_id}"
        secrets.put_tenant_secret(secret_name, {"token": token})
    now = clock.now()
    rep = Replicator(tenant_id=tenant_id, replicator_id=replicator_id, entity_type=entity_type, url=url, secret_name=secret_name,
                     every_minutes=every_minutes, created_time=clock.iso(now),
                     schedule_name=store.schedule_name(tenant_id, replicator_id))  # fmt: skip
    store.create(rep)
    try:
        store.create_schedule(rep, start=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    except Exception:
        store.delete(tenant_id, replicator_id)  # no replicator without its schedule
        raise
    return rep


def delete(tenant_id: str, replicator_id: str) -> Replicator:
    rep = store.get(tenant_id, replicator_id)
    if rep is None:
        raise NotFound(f"no replicator {replicator_id!r}", code="not-found")
    store.delete_schedule(rep)
    store.delete(tenant_id, replicator_id)
    return rep


# ───────────── the admin API ─────────────
def get(tenant_id: str, replicator_id: str) -> Replicator:
    rep = store.get(tenant_id, replicator_id)
    if rep is None:
        raise NotFound(f"no replicator {replicator_id!r}", code="not-found")
    return rep


def all_of(tenant_id: str) -> list[Replicator]:
    return store.all_of(tenant_id)


# ───────────── the poller ─────────────
def poll(tenant_id: str, replicator_id: str, *, fetch: Fetch | None = None) -> PollSummary:
    """One run of the replicator (module doc). ``ReplicationError`` (after keeping it) when the poll failed."""
    rep = store.get(tenant_id, replicator_id)
    if rep is None:
        raise NotFound(f"no replicator {replicator_id!r} of tenant {tenant_id!r}")
    started = clock.iso(clock.now())
    summary = PollSummary(since=rep.last_poll_time, poll_time=started)
    try:
        _pull(rep, summary, fetch or fetch_json)
    except ReplicationError as err:
        store.record_failure(tenant_id, replicator_id, attempt_time=started, error=str(err))
        raise
    store.advance(tenant_id, replicator_id, poll_time=started, attempt_time=started)
    return summary


def _pull(rep: Replicator, summary: PollSummary, fetch: Fetch) -> None:
    headers = {"Accept": "application/vnd.api+json"}
    if rep.secret_name:
        try:
            token = secrets.named_secret(rep.secret_name).get("token")
        except LookupError as err:
            raise ReplicationError(str(err)) from err
        if not isinstance(token, str) or not token:
            raise ReplicationError(f"secret {rep.secret_name}: no token")
        headers["Authorization"] = f"Bearer {token}"
    url: str | None = first_url(rep.url, rep.last_poll_time)
    while url:
        if summary.pages >= MAX_PAGES:
            raise ReplicationError(f"more than {MAX_PAGES} pages in one poll")
        summary.pages += 1
        doc = fetch(url, headers)
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise ReplicationError(f"{url}: not a JSON:API collection document (no data[])")
        for n, resource in enumerate(data):
            summary.read += 1
            try:
                change = to_change(rep.entity_type, resource)
            except BadRequest as err:
                problem = {"page": summary.pages, "index": n, "id": resource.get("id") if isinstance(resource, dict) else None,
                           "error": err.message}  # fmt: skip
                summary.invalid.append(problem)
                logger.warning("replicator: invalid upstream resource skipped", extra={"replicator_id": rep.replicator_id, **problem})
                continue
            if directory.apply(rep.tenant_id, change):
                summary.written += 1
            else:
                summary.unchanged += 1
        url = next_url(rep.url, url, doc, len(data))


def first_url(url: str, since: str | None) -> str:
    if since is None:
        return url
    return _with_query(url, {"filter[since]": since})


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params] + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def next_url(base: str, current: str, doc: dict[str, Any], count: int) -> str | None:
    links = doc.get("links")
    nxt = links.get("next") if isinstance(links, dict) else None
    if isinstance(nxt, dict):  # a JSON:API link object
        nxt = nxt.get("href")
    if isinstance(nxt, str) and nxt:
        resolved = urljoin(current, nxt)
        want, got = urlsplit(base), urlsplit(resolved)
        if (got.scheme, got.hostname, got.port) != (want.scheme, want.hostname, want.port):
            raise ReplicationError(f"links.next {nxt!r} leaves the upstream {want.scheme}://{want.netloc}")
        return resolved
    meta = doc.get("meta")
    if isinstance(meta, dict) and count > 0:
        total, offset = meta.get("page[total]"), meta.get("page[offset]")
        if isinstance(total, int) and isinstance(offset, int) and offset + count < total:
            return _with_query(current, {"page[offset]": str(offset + count)})
    return None


def to_change(entity_type: str, resource: Any) -> directory.Change:
    """An upstream JSON:API resource → the directory change it means (``BadRequest`` when it is not one)."""
    if not isinstance(resource, dict):
        raise BadRequest("a resource must be a JSON object")
    if resource.get("type") != entity_type:
        raise BadRequest(f"type: {resource.get('type')!r}, this replicator pulls {entity_type}")
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    attributes = resource.get("attributes") if isinstance(resource.get("attributes"), dict) else {}
    line: dict[str, Any] = {"type": entity_type, "id": resource.get("id"), "attributes": attributes}
    sync_time = meta.get("last-sync-time")
    if sync_time is None and "last_sync_time" not in ATTRIBUTES[entity_type].model_fields:
        sync_time = attributes.get("last-modified-time")
    if sync_time is not None:
        line["last-sync-time"] = sync_time
    if meta.get("deleted") is True:
        line["deleted"] = True
    return directory.parse_record(line)


class _NoRedirects(HTTPRedirectHandler):
    """A redirect is an HTTP error of the poll: it could lead the token (and the poller) anywhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = build_opener(_NoRedirects)


def fetch_json(url: str, headers: dict[str, str]) -> Any:
    """GET one upstream page (``ReplicationError`` for anything but a 2xx with a JSON body; redirects not followed)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ReplicationError(f"{url}: not an http(s) URL")
    try:
        with _OPENER.open(Request(url, headers=headers), timeout=TIMEOUT_SECONDS) as out:  # noqa: S310 (http(s) only, checked)
            raw = out.read(MAX_PAGE_BYTES + 1)
    except HTTPError as err:
        raise ReplicationError(f"{url}: HTTP {err.code}") from err
    except (URLError, OSError) as err:
        raise ReplicationError(f"{url}: {err}") from err
    if len(raw) > MAX_PAGE_BYTES:
        raise ReplicationError(f"{url}: a page larger than {MAX_PAGE_BYTES} bytes")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise ReplicationError(f"{url}: not JSON") from err
