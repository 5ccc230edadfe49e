"""The one public host (docs/architecture.md §4.3): the CloudFront distribution in template.yaml sends every route
that any family declares to that family's REST API, as CloudFront matches path patterns (in order, case-sensitive,
``*`` any characters including ``/``, ``?`` one character; the default behavior last)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from cfnlint.decode import decode

from helpers import ROOT
from parley_local.stack import PublicRouting

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


@cache
def _doc(path: str) -> dict[str, Any]:
    out, matches = decode(str(ROOT / path))
    assert out is not None, matches
    return out


def _distribution() -> dict[str, Any]:
    return _doc("template.yaml")["Resources"]["PublicDistribution"]["Properties"]["DistributionConfig"]


def _families() -> dict[str, str]:
    """Nested application logical id → its template path."""
    return {
        logical_id: res["Properties"]["Location"]
        for logical_id, res in _doc("template.yaml")["Resources"].items()
        if res["Type"] == "AWS::Serverless::Application"
    }


def _routes(template: str) -> list[tuple[str, str]]:
    out = []
    for res in _doc(template)["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for event in (res["Properties"].get("Events") or {}).values():
            if event["Type"] == "Api":
                out.append((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return out


def origin_for(path: str) -> str:
    """The origin CloudFront sends a viewer path to (the local gateway routes with the same ``PublicRouting``)."""
    dist = _distribution()
    behaviors = [(b["PathPattern"], b["TargetOriginId"]) for b in dist["CacheBehaviors"]]
    return PublicRouting(behaviors, dist["DefaultCacheBehavior"]["TargetOriginId"]).origin(path)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "a1b2c3", path)


def test_every_family_with_routes_is_an_origin_on_its_own_api():
    dist = _distribution()
    origins = {o["Id"]: o for o in dist["Origins"]}
    for logical_id, template in _families().items():
        if not _routes(template):
            continue
        assert logical_id in origins, f"{logical_id} serves routes but the public distribution has no origin for it"
        origin = origins[logical_id]
        assert origin["DomainName"] == {"Fn::Sub": f"${{{logical_id}.Outputs.ApiId}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"}
        assert origin["OriginPath"] == {"Fn::Sub": "/${Stage}"}, "the full viewer path must reach the stage"
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert set(origins) <= set(_families()), "an origin that is not a family's API"


@pytest.mark.parametrize("logical_id", sorted(_families()))
def test_every_declared_route_reaches_its_familys_api(logical_id):
    template = _families()[logical_id]
    courier = "/courier_" in template
    for method, path in _routes(template):
        for viewer_path in (_concrete(path), _concrete(path) + "/") if courier else (_concrete(path),):
            assert origin_for(viewer_path) == logical_id, f"{method} {viewer_path} would reach {origin_for(viewer_path)}"


def test_every_behavior_forwards_everything_but_host_and_caches_nothing():
    dist = _distribution()
    for behavior in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert set(behavior["AllowedMethods"]) == ALL_METHODS
        assert behavior["CachePolicyId"] == CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Authorization reaches the authorizer
        assert behavior["ViewerProtocolPolicy"] == "https-only"


def test_no_behavior_is_shadowed_by_an_earlier_one():
    """A behavior whose pattern an earlier, broader one already takes would never be used (e.g. ``/v1/user-email*``
    after ``/v1/*``)."""
    behaviors = _distribution()["CacheBehaviors"]
    for i, later in enumerate(behaviors):
        probe = later["PathPattern"].replace("*", "x").replace("?", "x")
        for earlier in behaviors[:i]:
            shadowing = PublicRouting([(earlier["PathPattern"], "earlier")], "none").origin(probe) == "earlier"
            assert not shadowing, f"{later['PathPattern']} is shadowed by {earlier['PathPattern']}"


def test_unknown_paths_fall_to_the_default():
    assert origin_for("/nothing/here") == _distribution()["DefaultCacheBehavior"]["TargetOriginId"]
