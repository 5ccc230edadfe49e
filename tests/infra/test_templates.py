"""Guards on the SAM templates and the code layout: what the deployed system will be."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from helpers import EVENTS, ROOT, import_handler

FUNCTIONS = ROOT / "functions"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
RESOURCE_BUDGET = 400  # CloudFormation allows 500 per stack; keep 100 of headroom
RUNTIME = "python3.13"


def templates() -> list[Path]:
    root, _ = decode(str(ROOT / "template.yaml"))
    nested = [ROOT / r["Properties"]["Location"] for r in root["Resources"].values() if r["Type"] == "AWS::Serverless::Application"]
    return [ROOT / "template.yaml", *nested]


@cache
def doc(path: Path) -> dict[str, Any]:
    out, matches = decode(str(path))
    assert out is not None, matches
    return out


def functions() -> list[tuple[Path, str, dict[str, Any]]]:
    found = []
    for path in templates():
        tpl = doc(path)
        glob = (tpl.get("Globals") or {}).get("Function") or {}
        for logical_id, res in tpl["Resources"].items():
            if res["Type"] == "AWS::Serverless::Function":
                found.append((path, logical_id, {**glob, **res["Properties"]}))
    return found


def api_routes(props: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in (props.get("Events") or {}).values() if e["Type"] == "Api"
    }


@cache
def transformed() -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.fail("the SAM CLI venv is missing: run `make install-sam` (make test does)")
    paths = [str(p.relative_to(ROOT)) for p in templates()]
    out = subprocess.run(
        [str(SAM_PYTHON), str(ROOT / "tests/infra/sam_transform.py"), *paths], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_stack_transforms_and_stays_well_under_500_resources(path):
    result = transformed()[str(path.relative_to(ROOT))]
    assert "error" not in result, result.get("error")
    counts = Counter(result["types"])
    total = sum(counts.values())
    assert 0 < total <= RESOURCE_BUDGET, f"{path.name}: {total} resources {dict(counts)}"


def test_every_api_family_has_its_own_rest_api():
    for path in templates()[1:]:
        apis = [r for r in doc(path)["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
        assert len(apis) == 1, f"{path}: one REST API per family stack"


@pytest.mark.parametrize("fn", functions(), ids=lambda f: f[1])
def test_function_conventions(fn):
    path, logical_id, props = fn
    assert props["Runtime"] == RUNTIME
    code_dir = (path.parent / props["CodeUri"]).resolve()
    module, attr = props["Handler"].rsplit(".", 1)
    assert (code_dir / f"{module}.py").exists(), f"{logical_id}: {code_dir}/{module}.py"
    if api_routes(props):
        # an endpoint declared in functions/<family>/api/<resource>.py; its sample event is generated beside the others
        assert code_dir.name == "api", logical_id
        sample = EVENTS / code_dir.parent.name / f"{attr}.json"
        assert int(props.get("Timeout", 3)) <= 29, "API Gateway gives up after 29 s"
    else:
        assert props["Handler"] == "app.lambda_handler"
        # one sample event per function, at the same relative path as its code
        sample = EVENTS / code_dir.relative_to(FUNCTIONS).parent / (code_dir.name + ".json")
    assert sample.exists(), f"{logical_id}: no sample event {sample.relative_to(ROOT)}"
    json.loads(sample.read_text())


@pytest.mark.parametrize("fn", [f for f in functions() if api_routes(f[2])], ids=lambda f: f[1])
def test_handler_serves_exactly_its_declared_routes(fn):
    """The template and the endpoint declaration agree, so what runs locally is what is deployed."""
    path, logical_id, props = fn
    module, attr = props["Handler"].rsplit(".", 1)
    endpoint = getattr(import_handler((path.parent / props["CodeUri"]).resolve(), module), attr)
    assert {(endpoint.method, endpoint.sam_path)} == api_routes(props)
    assert endpoint.logical_id == logical_id


def test_no_route_is_declared_twice_across_families():
    seen: Counter[tuple[str, str]] = Counter()
    for _, _, props in functions():
        seen.update(api_routes(props))
    assert [r for r, n in seen.items() if n > 1] == []


def test_boto3_only_in_the_data_access_and_provider_layers():
    offenders = []
    for py in [*(ROOT / "layers/common/parley").rglob("*.py"), *FUNCTIONS.rglob("*.py")]:
        rel = py.relative_to(ROOT).as_posix()
        if rel.startswith(("layers/common/parley/dal/", "layers/common/parley/providers/")):
            continue
        if re.search(r"^\s*(import|from)\s+(boto3|botocore)\b", py.read_text(), re.M):
            offenders.append(rel)
    assert offenders == []


def test_no_package_shadows_the_standard_library_email():
    ours = [d for d in ("functions", "layers", "local", "tests", "bench") if (ROOT / d).exists()]
    shadows = [p for d in ours for p in (ROOT / d).rglob("email*") if p.name in ("email", "email.py")]
    assert shadows == []


def test_dependencies_are_pinned():
    for req in [
        "requirements/runtime.txt",
        "requirements/dev.txt",
        "requirements/sam.txt",
        "layers/deps/requirements.txt",
        "layers/deps/requirements-nodeps.txt",
        "layers/deps/requirements-sdist.txt",
        "layers/imaging/requirements.txt",
    ]:
        for line in (ROOT / req).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{req}: {line} is not pinned"
    # The dev venv installs exactly what the dependencies layer ships.
    includes = [line.split()[1] for line in (ROOT / "requirements/runtime.txt").read_text().splitlines() if line.startswith("-r")]
    assert includes == [f"../layers/deps/requirements{s}.txt" for s in ("", "-nodeps", "-sdist")]


# The CRM's gateway responses have no `time`: a gateway response template cannot write the seed's date-time (K6).
ERROR_SHAPE_KEYS = {
    "candidate": {"status", "message"},
    "ats": {"status", "message"},
    "crm": {"title", "detail"},
    "courier_admin": {"errors"},
    "courier_email": {"errors"},
    "courier_notifications": {"errors"},
    "courier_texting": {"errors"},
    "courier_messaging": {"errors"},
    "courier_automation": {"errors"},
    "courier_voice_video": {"errors"},
}


@pytest.mark.parametrize("path", templates()[1:], ids=lambda p: p.parent.name)
def test_gateway_responses_speak_the_familys_error_shape(path):
    """API Gateway's own errors (no key, unknown route, throttling…) look like the handlers' errors."""
    family = path.parent.name
    (api,) = [r for r in doc(path)["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
    responses = api["Properties"].get("GatewayResponses") or {}
    must = {"UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert must <= set(responses)
    for rtype, decl in responses.items():
        template = decl["ResponseTemplates"]["application/json"]
        # Issue 11: "$context.requestTime" rendered "06/Dec/2026:08:32:26 +0000" where clients parse a date-time.
        assert "$context.requestTime" not in template, f"{rtype}: a gateway time is not ISO-8601 (decision K6)"
        body = template.replace("$context.error.messageString", '"x"')
        parsed = json.loads(body)
        assert set(parsed) == ERROR_SHAPE_KEYS[family], rtype
        if "errors" in parsed:  # the courier API: one JSON:API error object, its integer status the HTTP status
            (error,) = parsed["errors"]
            assert set(error) == {"status", "code", "detail"}, rtype
            assert error["status"] == int(decl["StatusCode"]), f"{rtype}: body status differs from the HTTP status"
        if "status" in parsed:
            assert parsed["status"] == int(decl["StatusCode"]), f"{rtype}: body status differs from the HTTP status"
        if "title" in parsed:
            assert parsed["title"] == HTTPStatus(int(decl["StatusCode"])).phrase, f"{rtype}: title differs from the HTTP status"


@pytest.mark.parametrize("path", templates()[1:], ids=lambda p: p.parent.name)
def test_api_gateways_throttling_says_when_to_retry(path):
    """A 429 of API Gateway's own throttling carries ``Retry-After`` as the functions' 429s do (docs/architecture.md
    §6.4), in the deployed RestApi (SAM's transform)."""
    resources = transformed()[str(path.relative_to(ROOT))]["resources"]
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    throttled = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]["THROTTLED"]
    assert throttled["statusCode"] == "429"
    assert throttled["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


@pytest.mark.parametrize(
    "family",
    [
        "courier_admin",
        "courier_email",
        "courier_notifications",
        "courier_texting",
        "courier_messaging",
        "courier_automation",
        "courier_voice_video",
    ],
)
def test_courier_gateway_responses_are_json_api_media(family):
    """The courier API's own answers (no key, unknown route, throttling, …) carry JSON:API's media type, as its
    handlers' answers do (docs/courier.md "Media types"), in the deployed RestApi (SAM's transform)."""
    resources = transformed()[f"functions/{family}/template.yaml"]["resources"]
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    assert len(responses) == 16
    for rtype, decl in responses.items():
        assert decl["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/vnd.api+json'", rtype


# ── SnapStart (docs/architecture.md §3.1) ──


def _param_default(path: Path, name: str) -> Any:
    return doc(path)["Parameters"][name]["Default"]


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_function_has_snapstart_on_published_versions_and_an_alias(path):
    """Globals give every function SnapStart (a root parameter, passed down: PublishedVersions unless turned off)
    and an alias; SAM turns that into a version, the alias `live`, and the SnapStart property of the function."""
    assert _param_default(path, "SnapStart") == "PublishedVersions"
    resources = transformed()[str(path.relative_to(ROOT))]["resources"]
    functions_ = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions_
    for logical_id, res in functions_.items():
        assert res["Properties"].get("SnapStart") == {"ApplyOn": {"Ref": "SnapStart"}}, logical_id
        alias = resources.get(f"{logical_id}Aliaslive")
        assert alias and alias["Type"] == "AWS::Lambda::Alias", f"{logical_id}: no alias `live`"
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert resources[version]["Type"] == "AWS::Lambda::Version"


def test_the_root_passes_its_snapstart_parameter_to_every_family():
    root = doc(ROOT / "template.yaml")
    assert root["Parameters"]["SnapStart"]["AllowedValues"] == ["PublishedVersions", "None"]
    for logical_id, res in root["Resources"].items():
        if res["Type"] == "AWS::Serverless::Application":
            assert res["Properties"]["Parameters"]["SnapStart"] == {"Ref": "SnapStart"}, logical_id


def test_each_family_gets_the_authorizers_alias_not_latest():
    root = transformed()["template.yaml"]["resources"]
    assert root["AuthorizerFunctionAliaslive"]["Type"] == "AWS::Lambda::Alias"
    stacks = {k: r for k, r in root.items() if r["Type"] == "AWS::CloudFormation::Stack"}
    assert len(stacks) == len(templates()) - 1
    for logical_id, res in stacks.items():
        assert res["Properties"]["Parameters"]["AuthorizerFunctionArn"] == {"Ref": "AuthorizerFunctionAliaslive"}, logical_id


def test_the_root_parameter_is_at_most_60_seconds_and_defaults_to_30():
    """The authorizer's cache time bounds how long a revoked key (or a disabled tenant's key) still gets through:
    one root parameter, at most 60 s, given to every family's authorizer (docs/architecture.md §5.1)."""
    decl = doc(ROOT / "template.yaml")["Parameters"]["AuthorizerCacheSeconds"]
    assert (decl["Type"], decl["Default"], decl["MinValue"], decl["MaxValue"]) == ("Number", 30, 0, 60)


def test_the_root_gives_it_to_every_family():
    root = doc(ROOT / "template.yaml")
    apps = {k: r for k, r in root["Resources"].items() if r["Type"] == "AWS::Serverless::Application"}
    assert len(apps) == len(templates()) - 1
    for logical_id, res in apps.items():
        assert res["Properties"]["Parameters"]["AuthorizerCacheSeconds"] == {"Ref": "AuthorizerCacheSeconds"}, logical_id


@pytest.mark.parametrize("path", templates()[1:], ids=lambda p: p.parent.name)
def test_each_family_caches_the_authorizer_for_that_parameter_and_never_over_60_seconds(path):
    family = doc(path)
    decl = family["Parameters"]["AuthorizerCacheSeconds"]
    assert decl["MaxValue"] <= 60 and decl["Default"] == 30
    authorizers = family["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]
    for name, authorizer in authorizers.items():
        assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheSeconds"}, name
    # what API Gateway is given (transformed with the parameter's default)
    resources = transformed()[str(path.relative_to(ROOT))]["resources"]
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    for name, decl in api["Properties"]["Body"]["securityDefinitions"].items():
        assert decl["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] == 30, name


@pytest.mark.parametrize("path", templates()[1:], ids=lambda p: p.parent.name)
def test_api_gateway_invokes_and_may_invoke_the_authorizer_it_is_given(path):
    """The family's authorizer URI and API Gateway's invoke permission both name the ARN the root passes (the alias)."""
    resources = transformed()[str(path.relative_to(ROOT))]["resources"]
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    authorizers = api["Properties"]["Body"]["securityDefinitions"]
    given = "x"  # sam_transform.py gives each parameter without a default the value "x"
    for name, decl in authorizers.items():
        uri = decl["x-amazon-apigateway-authorizer"]["authorizerUri"]["Fn::Sub"]
        assert uri[1]["__FunctionArn__"] == given, name
        (permission,) = [r for k, r in resources.items() if k.endswith(f"{name}AuthorizerPermission")]
        assert permission["Properties"]["FunctionName"] == given
    assert doc(path)["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]["ApiKeyAuthorizer"]["FunctionArn"] == {
        "Ref": "AuthorizerFunctionArn"
    }


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_event_sources_urls_schedules_and_api_permissions_target_the_alias(path):
    resources = transformed()[str(path.relative_to(ROOT))]["resources"]
    aliases = {k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"}
    targets = []
    for logical_id, res in resources.items():
        props = res["Properties"]
        if res["Type"] == "AWS::Lambda::EventSourceMapping":
            targets.append((logical_id, props["FunctionName"]))
        elif res["Type"] == "AWS::Lambda::Url":
            targets.append((logical_id, props["TargetFunctionArn"]))
        elif res["Type"] == "AWS::Scheduler::Schedule":
            targets.append((logical_id, props["Target"]["Arn"]))
        elif res["Type"] == "AWS::Lambda::Permission" and isinstance(props["FunctionName"], dict):
            targets.append((logical_id, props["FunctionName"]))
    assert targets
    for logical_id, target in targets:
        assert isinstance(target, dict) and target.get("Ref") in aliases, f"{logical_id} targets {target}, not an alias"
