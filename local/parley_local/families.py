"""The API families, named in one place: the nested applications of the root ``template.yaml``.

Each family is one ``AWS::Serverless::Application`` whose ``Location`` is ``functions/<family>/template.yaml``; its
endpoints are declared in ``functions/<family>/api/*.py``, and its OpenAPI document's title and description are its
template's ``Metadata.OpenApi``. The generator, the OpenAPI documents, the local stack's doc pages, the bench and the
tests all take the families from here, so a new family is a folder and a nested application, nothing else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@cache
def _template(path: Path) -> dict[str, Any]:
    from cfnlint.decode import decode  # the CloudFormation tags (!Ref, !Sub …) as cfn-lint reads them

    doc, matches = decode(str(path))
    if doc is None:
        raise SystemExit(f"{path.relative_to(ROOT)}: {matches}")
    return doc


@cache
def applications() -> dict[str, str]:
    """The logical id of each family's nested application in ``template.yaml`` → the family, in template order."""
    out: dict[str, str] = {}
    for logical_id, resource in _template(ROOT / "template.yaml")["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Application":
            location = Path(resource["Properties"]["Location"])
            if location.parts[:1] != ("functions",) or location.name != "template.yaml" or len(location.parts) != 3:
                raise SystemExit(f"template.yaml: {logical_id} is not at functions/<family>/template.yaml ({location})")
            out[logical_id] = location.parent.name
    return out


def names() -> tuple[str, ...]:
    """The families (``candidate``, ``crm``, ``ats``), in the root template's order."""
    return tuple(applications().values())


def openapi_info(family: str) -> tuple[str, str]:
    """The title and description of the family's OpenAPI document (its template's ``Metadata.OpenApi``)."""
    meta = (_template(ROOT / "functions" / family / "template.yaml").get("Metadata") or {}).get("OpenApi") or {}
    if "Title" not in meta or "Description" not in meta:
        raise SystemExit(f"functions/{family}/template.yaml: no Metadata.OpenApi Title and Description")
    return meta["Title"], meta["Description"]
