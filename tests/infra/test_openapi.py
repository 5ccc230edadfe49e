"""The committed OpenAPI documents (docs/openapi/) are what the code generates now."""

from __future__ import annotations

import pytest

from parley_local import families, openapi


@pytest.mark.parametrize("family", sorted(families.names()))
def test_committed_openapi_document_matches_the_code(family):
    target = openapi.OUT / f"{family}.json"
    assert target.exists(), f"{target} is missing: run `make openapi`"
    assert target.read_text() == openapi.render(family), f"{target.name} is out of date: run `make openapi`"


@pytest.mark.parametrize("family", sorted(families.names()))
def test_document_covers_exactly_the_declared_routes(family):
    import re

    from cfnlint.decode import decode

    doc, _ = decode(str(openapi.ROOT / "functions" / family / "template.yaml"))
    declared = {
        (e["Properties"]["Method"].lower(), e["Properties"]["Path"])
        for r in doc["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for e in (r["Properties"].get("Events") or {}).values()
        if e["Type"] == "Api"
    }
    schema = openapi.family_schema(family)
    documented = {(m, re.sub(r"\{(\w+)\}", r"{\1}", p)) for p, ops in schema["paths"].items() for m in ops}
    assert documented == declared
