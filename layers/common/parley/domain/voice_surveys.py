"""Voice surveys (issue 20, area C; docs/courier.md "Voice (issue 20)" → "Voice media").

A survey is an outbound call to an individual whose TwiML asks each question with a ``<Gather>`` and records each
answer per question. Twilio fetches the TwiML from ``VoiceCallbackFunction`` (area A; path ``/survey/<id>``), which
checks the signature and calls :func:`twiml` (the call is answered) or :func:`apply_answer` (a Gather's action).
"""

from __future__ import annotations


def twiml(tenant_id: str, survey_id: str, params: dict[str, str]) -> str:
    """The TwiML (XML) that opens the survey call: the first unanswered question's ``<Gather>``.

    ``params`` is Twilio's voice webhook form (``CallSid``, ``CallStatus``, …). An unknown survey answers a polite
    ``<Hangup/>`` document (never raises for a well-formed request).
    """
    raise NotImplementedError


def apply_answer(tenant_id: str, survey_id: str, params: dict[str, str]) -> str:
    """Record the answer Twilio gathered and answer the TwiML for the next question (or the goodbye and hangup).

    ``params`` is the Gather action's form: ``Digits`` and/or ``SpeechResult``, ``CallSid``; the question answered is
    named by the action URL's query (``question=<index>``), which the callback function passes in ``params`` as
    ``question``. Idempotent per (survey, question): a repeated answer does not add a second one.
    """
    raise NotImplementedError
