"""API keys: hashing, Bearer parsing, generation (no AWS)."""

import hashlib
import re

import pytest

from parley.domain.auth import KEY_PREFIX, api_key, bearer_token, hash_key, new_key


def test_hash_key_is_deterministic_sha256_and_not_the_key():
    key = "prl_abcdef0123456789"
    digest = hash_key(key)
    assert digest == hash_key(key)
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert key not in digest
    assert hash_key(key + "x") != digest


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer prl_abc", "prl_abc"),
        ("bearer prl_abc", "prl_abc"),
        ("BEARER prl_abc", "prl_abc"),
        ("  Bearer prl_abc  ", "prl_abc"),
        ("Bearer   prl_abc", "prl_abc"),
    ],
)
def test_bearer_token_parses(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   ", "prl_abc", "Basic prl_abc", "Token prl_abc", "Bearer", "Bearer ", "Bearer    "])
def test_bearer_token_rejects(header):
    assert bearer_token(header) is None


def test_new_key_prefix_length_and_uniqueness():
    keys = {new_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith(KEY_PREFIX)
        # 32 random bytes, base64url without padding → 43 characters
        assert re.fullmatch(r"prl_[A-Za-z0-9_-]{43}", key), key


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer prl_abc", "prl_abc"),
        ("prl_abc", "prl_abc"),  # the seeds' ``Authorization: string``: the bare key
        ("  prl_abc\t", "prl_abc"),
        ("Basic YXBpa2V5OnBybF9hYmM=", "prl_abc"),  # apikey:prl_abc (SendGrid's URL credentials)
        (None, None),
        ("", None),
        ("abc", None),  # not a Parley key
        ("prl_abc prl_def", None),
        ("Token prl_abc", None),
        ("prl_a\x01b", None),
    ],
)
def test_api_key_takes_bearer_bare_and_basic(header, key):
    assert api_key(header) == key
