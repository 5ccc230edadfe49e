"""Request bodies a JSON route refuses before powertools' validation gets them wrong (found by fuzzing)."""

from __future__ import annotations

import base64
import json

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from helpers import Context, api_event
from parley.api import build_app


class Note(BaseModel):
    title: str


def make_app(family: str = "crm"):
    router = Router()

    @router.post("/notes")
    def create(note: Note) -> dict:
        return {"title": note.title}

    @router.get("/notes")
    def listing() -> dict:
        return {"notes": []}

    return build_app(family, router)


def call(app, method: str, body: str | None, content_type: str | None, *, b64: bool = False, path: str = "/notes") -> tuple[int, dict]:
    event = api_event("crm/send", tenant_id="t1", body=body, headers={"Content-Type": content_type})
    event.update(httpMethod=method, path=path, resource=path, isBase64Encoded=b64, pathParameters=None)
    out = app.resolve(event, Context())
    return out["statusCode"], json.loads(out["body"])


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", '{"title": "x"}'),  # no boundary: powertools raised a bare ValueError (a 500)
        ("application/x-www-form-urlencoded", "title=x"),  # powertools parsed it into the model: it was accepted
        ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n'),
        ("text/plain", '{"title": "x"}'),
    ],
)
def test_a_json_route_refuses_another_declared_media_type_with_415(content_type, body):
    status, out = call(make_app(), "POST", body, content_type)
    assert status == 415
    assert out["detail"] == "Content-Type must be application/json"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", None])
def test_json_and_no_content_type_still_reach_validation(content_type):
    status, out = call(make_app(), "POST", '{"title": "x"}', content_type)
    if content_type == "application/merge-patch+json":  # a +json type powertools does not parse: its own 415
        assert status == 415
    else:
        assert (status, out) == (200, {"title": "x"})


def test_a_body_that_is_not_utf8_is_a_400_not_a_500():
    status, out = call(make_app("candidate"), "POST", base64.b64encode(b'{"title": "\x85"}').decode(), "application/json", b64=True)
    assert status == 400
    assert out == {"status": 400, "message": "request body is not valid JSON (UTF-8)"}


def test_an_unknown_route_with_a_non_json_body_is_a_404_not_a_500():
    status, out = call(make_app("crm"), "PUT", "\x00 not json", "application/json", path="/notes/x")
    assert status == 404
    assert out["detail"] == "no such route"


def test_a_route_without_a_body_model_ignores_a_body():
    assert call(make_app(), "GET", "not json at all", "application/json")[0] == 200
