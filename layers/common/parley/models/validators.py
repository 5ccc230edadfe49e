"""Reusable field validators (used with ``AfterValidator``)."""

from __future__ import annotations

import re

# addr-spec: a dot-atom local part and a dotted domain; no spaces, no quotes, no control characters.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
# The last label: 2..63 letters, or an internationalised one in punycode (``xn--p1ai``, .рф).
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{0,58}[A-Za-z0-9])"
_EMAIL = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3: a path is at most 256 octets, "<" and ">" included


EMAIL_FORMAT = {"format": "email"}  # what documents an email_address field (json_schema_extra)


def email_address(value: str) -> str:
    """Parley's one email-address check (every API family's, decisions C10 and K4): a plain addr-spec as
    RFC 5321 sends it, in the form the seeds' clients (and SES and SendGrid) handle without SMTPUTF8.

    - Accepted: ``local@domain`` where the local part is a Dot-string of ASCII atext (letters, digits,
      ``!#$%&'*+/=?^_`{|}~-``; dots only between characters), and the domain is dotted LDH labels
      (letters, digits, inner hyphens; 1..63 each) ending in a 2..63-letter top-level label; at most 254
      characters in all. An internationalised domain (top-level label included) is accepted in its ASCII,
      punycode ``xn--`` form.
    - Refused: a display name (``Ada <ada@example.com>``), quoted local parts, address literals
      (``ada@[192.0.2.1]``), non-ASCII characters (``josé@…``, ``…@münchen.de``), consecutive, leading or
      trailing dots, a domain without a dot or with a numeric or one-letter last label, underscores in the
      domain, and any whitespace or control character (header injection).

    RFC 5321's 64-octet limit of the local part is not enforced: the candidate API has always accepted a
    longer one within its 78 characters (decision C10), and a provider that refuses it fails that send.
    The value is returned as given (not stripped, not lower-cased)."""
    if len(value) > MAX_ADDRESS or not _EMAIL.fullmatch(value):
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
