"""models/phones.e164: one E.164 form for every way a number is written, refusing what cannot be a number."""

from __future__ import annotations

import pytest

from parley.domain import phones as domain_phones
from parley.errors import BadRequest
from parley.models.phones import e164, looks_e164


@pytest.mark.parametrize(
    ("written", "region", "expected"),
    [
        ("(555) 555-0100", "US", "+15555550100"),
        ("5555550100", "US", "+15555550100"),
        ("555.555.0100", "US", "+15555550100"),
        ("1 555 555 0100", "US", "+15555550100"),  # the trunk prefix 1
        ("+15555550100", "US", "+15555550100"),
        ("+1 (555) 555-0100", "GB", "+15555550100"),  # a + number ignores the default country
        ("+15555550100", "", "+15555550100"),
        ("011 44 20 7946 0018", "US", "+442079460018"),  # the US international prefix
        ("020 7946 0018", "GB", "+442079460018"),  # national format with the trunk 0
        ("0044 20 7946 0018", "GB", "+442079460018"),
        ("030 123456", "DE", "+4930123456"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("  +33 6 12 34 56 78 ", "US", "+33612345678"),
        ("5555550100", "us", "+15555550100"),  # the region in any case
    ],
)
def test_written_forms_of_one_number_give_one_e164(written, region, expected):
    assert e164(written, region) == expected
    assert e164(expected) == expected  # idempotent
    assert looks_e164(expected)


@pytest.mark.parametrize(
    "written",
    [
        "",
        "   ",
        "555-0100",  # a local number without its area code
        "12",
        "5555550100999",  # too long for the US
        "+999 555 0100",  # no such country code
        "+1 (555) 555-010",  # too short
        "555-555-0100 ext 12",  # letters (an extension) are not kept
        "1-800-FLOWERS",
        "whatsapp:+15555550100",
        "+",
    ],
)
def test_impossible_numbers_are_refused_with_a_reason(written):
    with pytest.raises(ValueError, match="phone number"):
        e164(written, "US")


def test_a_national_number_needs_a_known_default_country():
    with pytest.raises(ValueError, match="default country 'XX'"):
        e164("5555550100", "XX")
    assert e164("+15555550100", "XX") == "+15555550100"  # unless it carries its country code


def test_the_same_digits_are_different_numbers_in_different_countries():
    assert e164("020 7946 0018", "GB") != e164("020 7946 0018", "DE")


def test_the_domain_says_which_field_is_wrong_as_a_400():
    with pytest.raises(BadRequest) as err:
        domain_phones.require("555-0100", "US")
    assert err.value.status == 400
    assert err.value.message.startswith("phoneNumber: '555-0100' is not a possible phone number for US (+1): ")
    with pytest.raises(BadRequest, match=r"^phone: "):
        domain_phones.require("12", "US", "phone")
    assert domain_phones.optional(None) is None
    assert domain_phones.optional("(555) 555-0100") == "+15555550100"


def test_best_effort_keeps_what_is_no_possible_number_as_sent_without_punctuation():
    assert domain_phones.best_effort("+1 555 555 0100") == "+15555550100"
    assert domain_phones.best_effort("12345") == "12345"  # a short code
    assert domain_phones.best_effort("") == ""
