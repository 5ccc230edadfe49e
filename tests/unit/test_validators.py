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
