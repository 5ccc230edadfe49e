"""JSON:API for the courier families (seed 003), once: query parameters, documents, errors, media types.

A courier route declares its query parameters with the helpers below (``page[limit]`` with the endpoint's own bounds,
``page[offset]``, ``filter[<attr>]`` equality, ``sort``), takes its ``Api`` from ``courier_api`` and answers with
``single`` / ``listing`` (``application/vnd.api+json``, dasherized attributes, ``meta.page[total|limit|offset]`` on
lists). Every failure of a courier route — validation, domain errors, unknown routes, unknown query parameters — is
rendered by ``parley.api.errors`` as the seed's error object (``errors[]`` with an integer ``status``, ``code``,
``detail``, ``source.pointer|parameter``). Paths are served with and without the trailing slash (``parley.api.app``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import StringConstraints

from parley import clock
from parley.errors import BadRequest, Conflict, Forbidden
from parley.models.jsonapi import MEDIA_TYPE, Attributes, Document, ListDocument, PageMeta, RequestDocument, Resource
from parley.models.numbers import Int32

# The media types a courier route reads and writes (the response is always the JSON:API one).
MEDIA_TYPES = (MEDIA_TYPE, "application/json")

# The seed's PageLimit / PageOffset defaults (reading-003.yaml "Pagination"); an endpoint names its own bounds.
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

# Reserved query parameter families: a name of these families that the route does not declare is refused (400),
# as JSON:API asks of a server that does not support it (``filter[unknown]``, ``page[size]``).
RESERVED = ("filter[", "page[", "sort", "include")

# Default machine-readable codes, by status.
CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "request-too-large",
    415: "unsupported-media-type",
    422: "unprocessable-entity",
    429: "too-many-requests",
    500: "internal-error",
    502: "bad-gateway",
    504: "gateway-timeout",
}


def is_courier(family: str) -> bool:
    """The courier API is several families (``courier_admin``, …), one contract and one error shape."""
    return family == "courier" or family.startswith("courier_")


def page_limit(*, minimum: int = 1, maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> Any:
    """``page[limit]`` with one endpoint's bounds (the seed's: 1..1000, default 100; messaging-channels 1..50 …)."""
    about = f"Items per page, {minimum}..{maximum} (default {default})."
    return Annotated[Int32, Query(alias="page[limit]", ge=minimum, le=maximum, description=about)]


PageOffset = Annotated[Int32, Query(alias="page[offset]", ge=0, le=1_000_000, description="Items to skip (default 0; at most 1,000,000).")]
Sort = Annotated[str | None, Query(alias="sort", max_length=255, description="Comma-separated attribute names; `-name` sorts descending.")]


def filter_param(attr: str, *, max_length: int = 255, description: str | None = None) -> Any:
    """``filter[<attr>]``: equality on one attribute."""
    about = description or f"Only items whose `{attr}` equals this."
    return Annotated[str | None, Query(alias=f"filter[{attr}]", min_length=1, max_length=max_length, description=about)]


def window_param(field: str, *, comparators: Sequence[str] = (">", "<", ">=", "<="), description: str | None = None) -> Any:
    """``filter[cmp-<field>]``: a time window on one attribute, one or two ``<comparator><datetime>`` values
    (``>=2024-01-01T00:00:00Z``; two make a bounded window), each at most 40 characters, as the seed declares them.
    ``parse_window`` reads them."""
    about = description or (
        f"Compare `{field}` with a time: `<comparator><ISO-8601 date-time>`, comparators {', '.join(comparators)}; "
        "two values make a bounded window."
    )
    item = Annotated[str, StringConstraints(min_length=2, max_length=40)]
    return Annotated[list[item] | None, Query(alias=f"filter[cmp-{field}]", max_length=2, description=about)]


def include_param(name: str, *, description: str | None = None) -> Any:
    """``include[<name>]``: a boolean that widens a list (``include[inactive]``, ``include[archived]``), false by default."""
    return Annotated[bool, Query(alias=f"include[{name}]", description=description or f"Also answer the {name} items.")]


@dataclass(frozen=True)
class Window:
    """A time window from ``filter[cmp-…]``: each bound an instant (UTC) or None, inclusive or not."""

    after: datetime | None = None
    after_inclusive: bool = True
    before: datetime | None = None
    before_inclusive: bool = True

    def contains(self, at: datetime) -> bool:
        if self.after is not None and (at < self.after or (at == self.after and not self.after_inclusive)):
            return False
        return not (self.before is not None and (at > self.before or (at == self.before and not self.before_inclusive)))

    def key_range(self, lowest: str, highest: str) -> tuple[str, str]:
        """The bounds as ISO ``…sssZ`` strings for a key range (``BETWEEN``, inclusive): an open side is ``lowest`` /
        ``highest``. An exclusive bound is still inside the range; ``contains`` drops the items exactly on it."""
        return (clock.iso(self.after) if self.after else lowest, clock.iso(self.before) if self.before else highest)


def parse_window(values: Sequence[str] | None, field: str, *, comparators: Sequence[str] = (">", "<", ">=", "<=")) -> Window:
    """``filter[cmp-<field>]`` values → a ``Window``. At most one lower and one upper bound, the lower before the upper;
    a value that is not ``<comparator><date-time with a zone>``, or a comparator the endpoint does not take, is a 400
    naming the parameter."""
    parameter = f"filter[cmp-{field}]"
    window = Window()
    for raw in values or ():
        op = next((c for c in (">=", "<=", ">", "<") if raw.startswith(c)), None)
        if op is None or op not in comparators:
            allowed = ", ".join(comparators)
            raise BadRequest(f"{parameter}: {raw!r} must start with one of {allowed}", parameter=parameter, code="invalid-filter")
        try:
            at = clock.parse_iso(raw[len(op) :].strip())
        except ValueError:
            raise BadRequest(f"{parameter}: {raw!r} needs an ISO-8601 date-time with a time zone", parameter=parameter,
                             code="invalid-filter") from None  # fmt: skip
        lower = op.startswith(">")
        if (window.after if lower else window.before) is not None:
            raise BadRequest(f"{parameter}: at most one {'lower' if lower else 'upper'} bound", parameter=parameter, code="invalid-filter")
        bound = {"after": at, "after_inclusive": op == ">="} if lower else {"before": at, "before_inclusive": op == "<="}
        window = replace(window, **bound)
    if window.after and window.before and window.after > window.before:
        raise BadRequest(f"{parameter}: the lower bound is after the upper bound", parameter=parameter, code="invalid-filter")
    return window


def parse_sort(value: str | None, allowed: Sequence[str], *, default: Sequence[tuple[str, bool]] = ()) -> list[tuple[str, bool]]:
    """``sort=-last-sync-time,name`` → ``[("last-sync-time", True), ("name", False)]`` (True: descending); a field
    not in ``allowed`` (or named twice) is a 400 naming the ``sort`` parameter."""
    if value is None or not value.strip():
        return list(default)
    out: list[tuple[str, bool]] = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part[1:] if descending else part
        if name not in allowed:
            options = ", ".join(allowed) or "none"
            raise BadRequest(f"cannot sort by {name!r} (sortable: {options})", parameter="sort", code="invalid-sort")
        if any(name == seen for seen, _ in out):
            raise BadRequest(f"{name!r} is named twice in sort", parameter="sort", code="invalid-sort")
        out.append((name, descending))
    return out


def resource[A: Attributes](type_: str, id_: str, attributes: A) -> Resource[A]:
    return Resource[type(attributes)](id=id_, type=type_, attributes=attributes)  # type: ignore[misc]


def render(doc: Any, status: int = 200) -> Response:
    """A JSON:API document (a validated pydantic model) as the response: ``application/vnd.api+json``, attributes
    dasherized by alias. Powertools serializes only ``application/json`` bodies, so the document is serialized here and
    a route declares ``-> Response[str]`` with its document model in ``responses`` (``single_doc``, ``list_doc``)."""
    return Response(status_code=status, content_type=MEDIA_TYPE, body=doc.model_dump_json(by_alias=True))


def single(type_: str, id_: str, attributes: Attributes, *, status: int = 200) -> Response:
    return render(Document[type(attributes)](data=resource(type_, id_, attributes)), status)  # type: ignore[misc]


def listing(
    type_: str, items: Sequence[tuple[str, Attributes]], model: type[Attributes], *, total: int, limit: int, offset: int
) -> Response:
    data = [Resource[model](id=id_, type=type_, attributes=attrs) for id_, attrs in items]  # type: ignore[valid-type]
    return render(ListDocument[model](data=data, meta=PageMeta(total=total, limit=limit, offset=offset)))  # type: ignore[valid-type]


def single_doc(model: type[Attributes], description: str) -> dict[str, Any]:
    """The OpenAPI declaration of a 200 answering one resource of ``model``."""
    return {"description": description, "content": {MEDIA_TYPE: {"model": Document[model]}}}  # type: ignore[valid-type]


def list_doc(model: type[Attributes], description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"model": ListDocument[model]}}}  # type: ignore[valid-type]


def attributes_of[A: Attributes](doc: RequestDocument[A], type_: str, id_: str | None = None) -> A:
    """The attributes of a request document, once its ``data.type`` is this endpoint's type and, when the path names
    a resource (PATCH, actions), its ``data.id`` is absent or that id: a 409 otherwise, as JSON:API asks. A create
    naming an id is a 403 (JSON:API: client-generated ids not supported). ``source.pointer`` names the member."""
    if doc.data.type != type_:
        raise Conflict(f"data.type must be {type_!r}, not {doc.data.type!r}", pointer="/data/type", code="type-mismatch")
    if doc.data.id is None or doc.data.id == id_:
        return doc.data.attributes
    if id_ is None:  # JSON:API: a server that does not take client-generated ids answers 403
        raise Forbidden("data.id must be absent: the server assigns ids", pointer="/data/id", code="client-id-not-supported")
    raise Conflict(f"data.id must be the path's id {id_!r}", pointer="/data/id", code="id-mismatch")


def unknown_parameter(query: dict[str, Any] | None, declared: set[str]) -> str | None:
    """The first query parameter of JSON:API's reserved families (``filter[…]``, ``page[…]``, ``sort``, ``include…``)
    that the route does not declare, if any."""
    for name in query or {}:
        if name not in declared and name.startswith(RESERVED):
            return name
    return None
