"""The local API Gateway: serves exactly the routes declared in the SAM templates.

Per request, as API Gateway REST does: match a declared route (else the API's
MISSING_AUTHENTICATION_TOKEN gateway response), run the REQUEST authorizer (identity headers
present? cached policy? Allow/Deny against the method ARN), build the proxy event, invoke the
declared function and translate its proxy result. Function URLs are served under
``/_url/<FunctionLogicalId>/``; ``/_local/…`` holds the emulator's own tools (never deployed).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from parley_local.events import authorizer_request_event, function_url_event, method_arn, rest_proxy_event
from parley_local.invoke import FunctionPool
from parley_local.stack import Stack
from parley_local.templates import Authorizer, RestApi, Route

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request payload limit
_DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "REQUEST_TOO_LARGE": 413,
    "INTEGRATION_FAILURE": 502,
    "INTEGRATION_TIMEOUT": 504,
    "BAD_REQUEST_BODY": 400,
}
_DEFAULT_MESSAGE = {
    "UNAUTHORIZED": "Unauthorized",
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "AUTHORIZER_FAILURE": "null",
    "AUTHORIZER_CONFIGURATION_ERROR": "null",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
}


class AccountThrottle:
    """API Gateway's account-level throttling of REST API requests (per region, every API and stage together): a
    token bucket refilled at ``rate`` per second up to ``burst``; a request finding it empty is answered with the
    API's THROTTLED gateway response (429). AWS's defaults are 10,000 per second with a burst of 5,000, which a local
    stack never reaches; ``POST /_local/throttle`` lowers them, to see those answers (docs/architecture.md §6.4)."""

    DEFAULT_RATE = 10_000.0
    DEFAULT_BURST = 5_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.set(self.DEFAULT_RATE, self.DEFAULT_BURST)

    def set(self, rate: float, burst: int) -> None:
        with self._lock:
            self.rate, self.burst = float(rate), int(burst)
            self._tokens, self._at = float(burst), time.monotonic()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


def _werkzeug_path(path: str) -> str:
    path = re.sub(r"\{([A-Za-z0-9_]+)\+\}", r"<path:\1>", path)
    return re.sub(r"\{([A-Za-z0-9_]+)\}", r"<\1>", path)


def _policy_allows(policy: dict[str, Any], arn: str) -> bool:
    allowed = False
    statements = policy.get("Statement") or []
    for st in statements if isinstance(statements, list) else [statements]:
        resources = st.get("Resource") or []
        resources = resources if isinstance(resources, list) else [resources]
        if not any(fnmatch.fnmatchcase(arn, r) for r in resources):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


class Gateway:
    def __init__(self, stack: Stack, pool: FunctionPool, local_routes: dict[str, Callable[[Request], Response]]) -> None:
        self.stack = stack
        self.pool = pool
        self.local_routes = local_routes
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.throttle = AccountThrottle()
        rules = []
        self._targets: list[tuple[RestApi, Route]] = []
        seen: dict[tuple[str, str], str] = {}
        for api in stack.apis:
            for route in api.routes:
                ident = (route.method, route.path)
                if ident in seen:
                    raise ValueError(f"route {route.method} {route.path} is declared by both {seen[ident]} and {api.template.name}")
                seen[ident] = api.template.name
                methods = None if route.method == "ANY" else [route.method]
                self._targets.append((api, route))
                endpoint = len(self._targets) - 1
                rules.append(
                    Rule(_werkzeug_path(route.path), methods=methods, endpoint=endpoint, strict_slashes=False, merge_slashes=False)
                )
        self.routes = Map(rules)
        self._apis_by_family = {api.template.name: api for api in stack.apis}  # nested application logical id → its API
        self.function_urls = {fn.logical_id: fn for fn in stack.functions.values() if fn.url_auth}
        # Called before a read (a GET, or a POST to a search route) is invoked: the stream consumers catch up with
        # what was written before it (the tallies behind totals and deep pages, the search index, follow the table
        # by the stream's delay; locally, reads see them).
        self.before_read: Callable[[], None] = lambda: None

    # ── WSGI ──
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception as err:  # the emulator itself failed: say so plainly
            response = Response(json.dumps({"message": f"local gateway error: {err}"}), status=500, content_type="application/json")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/_local" or path.startswith("/_local/"):
            handler = self.local_routes.get(path.rstrip("/") or "/_local") or self._local_prefix(path)
            if handler is None:
                return Response(json.dumps({"message": "no such local tool"}), status=404, content_type="application/json")
            return handler(request)
        if path.startswith("/_url/"):
            return self.function_url(request)
        adapter = self.routes.bind_to_environ(request.environ)
        try:
            target, params = adapter.match()
            api, route = self._targets[target]
        except (NotFound, MethodNotAllowed):
            return self.gateway_response(self._api_for_path(path), "MISSING_AUTHENTICATION_TOKEN")
        except HTTPException as err:
            return self.gateway_response(self._api_for_path(path), "MISSING_AUTHENTICATION_TOKEN", message=str(err))
        public = self._public_api(path)
        if public is not None and public is not api:  # the public host would send this path to another family's API
            return self.gateway_response(public, "MISSING_AUTHENTICATION_TOKEN")
        if request.content_length and request.content_length > MAX_PAYLOAD:
            return self.gateway_response(api, "REQUEST_TOO_LARGE")
        if not self.throttle.take():
            return self.gateway_response(api, "THROTTLED", status=429, message="Too Many Requests")
        return self.invoke_route(request, api, route, {k: str(v) for k, v in params.items()})

    def _local_prefix(self, path: str) -> Callable[[Request], Response] | None:
        """A tool registered for a whole subtree (a key ending in ``/*``, e.g. ``/_local/docs/*``), the longest first."""
        prefixes = [k[:-1] for k in self.local_routes if k.endswith("/*") and path.startswith(k[:-1])]
        return self.local_routes[max(prefixes, key=len) + "*"] if prefixes else None

    def _public_api(self, path: str) -> RestApi | None:
        """The API the public host's distribution routes this path to (None: the root declares no distribution)."""
        routing = self.stack.public_routing
        return None if routing is None else self._apis_by_family.get(routing.origin(path))

    def _api_for_path(self, path: str) -> RestApi | None:
        """The API whose gateway responses answer a path no route matches: the public host's choice, else the API
        with the longest common prefix."""
        public = self._public_api(path)
        if public is not None:
            return public
        best, best_len = None, -1
        for api in self.stack.apis:
            for route in api.routes:
                common = len(_common_prefix(route.path, path))
                if common > best_len:
                    best, best_len = api, common
        return best

    # ── API Gateway behaviour ──
    def gateway_response(self, api: RestApi | None, rtype: str, *, status: int | None = None, message: str | None = None) -> Response:
        message = message if message is not None else _DEFAULT_MESSAGE.get(rtype, "error")
        status = status or _DEFAULT_STATUS.get(rtype, 500)
        decl = None
        if api is not None:
            decl = api.gateway_responses.get(rtype) or api.gateway_responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        if decl is None:
            body = json.dumps({"message": message})
            headers: dict[str, str] = {}
        else:
            status = decl.status or status
            template = decl.templates.get("application/json", '{"message":$context.error.messageString}')
            body = template.replace("$context.error.messageString", json.dumps(message)).replace("$context.error.message", message)
            # The only two times a gateway response template can hold (simple substitution, no VTL): epoch
            # milliseconds and the CLF time. The longer name first: one is a prefix of the other.
            now = time.time()
            body = body.replace("$context.requestTimeEpoch", str(int(now * 1000)))
            body = body.replace("$context.requestTime", time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)))
            headers = dict(decl.headers)
        headers.setdefault("x-amzn-ErrorType", rtype)
        # A Content-Type the response declares (ResponseParameters, e.g. courier's application/vnd.api+json) wins.
        declared = next((k for k in headers if k.lower() == "content-type"), None)
        content_type = headers.pop(declared) if declared else "application/json"
        return Response(body, status=status, content_type=content_type, headers=headers)

    def authorize(
        self, request: Request, api: RestApi, route: Route, event: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Response | None]:
        az: Authorizer = route.authorizer  # type: ignore[assignment]
        identity = []
        for name in az.identity_headers:
            value = request.headers.get(name)
            if not value:
                return None, self.gateway_response(api, "UNAUTHORIZED")
            identity.append(value)
        arn = method_arn(api.api_id, api.stage, route.method if route.method != "ANY" else request.method, request.path)
        cache_key = (api.api_id, az.name, *identity)
        now = time.monotonic()
        with self._lock:
            cached = self._auth_cache.get(cache_key)
        if cached and cached[0] > now:
            result = cached[1]
        else:
            out = self.pool.invoke(az.function, authorizer_request_event(event, arn))
            if not out.ok:
                if out.error_message == "Unauthorized":
                    return None, self.gateway_response(api, "UNAUTHORIZED")
                return None, self.gateway_response(api, "AUTHORIZER_FAILURE")
            result = out.payload
            if not isinstance(result, dict) or "policyDocument" not in result or "principalId" not in result:
                return None, self.gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR")
            if az.ttl > 0:
                with self._lock:
                    self._auth_cache[cache_key] = (now + az.ttl, result)
        if not _policy_allows(result["policyDocument"], arn):
            return None, self.gateway_response(api, "ACCESS_DENIED")
        context = {k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v) for k, v in (result.get("context") or {}).items()}
        return {**context, "principalId": result["principalId"], "integrationLatency": 0}, None

    def invoke_route(self, request: Request, api: RestApi, route: Route, params: dict[str, str]) -> Response:
        event = rest_proxy_event(
            request,
            api_id=api.api_id,
            stage=api.stage,
            resource=route.path,
            path_params=params,
            authorizer=None,
            binary_media_types=api.binary_media_types,
        )
        if route.authorizer is not None:
            context, denial = self.authorize(request, api, route, event)
            if denial is not None:
                return denial
            event["requestContext"]["authorizer"] = context
        if request.method == "GET" or (request.method == "POST" and route.path.endswith("search")):
            self.before_read()  # the reads (a search is a read sent as POST)
        out = self.pool.invoke(route.function, event)
        if not out.ok:
            if out.error_type == "Sandbox.Timedout":
                return self.gateway_response(api, "INTEGRATION_TIMEOUT")
            return self.gateway_response(api, "DEFAULT_5XX", status=502, message="Internal server error")
        return self._proxy_response(api, out.payload)

    def _proxy_response(self, api: RestApi | None, result: Any) -> Response:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            return self.gateway_response(api, "DEFAULT_5XX", status=502, message="Internal server error")
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=result["statusCode"])
        response.headers.clear()
        for k, v in (result.get("headers") or {}).items():
            response.headers[k] = str(v)
        for k, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(k)
            for v in values:
                response.headers.add(k, str(v))
        response.headers.setdefault("Content-Type", "application/json")
        return response

    # ── Function URLs ──
    def function_url(self, request: Request) -> Response:
        _, _, rest = request.path.partition("/_url/")
        logical_id, _, sub = rest.partition("/")
        fn = self.function_urls.get(logical_id)
        if fn is None:
            return Response(json.dumps({"Message": "no Function URL for that function"}), status=404, content_type="application/json")
        if fn.url_auth != "NONE":
            return Response(
                json.dumps({"Message": "Forbidden: IAM-authorized Function URLs are not emulated"}),
                status=403,
                content_type="application/json",
            )
        if request.content_length and request.content_length > 6 * 1024 * 1024:
            return Response(
                json.dumps({"Message": "Request must be smaller than 6291456 bytes"}), status=413, content_type="application/json"
            )
        event = function_url_event(request, fn.name[:32].lower(), "/" + sub)
        # Like a real Function URL, say which scheme the caller used; and, unlike one, where the function
        # is mounted here: a signed-URL check (Twilio) rebuilds the URL the caller signed from these.
        event["headers"]["x-forwarded-proto"] = request.scheme
        event["headers"]["x-forwarded-prefix"] = f"/_url/{logical_id}"
        out = self.pool.invoke(fn, event)
        if not out.ok:
            return Response(json.dumps({"Message": "Internal Server Error"}), status=502, content_type="application/json")
        result = out.payload
        if isinstance(result, dict) and "statusCode" in result:
            response = Response(status=int(result["statusCode"]))
            response.headers.clear()
            for k, v in (result.get("headers") or {}).items():
                response.headers[k] = str(v)
            body = result.get("body") or ""
            response.set_data(base64.b64decode(body) if result.get("isBase64Encoded") else body.encode())
            for cookie in result.get("cookies") or []:
                response.headers.add("Set-Cookie", cookie)
            return response
        return Response(json.dumps(result), status=200, content_type="application/json")


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]
