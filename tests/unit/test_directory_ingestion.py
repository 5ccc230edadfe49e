"""The courier directory's ingestion, without AWS (issue 15): import lines with deletes, directory event envelopes
(parley.domain.directory_events.parse) and a replicator's upstream resources and paging (parley.domain.replicators)."""

from __future__ import annotations

import json

import pytest

from parley.domain import directory, directory_events, replicators
from parley.errors import BadRequest

T1 = "2026-11-01T09:00:00Z"


def envelope(kind="upsert", detail=None, source="parley.directory"):
    return json.dumps({"version": "0", "source": source, "detail-type": kind, "detail": detail})


def test_a_delete_line_is_a_tombstone_change_with_its_time():
    change = directory.parse_line(json.dumps({"type": "users", "id": "u1", "deleted": True, "attributes": {"last-sync-time": T1}}))
    assert change == directory.Change("users", "u1", "2026-11-01T09:00:00.000Z", {}, deleted=True)
    with pytest.raises(BadRequest, match="last-sync-time"):
        directory.parse_line(json.dumps({"type": "organizations", "id": "o1", "deleted": True}))
    with pytest.raises(BadRequest):
        directory.parse_line(json.dumps({"type": "users", "id": "u1", "deleted": "yes", "last-sync-time": T1}))


def test_an_event_is_parsed_into_its_tenant_and_change():
    entity = {"type": "users", "id": "u1", "attributes": {"email": "a@example.com", "last-sync-time": T1}}
    tenant, change = directory_events.parse(envelope(detail={"tenant-id": "t1", "entity": entity}))
    assert tenant == "t1" and not change.deleted and change.attrs["email"] == "a@example.com"
    tenant, change = directory_events.parse(
        envelope("delete", {"tenant-id": "t1", "entity": {"type": "users", "id": "u1", "last-sync-time": T1}})
    )
    assert change.deleted and change.attrs == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "EventBridge event"),
        (envelope(source="aws.s3", detail={}), "source"),
        (envelope("rename", {}), "detail-type"),
        (envelope(detail="x"), "detail"),
        (envelope(detail={"tenant-id": "t1", "entity": {}, "x": 1}), "unknown member"),
        (envelope(detail={"entity": {}}), "tenant-id"),
        (envelope(detail={"tenant-id": "t1", "entity": []}), "JSON object"),
        (envelope(detail={"tenant-id": "t1", "entity": {"type": "users", "id": "u1", "deleted": True, "last-sync-time": T1}}), "delete"),
        ("x" * 300_000, "longer"),
    ],
)
def test_a_malformed_event_says_what_is_wrong(body, message):
    with pytest.raises(BadRequest, match=message):
        directory_events.parse(body)


def test_an_upstream_resource_becomes_a_change():
    org = {"type": "organizations", "id": "o1", "attributes": {"name": "n", "last-modified-time": T1}}
    assert replicators.to_change("organizations", org).sync_time == "2026-11-01T09:00:00.000Z"
    gone = {"type": "users", "id": "u1", "meta": {"last-sync-time": T1, "deleted": True}}
    assert replicators.to_change("users", gone).deleted
    with pytest.raises(BadRequest, match="pulls users"):
        replicators.to_change("users", org)
    with pytest.raises(BadRequest, match="last-sync-time"):
        replicators.to_change("individuals", {"type": "individuals", "id": "i1", "attributes": {}})


def test_paging_follows_links_next_on_the_same_origin_or_the_offset_meta():
    base = "https://platform.example/v1/users/"
    assert replicators.first_url(base, None) == base
    assert replicators.first_url(base + "?page[limit]=50", T1) == base + "?page%5Blimit%5D=50&filter%5Bsince%5D=2026-11-01T09%3A00%3A00Z"
    assert replicators.next_url(base, base, {"links": {"next": "?page=2"}}, 1) == base + "?page=2"
    assert replicators.next_url(base, base, {"links": {"next": {"href": "/v1/users/?page=3"}}}, 1) == base + "?page=3"
    with pytest.raises(replicators.ReplicationError, match="leaves the upstream"):
        replicators.next_url(base, base, {"links": {"next": "https://elsewhere.example/x"}}, 1)
    meta = {"page[total]": 5, "page[offset]": 2, "page[limit]": 2}
    assert replicators.next_url(base, base, {"meta": meta}, 2) == base + "?page%5Boffset%5D=4"
    assert replicators.next_url(base, base, {"meta": {**meta, "page[offset]": 4}}, 1) is None
    assert replicators.next_url(base, base, {"meta": meta}, 0) is None  # an empty page ends it
    assert replicators.next_url(base, base, {"links": {"next": None}}, 3) is None


def test_replicator_urls_must_be_http():
    assert replicators.check_url("http://127.0.0.1:8080/users") == "http://127.0.0.1:8080/users"
    for bad in ("file:///etc/passwd", "https:///nohost", "ftp://x.example/"):
        with pytest.raises(BadRequest):
            replicators.check_url(bad)
