"""Text to speech (``POST /v1/tts-synthesizers/``; docs/courier.md "Voice (issue 20)" → "Voice media").

The text is said by the locale's Polly voice (``parley.providers.polly.VOICES``) as MP3, kept in the body bucket at
``tts/<tenant>/<sha256 of voice and text>.mp3`` (the same text in the same voice is synthesized once: later requests
find the object and answer a new link), and answered as a short-lived pre-signed GET link.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from parley import clock
from parley.dal import voice_media as store
from parley.errors import ParleyError, Unprocessable
from parley.models.courier_voice_media import TtsAttributes, TtsCreate

LINK_SECONDS = 900
CONTENT_TYPE = "audio/mpeg"


class BadGateway(ParleyError):
    status = 502


def synthesize(tenant_id: str, attrs: TtsCreate) -> tuple[str, TtsAttributes]:
    from parley.providers import polly

    voice = polly.VOICES.get(attrs.locale)
    if voice is None:
        raise Unprocessable(
            f"locale {attrs.locale!r} has no voice here (one of {', '.join(sorted(polly.VOICES))})",
            pointer="/data/attributes/locale",
            code="unsupported-locale",
        )
    text = attrs.text.strip()
    if not text:
        raise Unprocessable("text is blank", pointer="/data/attributes/text", code="blank-text")
    digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()
    key = f"tts/{tenant_id}/{digest}.mp3"
    cached = store.audio_exists(key)
    if not cached:
        try:
            audio = polly.synthesize(text, voice, attrs.locale)
        except polly.PollyError as err:
            if err.client_fault:
                raise Unprocessable(
                    f"Polly refused the text: {err.message}", pointer="/data/attributes/text", code="polly-refused"
                ) from None
            raise BadGateway(f"Polly could not synthesize the text: {err.message}", code="polly-unavailable") from None
        store.put_audio(key, audio, CONTENT_TYPE)
    expires = clock.now() + timedelta(seconds=LINK_SECONDS)
    url = store.audio_link(key, filename=f"speech-{digest[:12]}.mp3", content_type=CONTENT_TYPE, expires_in=LINK_SECONDS)
    return digest, TtsAttributes(
        locale=attrs.locale,
        voice=voice,
        content_type=CONTENT_TYPE,
        characters=len(text),
        url=url,
        url_expires_at=clock.iso(expires),
        cached=cached,
    )
