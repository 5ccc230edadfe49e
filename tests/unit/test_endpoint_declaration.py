"""How a route's declaration becomes its OpenAPI operation (parley.api.endpoint): the docstring, ok= and errors=."""

from __future__ import annotations

import json

import pytest

from parley.api import endpoint as endpoint_mod
from parley.api.docs import candidate_errors, crm_errors
from parley.api.endpoint import Api, Example, family_app


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.setattr(endpoint_mod, "_ENDPOINTS", [])
    monkeypatch.setattr(endpoint_mod, "_snapstart_registered", True)  # no SnapStart hook from these declarations


def test_the_docstring_gives_summary_and_description():
    api = Api("crm")

    @api.get("/things/<id>", ok="The thing.")
    def thing(id: str) -> dict:
        """Get a thing

        The thing `id` of the tenant,
        if it has one.

        A second paragraph.
        """
        return {}

    assert thing.doc["summary"] == "Get a thing"
    assert thing.doc["description"] == "The thing `id` of the tenant, if it has one.\n\nA second paragraph."
    op = json.loads(family_app("crm", [api]).get_openapi_json_schema())["paths"]["/things/{id}"]["get"]
    assert (op["summary"], op["description"]) == ("Get a thing", thing.doc["description"])


def test_a_one_line_docstring_is_the_summary_alone():
    api = Api("candidate")

    @api.get("/things", ok="The things.")
    def things() -> list:
        """List the things"""
        return []

    assert things.doc["summary"] == "List the things" and "description" not in things.doc


def test_arguments_take_the_place_of_the_docstring():
    api = Api("candidate")

    @api.get("/a", summary="Shared summary", ok="A.")
    def a() -> dict:
        """The description, then."""
        return {}

    @api.get("/b", description="Shared description.", ok="B.")
    def b() -> dict:
        """The summary, then"""
        return {}

    assert (a.doc["summary"], a.doc["description"]) == ("Shared summary", "The description, then.")
    assert (b.doc["summary"], b.doc["description"]) == ("The summary, then", "Shared description.")


def test_a_description_given_twice_or_no_summary_is_refused():
    api = Api("candidate")
    with pytest.raises(ValueError, match="both in the docstring and as an argument"):

        @api.get("/a", description="Here.", ok="A.")
        def a() -> dict:
            """Summary

            And here.
            """
            return {}

    with pytest.raises(ValueError, match="no summary"):

        @api.get("/b", ok="B.")
        def b() -> dict:
            return {}


def test_ok_and_errors_make_the_responses_with_the_family_errors():
    crm, candidate = Api("crm"), Api("candidate")

    @crm.post("/send", ok="Sent.", errors=(409, 429))
    def send() -> dict:
        """Send"""
        return {}

    @crm.get("/pixel", responses={200: {"description": "A GIF.", "content": {"image/gif": {}}}}, public=True)
    def pixel():
        """Pixel"""

    @candidate.get("/history", ok="The history.")
    def history() -> dict:
        """History"""
        return {}

    assert send.doc["responses"] == {200: {"description": "Sent."}, **crm_errors(409, 429)}
    assert list(send.doc["responses"]) == [200, 400, 401, 403, 404, 409, 429, 500]
    assert list(pixel.doc["responses"]) == [200, 400, 404, 500], "a public route documents no 401 or 403"
    assert history.doc["responses"] == {200: {"description": "The history."}, **candidate_errors()}


def test_a_route_with_family_errors_must_document_its_success():
    with pytest.raises(ValueError, match="no success response"):

        @Api("crm").get("/x", errors=(409,))
        def x() -> dict:
            """X"""
            return {}


def test_the_ats_family_declares_its_own_errors():
    api = Api("ats")
    with pytest.raises(ValueError, match="no shared error responses"):

        @api.get("/x", ok="X.", errors=(404,))
        def x() -> dict:
            """X"""
            return {}

    @api.get("/y", ok="Y.")
    def y() -> dict:
        """Y"""
        return {}

    assert y.doc["responses"] == {200: {"description": "Y."}}


def test_a_send_documents_idempotency_and_limit_errors():
    api = Api("candidate")

    @api.send("/send", ok="Queued.")
    def send_it() -> dict:
        """Send it"""
        return {}

    assert send_it.method == "POST"
    assert send_it.doc["responses"] == {200: {"description": "Queued."}, **candidate_errors(409, 422, 429)}


def test_the_module_example_fills_in_headers_and_the_path_parameters_a_route_has():
    api = Api("crm", example=Example(headers={"X-User-ID": "u-1"}, path={"id": "i-1", "templateId": "t-1"}))

    @api.get("/things/<id>", ok="A thing.")
    def thing(id: str) -> dict:
        """Thing"""
        return {}

    @api.put("/templates/<templateId>", ok="Put.", example=Example(headers={"X-Extra": "1"}, body={"a": 1}))
    def put_template(templateId: str) -> dict:
        """Put a template"""
        return {}

    @api.get("/things/<id>/other", ok="Other.", example=Example(path={"id": "own"}))
    def other(id: str) -> dict:
        """Other"""
        return {}

    assert (thing.example.path, thing.example.headers) == ({"id": "i-1"}, {"X-User-ID": "u-1"})
    assert put_template.example.path == {"templateId": "t-1"}
    assert put_template.example.headers == {"X-User-ID": "u-1", "X-Extra": "1"} and put_template.example.body == {"a": 1}
    assert other.example.path == {"id": "own"}
    with pytest.raises(ValueError, match="headers, authorizer context and path parameters only"):
        Api("crm", example=Example(body={"a": 1}))
