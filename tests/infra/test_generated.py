"""What ``make generate`` writes from the endpoint declarations (functions/<family>/api/*.py) is what is committed:
the SAM Function blocks, the sample events and the OpenAPI documents. A route is declared once."""

from __future__ import annotations

import pytest

from parley_local import families, generate


def test_committed_templates_events_and_openapi_are_what_the_declarations_generate():
    assert generate.stale() == [], "run `make generate`"


@pytest.mark.parametrize("family", families.names())
def test_every_endpoint_has_its_function_block_and_event(family):
    text = (generate.ROOT / "functions" / family / "template.yaml").read_text()
    for ep in generate.endpoints(family):
        assert f"\n  {ep.logical_id}:\n" in text
        assert f"      Handler: {ep.module}.{ep.name}\n" in text
        assert (generate.ROOT / "events" / family / f"{ep.name}.json").exists()


def test_no_two_endpoints_share_a_handler_name_or_a_route():
    seen: dict[str, str] = {}
    routes: set[tuple[str, str]] = set()
    for family in families.names():
        for ep in generate.endpoints(family):
            assert ep.logical_id not in seen, f"{ep.logical_id}: {seen.get(ep.logical_id)} and {ep.sam_path}"
            seen[ep.logical_id] = ep.sam_path
            assert (ep.method, ep.sam_path) not in routes
            routes.add((ep.method, ep.sam_path))


def test_a_stale_block_is_found(tmp_path, monkeypatch):
    """The check fails when a committed template's generated region was edited by hand."""
    tpl = generate.ROOT / "functions" / "ats" / "template.yaml"
    edited = tpl.read_text().replace("Method: get", "Method: post", 1)
    assert generate.template_text("ats", edited) != edited
