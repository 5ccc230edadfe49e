"""The console's webhook ring buffer: bounded, bodies cut, keys redacted, the request passed on intact."""

from __future__ import annotations

import io

from parley_local import console, ses_simulator


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


def test_a_sent_emails_owner_comes_from_its_tags_and_lookups_per_answer_are_bounded(monkeypatch):
    """The state answer names each outbox email's tenant and message. From the send's tags (SES keeps them) when
    known; otherwise by provider-id lookups over this run's tenants, at most STATE_LOOKUPS per answer (many tenants
    and unknown emails made the answer take longer than the page waits)."""
    from parley.dal import messages

    lookups: list[tuple[str, str]] = []

    def find(tenant_id: str, provider: str, provider_id: str) -> str | None:
        lookups.append((tenant_id, provider_id))
        return None

    monkeypatch.setattr(messages, "find_by_provider_id", find)
    c = console.Console(stack=None)
    for n in range(console.MAX_LOOKUPS):
        c.remember_key(f"t{n}", f"prl_{n}", sender_email="hi@example.com")
    ses_simulator._keep_tags(
        {"EmailTags": [{"Name": "parley_tenant_id", "Value": "t7"}, {"Name": "parley_message_id", "Value": "m-1"}]}, "ses-1"
    )
    assert c._owner_of("ses", "ses-1", "hi@example.com") == ("t7", "m-1")
    assert lookups == []  # no lookup for a tagged send

    c._lookups = console.STATE_LOOKUPS
    for n in range(10):  # unknown emails: each may try every tenant, but one answer stops at the bound
        assert c._owner_of("ses", f"untagged-{n}", "hi@example.com") is None
    assert len(lookups) == console.STATE_LOOKUPS
    assert ("ses", "untagged-9") not in c._owner  # not given up: tried again on the next answer


def test_sent_tags_are_bounded():
    for n in range(ses_simulator.MAX_TAGS + 5):
        ses_simulator._keep_tags({"EmailTags": [{"Name": "k", "Value": str(n)}]}, f"id-{n}")
    assert len(ses_simulator._TAGS) == ses_simulator.MAX_TAGS
    assert ses_simulator.sent_tags("id-0") == {} and ses_simulator.sent_tags(f"id-{ses_simulator.MAX_TAGS + 4}") == {
        "k": str(ses_simulator.MAX_TAGS + 4)
    }
