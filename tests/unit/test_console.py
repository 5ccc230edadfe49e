"""The console's webhook ring buffer: bounded, bodies cut, keys redacted, the request passed on intact."""

from __future__ import annotations

import io

from parley_local import console


def _call(app, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "tenant=t1", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "3000", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()}}  # fmt: skip
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h, *_: status.append(s)))
    return status[0], out


def test_webhooks_are_recorded_bounded_cut_and_redacted():
    seen: list[bytes] = []

    def gateway(environ, start_response):
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    c = console.Console(stack=None)
    app = c.wrap(gateway)
    big = b"x" * (console.WEBHOOK_BODY_CHARS + 10)
    assert _call(app, "/_url/TwilioInboundFunction/", big, {"Authorization": "Basic c2VjcmV0"}) == ("200 OK", b"ok")
    assert seen == [big]  # the gateway still gets the whole body
    (entry,) = c._webhooks
    assert entry["path"] == "/_url/TwilioInboundFunction/?tenant=t1" and entry["status"] == 200
    assert entry["truncated"] and len(entry["body"]) == console.WEBHOOK_BODY_CHARS and entry["size"] == len(big)
    assert entry["headers"]["authorization"] == "Basic …(redacted)"

    for i in range(console.MAX_WEBHOOKS + 20):
        _call(app, "/communications/email/v1/events", f"[{i}]".encode())
    assert len(c._webhooks) == console.MAX_WEBHOOKS
    assert c._webhooks[0]["body"] == f"[{console.MAX_WEBHOOKS + 19}]"  # newest first

    _call(app, "/communications/email/v1/send", b"{}")  # an API call is not a webhook
    assert c._webhooks[0]["path"] != "/communications/email/v1/send?tenant=t1"
