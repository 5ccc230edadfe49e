"""Amazon Polly text to speech (``tts-synthesizers``; docs/courier.md "Voice (issue 20)" → "Voice media"):
``SynthesizeSpeech`` of plain text with a locale's standard voice, as MP3. The local stack's moto serves it (its audio
is a few placeholder bytes; the request is checked as Polly checks it: voice, format, length).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from parley.dal.aws import client

# One standard-engine voice per locale (Polly's voices; ``DescribeVoices`` is not called: one permission less, no
# extra round trip). A locale outside this table is refused (422) by the domain.
VOICES = {
    "en-US": "Joanna",
    "en-GB": "Amy",
    "en-AU": "Nicole",
    "en-IN": "Aditi",
    "es-US": "Lupe",
    "es-ES": "Lucia",
    "es-MX": "Mia",
    "fr-FR": "Celine",
    "fr-CA": "Chantal",
    "de-DE": "Marlene",
    "it-IT": "Carla",
    "pt-BR": "Camila",
    "pt-PT": "Ines",
    "nl-NL": "Lotte",
    "ja-JP": "Mizuki",
}


class PollyError(Exception):
    def __init__(self, message: str, *, client_fault: bool) -> None:
        super().__init__(message)
        self.message, self.client_fault = message, client_fault


def synthesize(text: str, voice: str, language: str) -> bytes:
    """MP3 audio of ``text`` said by ``voice``; ``PollyError`` (client_fault: the request was refused as invalid)."""
    try:
        out: Any = client("polly", retry=False).synthesize_speech(
            Text=text, TextType="text", OutputFormat="mp3", VoiceId=voice, LanguageCode=language
        )
        return out["AudioStream"].read()
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        raise PollyError(
            f"{code}: {err.response.get('Error', {}).get('Message', '')}", client_fault=400 <= status < 500 and status != 429
        ) from None
    except BotoCoreError as err:
        raise PollyError(str(err), client_fault=False) from None
