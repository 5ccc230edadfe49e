"""The signed callbacks of courier texts (parley.domain.text_callbacks): the documented verification recipe, the
addresses a callback may never reach, and the comparison of replies with expected responses."""

from __future__ import annotations

import hashlib
import hmac
import re
import socket

import pytest

from parley.domain import text_callbacks, texts

SECRET = "whsec_test"


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    from parley.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "unit")
    monkeypatch.delenv("TEXT_CALLBACK_ALLOW", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


BODY = b'{"type":"text-reply","message":"YES"}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    header = text_callbacks.sign(SECRET, 1_800_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"


def test_verify_accepts_the_signature_within_the_tolerance_only():
    header = text_callbacks.sign(SECRET, 1_800_000_000, BODY)
    assert text_callbacks.verify(SECRET, header, BODY, now=1_800_000_100)
    assert not text_callbacks.verify(SECRET, header, BODY, now=1_800_000_301)  # stale: a replay after 5 minutes
    assert not text_callbacks.verify(SECRET, header, BODY + b" ", now=1_800_000_000)  # another body
    assert not text_callbacks.verify("whsec_other", header, BODY, now=1_800_000_000)
    assert not text_callbacks.verify(SECRET, header.replace("t=1800000000", "t=1800000001"), BODY, now=1_800_000_000)
    for broken in ("", "v1=abc", "t=x,v1=abc", "t=1800000000", "t=1,t=2,v1=abc"):
        assert not text_callbacks.verify(SECRET, broken, BODY, now=1_800_000_000)
    # a second v1 (a rotated secret's) is accepted when one matches
    good = header.split("v1=")[1]
    assert text_callbacks.verify(SECRET, f"t=1800000000,v1=deadbeef,v1={good}", BODY, now=1_800_000_000)


@pytest.mark.parametrize(
    "address, why",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (the address under test)
        ("224.0.0.1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_forbidden_addresses(address, why):
    assert why in (text_callbacks.forbidden_address(address) or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert text_callbacks.forbidden_address(address) is None


def test_a_name_is_refused_when_any_of_its_addresses_is_forbidden(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.9", port)),
    ])  # fmt: skip
    with pytest.raises(text_callbacks.Refused, match=re.escape("10.0.0.9")):
        text_callbacks.destination("https://mixed.example/hook")
    for url in ("ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "https://example.com:99999/x"):
        with pytest.raises(text_callbacks.Refused):
            text_callbacks.destination(url)


def test_the_checked_address_is_the_one_connected_to(monkeypatch):
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
    )
    dest = text_callbacks.destination("https://hooks.example/p/a?b=1")
    assert (dest.scheme, dest.host, dest.port, dest.address, dest.target) == ("https", "hooks.example", 443, "93.184.216.34", "/p/a?b=1")


def test_replies_compare_case_and_space_insensitively():
    assert texts.normalized(" y e s\n") == texts.normalized("YES") == "YES"
    assert texts.normalized("No thanks") == "NOTHANKS"


def test_status_ranks_move_forward_only():
    r = texts.STATUS_RANK
    assert r["accepted"] < r["queued"] < r["sending"] < r["sent"] < r["delivered"] < r["read"]
    assert r["delivered"] == r["undelivered"] == r["failed"]  # one final state never replaces another
