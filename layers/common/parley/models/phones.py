"""Phone numbers in E.164 (``+15555550100``): the one form every stored key and lookup uses.

``e164`` parses with Google's libphonenumber (the ``phonenumbers`` package, shipped as ``phonenumberslite``: the
same parser without the geocoding/carrier/time-zone data). A number written with a leading ``+`` (or an
international prefix such as ``00``/``011``) is read as international; any other is read in the tenant's default
country (the tenant setting ``default_country``, ``US`` unless set). A number that cannot be a phone number of
its country (wrong length, unknown country code, letters, an extension) is refused with a ``ValueError``.

The check is libphonenumber's *possible* (the length fits the country's numbering plan), not *valid* (the
number is in an assigned range): validity follows range allocations that change with every metadata release,
and keys must not; the fictional 555-01xx numbers used in tests and demos are possible but not valid. A number
that is possible but not assigned is refused by the carrier at dispatch, as before.

``phonenumbers`` costs about 30 ms to import (its package ``__init__`` imports the as-you-type formatter and the
matcher, and compiles the metadata's regular expressions): it is imported on the first call, so only a function
that handles a phone number pays for it, once per process (``prime()`` does it ahead, e.g. before a snapshot).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

DEFAULT_REGION = "US"
REGION_PATTERN = r"^[A-Z]{2}$"  # an ISO 3166-1 alpha-2 code, as libphonenumber names regions

_ALLOWED = re.compile(r"\+?[0-9\s().\-/]+")  # digits and the punctuation people write numbers with
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def _lib() -> Any:
    import phonenumbers  # lazy: ~30 ms of import, paid only by the functions that handle phone numbers

    return phonenumbers


def prime() -> None:
    """Import the parser and load the default region's metadata now (a warm-up hook), not on the first request."""
    e164("+12015550123")


def supported_region(region: str) -> bool:
    """Whether libphonenumber knows ``region`` (``US``, ``GB``, …) as a country to read national numbers in."""
    return region in _lib().SUPPORTED_REGIONS


def looks_e164(value: str) -> bool:
    """Already written as E.164 (``+`` and 2..15 digits, no punctuation): not proof that the number is possible."""
    return _E164.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def e164(value: str, default_region: str = DEFAULT_REGION) -> str:
    """``value`` as E.164, read in ``default_region`` unless it is written internationally; ``ValueError`` (with a
    readable message) when it is not a possible phone number. Idempotent: ``e164(e164(x)) == e164(x)``."""
    text = (value or "").strip()
    if not text or not _ALLOWED.fullmatch(text):
        raise ValueError(f"{value!r} is not a phone number: digits, with an optional leading + and spaces, dots, dashes or parentheses")
    region = (default_region or DEFAULT_REGION).upper()
    lib = _lib()
    if not text.startswith("+") and region not in lib.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} has no country code (+…) and the default country {region!r} is not a known country")
    try:
        parsed = lib.parse(text, None if text.startswith("+") else region)
    except lib.NumberParseException as err:
        raise ValueError(f"{value!r} is not a phone number ({_reason(err)})") from None
    possible = lib.is_possible_number_with_reason(parsed)
    if possible != lib.ValidationResult.IS_POSSIBLE:
        where = f"+{parsed.country_code}" if text.startswith("+") else f"{region} (+{parsed.country_code})"
        raise ValueError(f"{value!r} is not a possible phone number for {where}: {_LENGTH.get(possible, 'wrong length')}")
    return lib.format_number(parsed, lib.PhoneNumberFormat.E164)


_LENGTH = {
    1: "it has no country code that exists",  # INVALID_COUNTRY_CODE
    2: "too short",  # TOO_SHORT
    3: "too long",  # TOO_LONG
    4: "a local number without its area code",  # IS_POSSIBLE_LOCAL_ONLY
    5: "its length is not used in that country",  # INVALID_LENGTH
}


def _reason(err: Exception) -> str:
    return str(getattr(err, "_msg", "") or err).strip().rstrip(".") or "unreadable"
