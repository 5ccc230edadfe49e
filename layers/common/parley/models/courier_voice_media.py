"""The courier voice media (seed 003, issue 20 area C; docs/courier.md "Voice (issue 20)" → "Voice media"):
``voice-recordings``, ``voice-surveys`` and ``tts-synthesizers``. Attribute names are the seed's, dasherized by the
alias generator; the extra ones are ours and documented there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes
from parley.models.numbers import Int32

RECORDINGS = "voice-recordings"
SURVEYS = "voice-surveys"
TTS = "tts-synthesizers"

RecordingState = Literal["completed", "inprogress"]
SurveyState = Literal["completed", "created", "failed", "running"]

MAX_QUESTIONS = 20
MAX_PROMPT = 500
MAX_TTS_TEXT = 3000  # Polly's SynthesizeSpeech limit of plain text characters


class VoiceRecordingAttributes(Attributes):
    """One recording (every attribute of the seed's sample; ``null`` when unknown). ``url``, ``url-expires-at``,
    ``content-type`` and ``call-sid`` are ours: the short-lived link to the audio (only on a get, which counts as a
    download)."""

    created_at: str
    download_count: int = 0
    duration: int | None = None
    individual_id: str | None = None
    last_modified_at: str
    phone_number: str | None = None
    setting_id: str | None = None
    state: RecordingState
    transcription: str | None = None
    call_sid: str | None = None
    content_type: str | None = None
    url: str | None = None
    url_expires_at: str | None = None


Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT)]


class SurveyQuestion(Attributes):
    """A question: ``prompt`` is said; ``input`` is how it is answered (``dtmf`` keys, ``speech``, or both);
    ``num-digits`` ends a keyed answer after that many keys."""

    prompt: Prompt
    input: Literal["dtmf", "speech", "dtmf speech"] = "dtmf"
    num_digits: Annotated[Int32, Field(ge=1, le=20)] | None = None


class SurveySpec(Attributes):
    """The survey's ``spec`` (free-form in the seed; ours): what to call and what to ask."""

    account_id: Id
    phone_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
    from_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)] | None = None
    greeting: Prompt | None = None
    goodbye: Prompt | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[A-Z]{2}$")] = "en-US"
    questions: Annotated[list[SurveyQuestion], Field(min_length=1, max_length=MAX_QUESTIONS)]


class VoiceSurveyCreate(Attributes):
    individual_id: Id | None = None
    organization_id: Id
    spec: SurveySpec


class VoiceSurveyAttributes(Attributes):
    """One survey: the seed's attributes, and ours: ``spec`` (as stored), ``answers`` (one per answered question, in
    order: ``question`` index, ``prompt``, ``digits``, ``speech``, ``answered-at``), ``call-sid``, ``error-message``."""

    created_at: str
    created_by: str | None = None
    individual_id: str | None = None
    organization_id: str
    state: SurveyState
    spec: dict[str, Any]
    answers: list[dict[str, Any]] = Field(default_factory=list)
    call_sid: str | None = None
    error_message: str | None = None
    last_modified_at: str | None = None


class TtsCreate(Attributes):
    locale: Annotated[str, StringConstraints(min_length=2, max_length=16)] = "en-US"
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TTS_TEXT)]


class TtsAttributes(Attributes):
    """The synthesized speech (the seed shows no answer; ours): ``url`` (a pre-signed GET of the MP3, short-lived),
    ``url-expires-at``, ``content-type``, ``voice`` (the Polly voice of the locale), ``characters``, ``cached``
    (the same text and locale was synthesized before: Polly was not asked again)."""

    locale: str
    voice: str
    content_type: str
    characters: int
    url: str
    url_expires_at: str
    cached: bool
