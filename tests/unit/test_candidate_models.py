"""SendEmailRequest limits of the candidate API (seed 000): boundaries pass, one beyond fails."""

import pytest
from pydantic import ValidationError

from parley.models.candidate import SendEmailRequest

VALID = {"subject": "Hello", "emailContent": "Hi Ada", "toEmail": "ada@example.com"}


def _email_of_length(n: int) -> str:
    """A valid address of exactly n characters (n >= 8)."""
    domain = "@ex.com"
    return "a" * (n - len(domain)) + domain


def _errors(**fields):
    with pytest.raises(ValidationError) as exc:
        SendEmailRequest(**{**VALID, **fields})
    return exc.value.errors()


@pytest.mark.parametrize("length", [3, 78])
def test_subject_length_boundaries_pass(length):
    req = SendEmailRequest(**{**VALID, "subject": "s" * length})
    assert len(req.subject) == length


@pytest.mark.parametrize(("length", "kind"), [(2, "string_too_short"), (79, "string_too_long")])
def test_subject_one_beyond_the_limits_fails(length, kind):
    errors = _errors(subject="s" * length)
    assert [(e["loc"], e["type"]) for e in errors] == [(("subject",), kind)]


def test_subject_length_counts_characters_not_bytes():
    subject = "é" * 78  # 156 bytes in UTF-8
    assert SendEmailRequest(**{**VALID, "subject": subject}).subject == subject


def test_to_email_length_boundaries():
    # 3 characters is the declared minimum, but no 3-character string is a valid address:
    # the length check passes and the address check refuses it.
    errors = _errors(toEmail="a@b")
    assert [(e["loc"], e["type"]) for e in errors] == [(("toEmail",), "value_error")]
    assert SendEmailRequest(**{**VALID, "toEmail": _email_of_length(78)}).toEmail == _email_of_length(78)


@pytest.mark.parametrize(("value", "kind"), [("ab", "string_too_short"), (_email_of_length(79), "string_too_long")])
def test_to_email_one_beyond_the_limits_fails(value, kind):
    errors = _errors(toEmail=value)
    assert [(e["loc"], e["type"]) for e in errors] == [(("toEmail",), kind)]


@pytest.mark.parametrize("length", [3, 524288])
def test_email_content_length_boundaries_pass(length):
    assert len(SendEmailRequest(**{**VALID, "emailContent": "c" * length}).emailContent) == length


@pytest.mark.parametrize(("length", "kind"), [(2, "string_too_short"), (524289, "string_too_long")])
def test_email_content_one_beyond_the_limits_fails(length, kind):
    errors = _errors(emailContent="c" * length)
    assert [(e["loc"], e["type"]) for e in errors] == [(("emailContent",), kind)]


def test_email_content_may_span_lines_but_subject_may_not():
    assert SendEmailRequest(**{**VALID, "emailContent": "line 1\r\nline 2"}).emailContent == "line 1\r\nline 2"
    errors = _errors(subject="line 1\r\nBcc: x@y.com")
    assert [e["loc"] for e in errors] == [("subject",)]


def test_all_three_fields_are_required_and_unknown_fields_ignored():
    with pytest.raises(ValidationError) as exc:
        SendEmailRequest()
    assert sorted(e["loc"][0] for e in exc.value.errors() if e["type"] == "missing") == ["emailContent", "subject", "toEmail"]
    req = SendEmailRequest(**VALID, cc="x@y.com")
    assert not hasattr(req, "cc")
