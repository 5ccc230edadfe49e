"""The comment body of POST /api/v1/communications/{id}/comment: raw text, a JSON string, or a JSON object."""

from __future__ import annotations

import pytest

from parley.domain.crm_edit import MAX_COMMENT, comment_text
from parley.errors import BadRequest


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("string", "string"),  # the seed's curl: -d 'string' with Content-Type application/json
        ("Called the customer; they will reply tomorrow.", "Called the customer; they will reply tomorrow."),
        ('"a JSON string"', "a JSON string"),
        ('"line one\\nline two"', "line one\nline two"),
        ('{"comment": "from comment"}', "from comment"),
        ('{"text": "from text"}', "from text"),
        ('{"description": "from description"}', "from description"),
        ('{"comment": "first wins", "text": "not this"}', "first wins"),
        ('{"text": "text before description", "description": "no"}', "text before description"),
        ("  padded  \r\n", "padded"),
        ("line one\r\nline two\nline three", "line one\r\nline two\nline three"),
        ("{not json, just braces}", "{not json, just braces}"),
        ('"unterminated', '"unterminated'),
        ("[1, 2]", "[1, 2]"),  # only strings and objects are unwrapped
        ("42", "42"),
        ("ünïcödé ✓ 評論", "ünïcödé ✓ 評論"),
        ('  {"comment": "  trimmed inside  "}  ', "trimmed inside"),
    ],
)
def test_comment_text_accepts_raw_text_json_strings_and_objects(body, text):
    assert comment_text(body) == text


def test_a_comment_of_exactly_the_limit_is_accepted():
    assert comment_text("x" * MAX_COMMENT) == "x" * MAX_COMMENT
    assert comment_text('{"comment": "' + "y" * MAX_COMMENT + '"}') == "y" * MAX_COMMENT


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (None, "required"),
        ("", "required"),
        ("   \r\n\t ", "required"),
        ('""', "blank"),
        ('"   "', "blank"),
        ('{"comment": ""}', "blank"),
        ('{"comment": " \\n "}', "blank"),
        ("{}", '"comment", "text" or "description"'),
        ('{"note": "wrong field"}', '"comment", "text" or "description"'),
        ('{"comment": 5}', "comment must be a string"),
        ('{"text": null}', "text must be a string"),
        ('{"description": ["a"]}', "description must be a string"),
        ("z" * (MAX_COMMENT + 1), f"at most {MAX_COMMENT} characters"),
        ('"' + "z" * (MAX_COMMENT + 1) + '"', f"at most {MAX_COMMENT} characters"),
    ],
)
def test_comment_text_refuses_blank_too_long_and_misshapen_bodies(body, detail):
    with pytest.raises(BadRequest) as err:
        comment_text(body)
    assert detail in err.value.message
