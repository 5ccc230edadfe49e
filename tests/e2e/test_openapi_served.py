"""The local stack serves the API documentation: each family's OpenAPI document and the pages over them."""

from __future__ import annotations

import html
import re

import pytest
import requests

from parley_local import families, openapi


@pytest.mark.parametrize("family", sorted(families.names()))
def test_each_family_document_is_served_and_is_what_the_code_generates(local, family):
    out = requests.get(f"{local.api}/_local/openapi/{family}.json", timeout=60)
    assert out.status_code == 200, out.text
    assert out.headers["Content-Type"].startswith("application/json")
    assert out.json() == openapi.family_schema(family)
    assert out.text == (openapi.OUT / f"{family}.json").read_text()  # and the committed one


def test_docs_index_links_every_family_page_and_document(local):
    out = requests.get(f"{local.api}/_local/docs", timeout=30)
    assert out.status_code == 200
    assert out.headers["Content-Type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', out.text))
    for family in families.names():
        title, _ = families.openapi_info(family)
        assert f"/_local/docs/{family}" in links
        assert f"/_local/openapi/{family}.json" in links
        assert html.escape(title) in out.text
    for link in links:  # every link works
        assert requests.get(local.api + link, timeout=60).status_code == 200, link


@pytest.mark.parametrize("family", sorted(families.names()))
def test_family_page_loads_swagger_ui_on_the_document_and_lists_every_operation(local, family):
    out = requests.get(f"{local.api}/_local/docs/{family}/", timeout=60)
    assert out.status_code == 200
    assert out.headers["Content-Type"].startswith("text/html")
    page = out.text
    # Swagger UI, served by the stack itself (no CDN: the page works offline), pointed at the served document
    assets = re.findall(r"(?:src|href)='(/_local/docs/assets/[^']+)'", page)
    assert {"/_local/docs/assets/swagger-ui-bundle.js", "/_local/docs/assets/swagger-ui.css"} <= set(assets)
    assert "unpkg" not in page and "https://" not in page
    for asset in assets:
        served = requests.get(local.api + asset, timeout=30)
        assert served.status_code == 200, asset
        assert served.headers["Content-Type"].startswith("text/javascript" if asset.endswith(".js") else "text/css")
        assert len(served.content) > 10_000
    assert f'url: "/_local/openapi/{family}.json"' in page
    # the server-rendered table: one row per operation, method, path and summary
    rows = re.findall(r"<tr><td><code>([A-Z]+)</code></td><td><code>([^<]+)</code></td><td>([^<]*)</td></tr>", page)
    schema = openapi.family_schema(family)
    expected = {(m.upper(), p, op.get("summary", "")) for p, ops in schema["paths"].items() for m, op in ops.items()}
    assert {(m, html.unescape(p), html.unescape(s)) for m, p, s in rows} == expected
    assert len(rows) == len(expected) > 0


def test_unknown_family_has_no_docs_and_says_which_exist(local):
    for path in ("/_local/docs/nope", "/_local/docs/nope/deeper", "/_local/docs/candidatex"):
        out = requests.get(local.api + path, timeout=30)
        assert out.status_code == 404, path
        message = out.json()["message"]
        assert all(f"/_local/docs/{family}" in message for family in families.names()), message
    assert requests.get(f"{local.api}/_local/openapi/nope.json", timeout=30).status_code == 404
    for asset in ("nope.js", "../openapi.py", "%2e%2e/openapi.py", "LICENSE", "VERSION"):
        assert requests.get(f"{local.api}/_local/docs/assets/{asset}", timeout=30).status_code == 404, asset


def test_swagger_ui_is_the_pinned_installed_5x():
    assert openapi.swagger_ui_version().startswith("5.")  # 4.x cannot render the OpenAPI 3.1 documents
