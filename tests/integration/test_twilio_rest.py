"""The Twilio REST calls of texting (parley/providers/twilio_rest.py) against the fake Twilio: what each sends (auth,
form, query), what it returns, and how a refusal, a failure and an unreachable Twilio are told apart."""

from __future__ import annotations

import socket

import pytest
from fakes.twilio_api import FakeTwilio


@pytest.fixture
def twilio(monkeypatch):
    from parley.settings import get_settings

    fake = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_API_URL", fake.url)
    monkeypatch.delenv("TWILIO_LOOKUP_URL", raising=False)
    monkeypatch.setenv("TABLE_NAME", "unused")  # the settings require one; no table is touched here
    get_settings.cache_clear()
    yield fake
    fake.stop()
    get_settings.cache_clear()


def test_subaccount_number_and_lookup(twilio):
    from parley.providers import twilio_rest

    main, token = twilio.add_account()
    sid, sub_token = twilio_rest.create_subaccount(main, token, "parley t1 a1")
    assert twilio.subaccounts[sid]["owner_account_sid"] == main and twilio.subaccounts[sid]["auth_token"] == sub_token
    assert twilio.subaccounts[sid]["friendly_name"] == "parley t1 a1"
    offer = twilio_rest.available_number(sid, sub_token, "303")
    assert offer["phone_number"].startswith("+1303555") and offer["capabilities"]["SMS"] is True
    bought = twilio_rest.buy_number(sid, sub_token, offer["phone_number"], sms_url="https://in.example/", status_url="https://st.example/")
    assert bought["sms_url"] == "https://in.example/" and bought["status_callback"] == "https://st.example/"
    assert twilio_rest.available_number(sid, sub_token, "303")["phone_number"] != offer["phone_number"]  # sold
    with pytest.raises(twilio_rest.TwilioError) as taken:
        twilio_rest.buy_number(sid, sub_token, offer["phone_number"], sms_url="https://in.example/", status_url="https://st.example/")
    assert (taken.value.status, taken.value.code) == (400, 21422)
    twilio.sold_out.add("303")
    assert twilio_rest.available_number(sid, sub_token, "303") is None
    answer = twilio_rest.lookup(sid, sub_token, "+15555550102")
    assert answer["valid"] is True and answer["line_type_intelligence"]["type"] == "nonFixedVoip"
    assert twilio_rest.lookup(sid, sub_token, "+1555")["valid"] is False


def test_refusals_failures_and_an_unreachable_twilio(twilio, monkeypatch):
    from parley.providers import twilio_rest
    from parley.settings import get_settings

    main, token = twilio.add_account()
    with pytest.raises(twilio_rest.TwilioError) as wrong:
        twilio_rest.create_subaccount(main, "not-the-token", "x")
    assert (wrong.value.status, wrong.value.code) == (401, 20003) and twilio.subaccounts == {}
    sid, sub_token = twilio_rest.create_subaccount(main, token, "x")
    with pytest.raises(twilio_rest.TwilioError) as nested:
        twilio_rest.create_subaccount(sid, sub_token, "a subaccount's subaccount")
    assert nested.value.status == 403
    twilio.fail_next(503, 20503, "Service Unavailable")
    with pytest.raises(twilio_rest.TwilioError) as failed:
        twilio_rest.lookup(main, token, "+15555550100")
    assert failed.value.status == 503 and "Service Unavailable" in failed.value.message
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TWILIO_API_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    with pytest.raises(twilio_rest.TwilioError) as unreachable:
        twilio_rest.lookup(main, token, "+15555550100")
    assert unreachable.value.status == 0 and "unreachable" in unreachable.value.message
    monkeypatch.setenv("TWILIO_API_URL", "file:///etc/passwd")
    get_settings.cache_clear()
    with pytest.raises(twilio_rest.TwilioError):
        twilio_rest.lookup(main, token, "+15555550100")
