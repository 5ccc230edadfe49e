"""The courier voice API's text to speech (seed 003, docs/courier.md "Voice (issue 20)" → "Voice media").

- POST /v1/tts-synthesizers/ — text + locale → speech (Amazon Polly, MP3 in S3, a short-lived link back)
"""

from aws_lambda_powertools.event_handler import Response

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import tts
from parley.models.courier_voice_media import TTS, TtsAttributes, TtsCreate
from parley.models.jsonapi import RequestDocument

api = Api("courier_voice_video", tags=["Text to speech"], example=SAMPLE)


@api.post(
    "/v1/tts-synthesizers",
    responses={201: jsonapi.single_doc(TtsAttributes, "The speech: a link to its MP3.")},
    errors=(422, 502),
    access=("bodies:crud", "polly"),
    example=Example(body={"data": {"type": TTS, "attributes": {"locale": "en-US", "text": "Your visit starts in ten minutes."}}}),
)
def create_tts_synthesizer(body: RequestDocument[TtsCreate]) -> Response[str]:
    """Synthesize speech

    `text` (1..3000 characters) said in `locale` (default `en-US`; 422 for a locale without a voice here) by
    Amazon Polly, as MP3. The seed shows no answer: this one is a `tts-synthesizers` resource (ours) whose `url` is
    a pre-signed link to the audio valid 15 minutes; its id is the audio's digest (the same text and locale is
    synthesized once and answered again with `cached: true`). 502 when Polly fails.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TTS)
    return jsonapi.single(TTS, *tts.synthesize(who.tenant_id, attrs), status=201)
