"""The local gateway routes a path as the public host's CloudFront distribution does (docs/architecture.md §4.3)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from parley_local.gateway import Gateway
from parley_local.stack import PublicRouting, Stack
from parley_local.templates import GatewayResponse, RestApi, Route


def test_cloudfront_patterns_in_order_case_sensitive_with_a_default():
    routing = PublicRouting([("/v1/user-email*", "Email"), ("/v1/*", "Admin"), ("/file?.txt", "Files")], "Candidate")
    assert routing.origin("/v1/user-emails/") == "Email"
    assert routing.origin("/v1/user-email-attachments/x/process-upload/") == "Email"  # * spans /
    assert routing.origin("/v1/users/u-1/") == "Admin"
    assert routing.origin("/V1/users") == "Candidate"  # case-sensitive
    assert routing.origin("/file1.txt") == "Files"
    assert routing.origin("/file12.txt") == "Candidate"  # ? is one character
    assert routing.origin("/v1") == "Candidate"  # /v1/* needs the slash
    assert routing.origin("/v1/users/a\nb") == "Admin"  # * spans any character (an id with an encoded newline, %0A)


def _api(name: str, path: str, body: str) -> RestApi:
    fn = SimpleNamespace(logical_id=f"{name}Fn")
    api = RestApi(logical_id="Api", template=SimpleNamespace(name=name), api_id=name.lower(), stage="v1")
    api.routes.append(Route(method="GET", path=path, function=fn, authorizer=None))  # type: ignore[arg-type]
    api.gateway_responses["MISSING_AUTHENTICATION_TOKEN"] = GatewayResponse(status=404, templates={"application/json": body}, headers={})
    return api


def _gateway(routing: PublicRouting | None) -> Gateway:
    stack = Stack(root=SimpleNamespace())  # type: ignore[arg-type]
    stack.apis = [_api("Admin", "/v1/things", '{"who": "admin"}'), _api("Email", "/v1/user-emails", '{"who": "email"}')]
    stack.public_routing = routing
    return Gateway(stack, pool=None, local_routes={})  # type: ignore[arg-type]


def _get(gateway: Gateway, path: str):
    response = gateway.dispatch(Request(EnvironBuilder(path=path, method="GET").get_environ()))
    return response.status_code, json.loads(response.get_data())


def test_a_route_the_distribution_sends_elsewhere_is_that_apis_404():
    """Declared by the email family, but the distribution sends /v1/* to the admin API: deployed, the admin API
    answers 404; locally too."""
    gateway = _gateway(PublicRouting([("/v1/*", "Admin")], "Admin"))
    assert _get(gateway, "/v1/user-emails") == (404, {"who": "admin"})
    assert _get(gateway, "/v1/nothing") == (404, {"who": "admin"})


def test_unknown_paths_get_the_gateway_response_of_the_api_the_distribution_picks():
    gateway = _gateway(PublicRouting([("/v1/user-email*", "Email"), ("/v1/*", "Admin")], "Admin"))
    assert _get(gateway, "/v1/user-emails/x/y") == (404, {"who": "email"})
    assert _get(gateway, "/v1/things/x/y") == (404, {"who": "admin"})
