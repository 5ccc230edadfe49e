"""Field validators: addresses that reach an email header, and single-line header values."""

import pytest

from parley.models.validators import email_address, single_line


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "ada.lovelace@example.co.uk",
        "first+tag@sub.example.org",
        "o'brien@example.ie",
        "x_y-z@ex-ample.io",
        "A1@EXAMPLE.COM",
    ],
)
def test_email_address_accepts_normal_addresses(address):
    assert email_address(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "bad",
        "a@b",
        "a b@c.com",
        "a@b.com\r\nBcc: x@y.com",
        "a@b.com\n",
        "a@b.com\r",
        "a@b.com\x00",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "ada@example..com",
        ".ada@example.com",
        "ada.@example.com",
        '"ada"@example.com',
        "ada@-example.com",
        "ada@example.c",
        "",
    ],
)
def test_email_address_rejects_malformed_and_header_injection(address):
    with pytest.raises(ValueError, match="valid email address"):
        email_address(address)


@pytest.mark.parametrize("value", ["Your interview on Tuesday", "Ünïcödé — ok ✓", "tabs are\u00a0fine as nbsp", "x"])
def test_single_line_accepts_plain_text(value):
    assert single_line(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "Hello\r\nBcc: x@y.com",
        "Hello\rthere",
        "Hello\nthere",
        "Hello\x00there",
        "trailing newline\n",
        "\ttab",
        "delete\x7f",
    ],
)
def test_single_line_rejects_line_breaks_and_control_characters(value):
    with pytest.raises(ValueError, match="line breaks or control characters"):
        single_line(value)


def _address_of_length(n: int) -> str:
    domain = ".".join(["d" * 63] * 3) + ".com"
    return "a" * (n - 1 - len(domain)) + "@" + domain


# ── the one email validator: the forms the CRM's former, looser regex accepted and the candidate API's refused ──
# (that regex took any non-special characters around "@" and one dot in the domain.)
@pytest.mark.parametrize(
    "address",
    [
        "josé@example.com",  # non-ASCII local part: needs SMTPUTF8, which SES and SendGrid do not offer
        "ada@münchen.de",  # a U-label domain: send its punycode form
        "a..b@example.com",
        ".ada@example.com",
        "ada.@example.com",
        "ada@example..com",
        "ada@example.com.",
        "ada@example.c",
        "ada@example.123",
        "ada@192.168.0.1",
        "ada@exa_mple.com",
        "ada@-example.com",
        "ada@example-.com",
        "ada@example.xn--",
        _address_of_length(255),  # RFC 5321: a path is at most 256 octets with its "<" and ">"
        "ada@[192.0.2.1]",  # refused by both: an address literal
        '"ada lovelace"@example.com',  # refused by both: a quoted local part
        " ada@example.com",  # the candidate API does not strip (the CRM's Address strips first)
    ],
)
def test_email_address_refuses_what_the_looser_crm_regex_let_through(address):
    with pytest.raises(ValueError, match="valid email address"):
        email_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "ada@xn--mnchen-3ya.de",
        "ada@example.xn--p1ai",  # an internationalised top-level label, punycode
        "a" * 65 + "@example.com",  # RFC 5321's 64-octet local part is not enforced (decision C10 allows 78 characters)
        _address_of_length(254),
        "!#$%&'*+/=?^_`{|}~-@example.museum",
        "ada@a.b.c.d.example.travel",
        "ADA@EXAMPLE.COM",
    ],
)
def test_email_address_accepts_rfc_5321_dot_strings_up_to_the_limits(address):
    assert email_address(address) == address


def test_the_crm_address_strips_then_applies_the_same_check():
    from pydantic import TypeAdapter, ValidationError

    from parley.models.crm import Address

    crm = TypeAdapter(Address)
    assert crm.validate_python("  ada@example.com\t") == "ada@example.com"
    for address in ("josé@example.com", "a..b@example.com", "ada@example.c", "ada@exa_mple.com", "Ada <ada@example.com>"):
        with pytest.raises(ValidationError, match="must be a valid email address"):
            crm.validate_python(address)
    assert crm.json_schema() == {"format": "email", "type": "string"}
