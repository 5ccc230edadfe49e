"""The fake Twilio REST API the tests start (``FakeTwilio().start()``): it lives in the local stack's package
(``parley_local.fake_twilio``), which also runs one inside ``make run``."""

from parley_local.fake_twilio import FakeTwilio, Recorded

__all__ = ["FakeTwilio", "Recorded"]
