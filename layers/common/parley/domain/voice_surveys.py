"""Voice surveys (issue 20, area C; docs/courier.md "Voice (issue 20)" → "Voice media").

A survey is an outbound call to an individual whose TwiML asks each question with a ``<Gather>`` and records each
answer per question. Creating one stores it (``created``) and asks Twilio for the call (``POST …/Calls.json`` with the
spec's text account, from one of its numbers, to ``spec.phone-number``): the survey is ``running`` with the call's
sid, or ``failed`` with Twilio's word in ``error-message``. Twilio fetches the TwiML from ``VoiceCallbackFunction``
(area A; path ``/survey/<id>``, ``VOICE_CALLBACK_URL``), which checks the signature and calls :func:`twiml` (the call
is answered: no ``question`` in the form) or :func:`apply_answer` (a Gather's action: ``question=<index>`` in the
action URL's query, passed in ``params``). Its status events (``/survey/<id>/status``) go to :func:`call_ended`.

States move forward only: created → running → completed | failed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import voice_media as store
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.courier_voice_media import SurveySpec, VoiceSurveyAttributes, VoiceSurveyCreate

logger = Logger(child=True)

GATHER_TIMEOUT = 8  # seconds Twilio waits for an answer
FAILED_CALL = ("busy", "no-answer", "failed", "canceled")


def callback_url() -> str:
    """The voice callbacks' base (``VoiceCallbackFunction``'s Function URL): 503 when the deployment lacks it."""
    from parley.domain import voice_lines

    return voice_lines.callback_base()


def survey_url(tenant_id: str, account_id: str, survey_id: str, *, status: bool = False, question: int | None = None) -> str:
    """Where Twilio fetches the survey's TwiML (``/survey/<id>``), posts an answer (``?question=<n>``) or the call's
    status (``/survey/<id>/status``): VoiceCallbackFunction's URL with the tenant and account it checks the signature
    with (``voice_lines.callback_url``)."""
    from parley.domain import voice_lines

    extra = {"question": str(question)} if question is not None else None
    return voice_lines.callback_url("survey", tenant_id, account_id, sub=f"{survey_id}/status" if status else survey_id, extra=extra)


def _pointer(member: str) -> str:
    return f"/data/attributes/spec/{member}"


def view(stored: dict[str, Any]) -> VoiceSurveyAttributes:
    answers = stored.get("answers") or {}
    return VoiceSurveyAttributes(
        created_at=stored["created_at"],
        created_by=stored.get("created_by"),
        individual_id=stored.get("individual_id"),
        organization_id=stored["organization_id"],
        state=stored["state"],
        spec=stored.get("spec") or {},
        answers=[answers[k] for k in sorted(answers, key=int)],
        call_sid=stored.get("call_sid"),
        error_message=stored.get("error_message"),
        last_modified_at=stored.get("last_modified_at"),
    )


def create(
    tenant_id: str, user_id: str | None, individual_id: str, region: str, attrs: VoiceSurveyCreate
) -> tuple[str, VoiceSurveyAttributes]:
    from parley.dal import text_numbers as numbers_store
    from parley.domain import channels, text_numbers
    from parley.providers import twilio_rest

    channels.require_organization(tenant_id, attrs.organization_id, pointer="/data/attributes/organization-id")
    spec: SurveySpec = attrs.spec
    account = numbers_store.get_account(tenant_id, spec.account_id)
    if account is None:
        raise NotFound(f"no text-account {spec.account_id!r}", pointer=_pointer("account-id"), code="not-found")
    if account["organization_id"] != attrs.organization_id:
        raise Unprocessable("the text-account is another organization's", pointer=_pointer("account-id"), code="account-mismatch")
    to = text_numbers.e164(spec.phone_number, region, pointer=_pointer("phone-number"))
    if spec.from_number:
        wanted = text_numbers.e164(spec.from_number, region, pointer=_pointer("from-number"))
        if not any(n["phone_number"] == wanted for n in numbers_store.account_numbers(tenant_id, spec.account_id)):
            raise Unprocessable(
                "from-number is not a number of the text-account", pointer=_pointer("from-number"), code="not-account-number"
            )
        sender = wanted
    else:
        sender = text_numbers.sender_for(tenant_id, spec.account_id, user_id, to).phone_number
    callback_url()  # 503 before anything is stored when the deployment has no callback URL
    survey_id = new_id()
    now = clock.iso(clock.now())
    stored_spec = spec.model_dump(by_alias=True, exclude_none=True) | {"phone-number": to, "from-number": sender}
    store.put_survey(
        tenant_id,
        survey_id,
        {
            "organization_id": attrs.organization_id,
            "individual_id": individual_id,
            "created_by": user_id,
            "created_at": now,
            "last_modified_at": now,
            "state": "created",
            "spec": stored_spec,
            "account_id": spec.account_id,
        },
    )
    try:
        sid, token = text_numbers.account_auth(tenant_id, spec.account_id)
        call = twilio_rest.create_call(
            sid,
            token,
            to=to,
            from_=sender,
            url=survey_url(tenant_id, spec.account_id, survey_id),
            status_callback=survey_url(tenant_id, spec.account_id, survey_id, status=True),
        )
    except (twilio_rest.TwilioError, NotFound) as err:
        message = getattr(err, "message", None) or str(err)
        store.move_survey(
            tenant_id,
            survey_id,
            to="failed",
            from_states=("created",),
            now=clock.iso(clock.now()),
            extra={"error_message": f"Twilio could not start the call: {message}"[:1000]},
        )
    else:
        store.move_survey(
            tenant_id, survey_id, to="running", from_states=("created",), now=clock.iso(clock.now()), extra={"call_sid": str(call["sid"])}
        )
    return survey_id, view(stored(tenant_id, survey_id, consistent=True))


def stored(tenant_id: str, survey_id: str, *, consistent: bool = False, individual_id: str | None = None) -> dict[str, Any]:
    found = store.get_survey(tenant_id, survey_id, consistent=consistent)
    if found is None or (individual_id and found.get("individual_id") != individual_id):
        raise NotFound(f"no voice-survey {survey_id!r}", code="not-found")
    return found


def get(tenant_id: str, survey_id: str, *, individual_id: str | None = None) -> tuple[str, VoiceSurveyAttributes]:
    return survey_id, view(stored(tenant_id, survey_id, individual_id=individual_id))


def page(
    tenant_id: str, organization_id: str, *, individual_id: str | None, states: list[str] | None, offset: int, limit: int
) -> tuple[list[tuple[str, VoiceSurveyAttributes]], int]:
    from parley.domain import channels

    channels.require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.survey_page(tenant_id, organization_id, individual_id=individual_id, states=states, offset=offset, limit=limit)
    return [(i["id"], view(i)) for i in items], total


# ── Twilio's side (VoiceCallbackFunction) ──


def _hangup(text: str | None = None, language: str = "en-US") -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    if text:
        response.say(text, language=language)
    response.hangup()
    return str(response)


def _ask(survey: dict[str, Any], index: int, *, greeting: bool) -> str:
    """The TwiML asking question ``index``: its Gather (the answer posted to ``?question=<index>``), then a redirect
    to the same action with no input (Twilio follows it when nobody answers: the question is recorded as skipped)."""
    from twilio.twiml.voice_response import VoiceResponse

    spec = survey.get("spec") or {}
    language = spec.get("language") or "en-US"
    question = spec["questions"][index]
    action = survey_url(survey["tenant_id"], survey["account_id"], survey["id"], question=index)
    response = VoiceResponse()
    if greeting and spec.get("greeting"):
        response.say(spec["greeting"], language=language)
    options: dict[str, Any] = {
        "input": question.get("input") or "dtmf",
        "action": action,
        "method": "POST",
        "timeout": GATHER_TIMEOUT,
        "language": language,
    }
    if question.get("num-digits"):
        options["num_digits"] = int(question["num-digits"])
    gather = response.gather(**options)
    gather.say(question["prompt"], language=language)
    response.redirect(action, method="POST")
    return str(response)


def _next(survey: dict[str, Any], *, greeting: bool) -> str:
    spec = survey.get("spec") or {}
    answers = survey.get("answers") or {}
    for index in range(len(spec.get("questions") or [])):
        if str(index) not in answers:
            return _ask(survey, index, greeting=greeting)
    now = clock.iso(clock.now())
    store.move_survey(survey["tenant_id"], survey["id"], to="completed", from_states=("created", "running"), now=now)
    return _hangup(spec.get("goodbye") or "Thank you. Goodbye.", spec.get("language") or "en-US")


def twiml(tenant_id: str, survey_id: str, params: dict[str, str]) -> str:
    """The TwiML (XML) that opens the survey call: the greeting and the first unanswered question's ``<Gather>``.

    ``params`` is Twilio's voice webhook form (``CallSid``, ``CallStatus``, …). An unknown survey, or one already
    completed or failed, answers a ``<Hangup/>`` document (never raises for a well-formed request).
    """
    survey = store.get_survey(tenant_id, survey_id, consistent=True)
    if survey is None or survey.get("state") in ("completed", "failed"):
        return _hangup()
    if survey.get("state") == "created":
        store.move_survey(
            tenant_id,
            survey_id,
            to="running",
            from_states=("created",),
            now=clock.iso(clock.now()),
            extra={"call_sid": params.get("CallSid") or ""},
        )
    return _next(survey, greeting=True)


def apply_answer(tenant_id: str, survey_id: str, params: dict[str, str]) -> str:
    """Record the answer Twilio gathered and answer the TwiML for the next question (or the goodbye and hangup).

    ``params`` is the Gather action's form: ``Digits`` and/or ``SpeechResult`` (``Confidence``), ``CallSid``; the
    question answered is named by the action URL's query (``question=<index>``), which the callback function passes
    in ``params`` as ``question``. Neither Digits nor SpeechResult (the redirect after a silent Gather) records the
    question as skipped. Idempotent per (survey, question): a repeated answer does not replace the first.
    """
    survey = store.get_survey(tenant_id, survey_id, consistent=True)
    if survey is None or survey.get("state") in ("completed", "failed"):
        return _hangup()
    questions = (survey.get("spec") or {}).get("questions") or []
    raw = (params.get("question") or "").strip()
    if not raw.isdigit() or int(raw) >= len(questions):
        logger.warning("survey answer without a known question", extra={"survey_id": survey_id, "question": raw[:20]})
        return _next(survey, greeting=False)
    index = int(raw)
    digits = (params.get("Digits") or "").strip()[:64] or None
    speech = (params.get("SpeechResult") or "").strip()[:2000] or None
    now = clock.iso(clock.now())
    answer = {
        "question": index,
        "prompt": questions[index].get("prompt"),
        "digits": digits,
        "speech": speech,
        "skipped": digits is None and speech is None,
        "answered-at": now,
        "call-sid": params.get("CallSid"),
    }
    if store.put_answer(tenant_id, survey_id, index, {k: v for k, v in answer.items() if v is not None}, now):
        survey.setdefault("answers", {})[str(index)] = answer
    else:
        survey = store.get_survey(tenant_id, survey_id, consistent=True) or survey
    return _next(survey, greeting=False)


def call_ended(tenant_id: str, survey_id: str, params: dict[str, str]) -> None:
    """The survey call's status event (``CallStatus``): a call that could not be made (busy, no-answer, failed,
    canceled), or that completed before every question was answered, makes a running survey ``failed`` with why."""
    status = params.get("CallStatus") or ""
    survey = store.get_survey(tenant_id, survey_id, consistent=True)
    if survey is None or survey.get("state") not in ("created", "running"):
        return
    answered = len(survey.get("answers") or {})
    asked = len((survey.get("spec") or {}).get("questions") or [])
    if status in FAILED_CALL:
        reason = f"the call ended: {status}"
    elif status == "completed" and answered < asked:
        reason = f"the call ended after {answered} of {asked} answers"
    else:
        return
    store.move_survey(
        tenant_id, survey_id, to="failed", from_states=("created", "running"), now=clock.iso(clock.now()), extra={"error_message": reason}
    )


PURGED_REASON = "the person's data was purged"


def person_numbers(tenant_id: str, individual_ids: set[str]) -> set[str]:
    """The numbers the individuals' surveys called (theirs: the purge erases them wherever voice items hold them)."""
    return {
        str((s.get("spec") or {}).get("phone-number"))
        for i in sorted(individual_ids)
        for s in store.surveys_of(tenant_id, i)
        if (s.get("spec") or {}).get("phone-number")
    }


def purge(tenant_id: str, *, individual_ids: set[str], numbers: set[str]) -> dict[str, int]:
    """Anonymise a person's surveys (``parley.domain.purge``): a survey of one of their individuals, or that called
    one of ``numbers``, keeps its organization, questions, state and times but loses the number called
    (``spec.phone-number``), every answer, the individual when it is theirs (with the index keys naming them), and
    the numbers in its ``error-message``; one still ``created``/``running`` becomes ``failed`` (its call's further
    callbacks then hang up and store nothing). A second run finds nothing (the index keys are gone)."""
    done = {"voice_surveys": 0}
    found: dict[str, dict[str, Any]] = {}
    for individual_id in sorted(individual_ids):
        found |= {s["id"]: s for s in store.surveys_of(tenant_id, individual_id)}
    for number in sorted(numbers):
        found |= {s["id"]: s for s in store.surveys_with(tenant_id, number)}
    for survey_id, survey in sorted(found.items()):
        spec = dict(survey.get("spec") or {})
        called = spec.pop("phone-number", None)
        changes: dict[str, Any] = {"spec": spec, "answers": {}, "last_modified_at": clock.iso(clock.now())}
        remove = ["GSI5PK", "GSI5SK"]
        if survey.get("individual_id") in individual_ids:
            remove += ["individual_id", "GSI4PK", "GSI4SK"]
        message = survey.get("error_message")
        for value in sorted({n for n in (*numbers, called) if n}, key=len, reverse=True):
            message = message.replace(value, "[purged]") if isinstance(message, str) else message
        if survey.get("state") in ("created", "running"):
            changes |= {"state": "failed", "error_message": PURGED_REASON}
        elif message != survey.get("error_message"):
            changes["error_message"] = message
        if store.forget_in_survey(tenant_id, survey_id, changes, remove):
            done["voice_surveys"] += 1
    return done
