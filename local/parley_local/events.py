"""API Gateway REST proxy (v1), REQUEST-authorizer and Function URL (v2) events, as AWS builds them."""

from __future__ import annotations

import base64
import fnmatch
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request

from parley_local.templates import ACCOUNT, REGION


def _is_binary(content_type: str, binary_media_types: list[str]) -> bool:
    """API Gateway passes a body through as bytes (base64 in the event) when its Content-Type matches
    one of the API's binary media types (``*`` wildcards allowed)."""
    mtype = content_type.split(";")[0].strip().lower()
    return any(fnmatch.fnmatchcase(mtype, pattern.lower()) for pattern in binary_media_types)


def _body(request: Request, binary_media_types: list[str] = ()) -> tuple[str | None, bool]:  # type: ignore[assignment]
    raw = request.get_data(cache=True)
    if not raw:
        return None, False
    if _is_binary(request.headers.get("Content-Type", ""), list(binary_media_types)):
        return base64.b64encode(raw).decode(), True
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), True


def _multi(items: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not items:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for k, v in items:
        single[k] = v  # API Gateway keeps the last value in the single-value map
        multi.setdefault(k, []).append(v)
    return single, multi


def method_arn(api_id: str, stage: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}/{method}{path}"


def rest_proxy_event(
    request: Request,
    *,
    api_id: str,
    stage: str,
    resource: str,
    path_params: dict[str, str],
    authorizer: dict[str, Any] | None,
    binary_media_types: list[str] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    # API Gateway adds X-Forwarded-Proto (and -For, -Port) to what it passes on.
    items = [(k, v) for k, v in request.headers.items() if k.lower() != "x-forwarded-proto"] + [("X-Forwarded-Proto", request.scheme)]
    headers, mv_headers = _multi(items)
    query, mv_query = _multi(list(request.args.items(multi=True)))
    body, is_b64 = _body(request, binary_media_types)
    now = time.time()
    ctx: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": api_id,
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0],
        "extendedRequestId": uuid.uuid4().hex[:16],
        "httpMethod": request.method,
        "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string or None},
        # The path as the client called it: locally the API is served at the root, as behind a custom
        # domain with no base path (execute-api URLs put /{stage} in front).
        "path": request.path,
        "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        "requestId": str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": uuid.uuid4().hex[:6],
        "resourcePath": resource,
        "stage": stage,
    }
    if authorizer is not None:
        ctx["authorizer"] = authorizer
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": mv_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": mv_query,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": ctx,
        "body": body,
        "isBase64Encoded": is_b64,
    }


def authorizer_request_event(proxy_event: dict[str, Any], arn: str) -> dict[str, Any]:
    ev = {
        k: proxy_event[k]
        for k in (
            "resource",
            "path",
            "httpMethod",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "pathParameters",
            "stageVariables",
        )
    }
    ctx = {k: v for k, v in proxy_event["requestContext"].items() if k != "authorizer"}
    return {"type": "REQUEST", "methodArn": arn, **ev, "requestContext": ctx}


def function_url_event(request: Request, url_id: str, path: str) -> dict[str, Any]:
    body, is_b64 = _body(request)
    headers: dict[str, str] = {}
    for k, v in request.headers.items():
        k = k.lower()
        headers[k] = f"{headers[k]},{v}" if k in headers else v
    query = request.query_string.decode()
    qsp: dict[str, str] = {}
    for k, v in request.args.items(multi=True):
        qsp[k] = f"{qsp[k]},{v}" if k in qsp else v
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": f"{url_id}.lambda-url.{REGION}.on.aws",
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if qsp:
        event["queryStringParameters"] = qsp
    if body is not None:
        event["body"] = body
    cookies = request.headers.get("cookie")
    if cookies:
        event["cookies"] = [c.strip() for c in cookies.split(";")]
    return event
