"""Reusable field validators (used with ``AfterValidator``)."""

from __future__ import annotations

import re

# addr-spec: a dot-atom local part and a dotted domain; no spaces, no quotes, no control characters.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_EMAIL = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


EMAIL_FORMAT = {"format": "email"}  # what documents an email_address field (json_schema_extra)


def email_address(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be a valid email address")
    return value


_PHONE_NOISE = re.compile(r"[\s().-]")
_PHONE = re.compile(r"\+?[0-9]{4,15}")


def phone_number(value: str) -> str:
    """A phone number, normalised: spaces, dots, dashes and parentheses dropped; digits with an optional +."""
    cleaned = _PHONE_NOISE.sub("", value)
    if not _PHONE.fullmatch(cleaned):
        raise ValueError("must be a phone number: digits with an optional leading +")
    return cleaned


_IDENTIFIER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(value: str) -> bool:
    """C0 and C1 control characters (tab, CR, LF, NUL, DEL, …) and the Unicode line/paragraph separators:
    nothing an identifier (a user id, a tenant id, a path id) may hold."""
    return _IDENTIFIER_CONTROL.search(value) is not None


def single_line(value: str) -> str:
    """Header values (subjects, names) must not carry CR/LF or other control characters."""
    if _CONTROL.search(value):
        raise ValueError("must not contain line breaks or control characters")
    return value
