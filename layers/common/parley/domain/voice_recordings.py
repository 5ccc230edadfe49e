"""Voice recordings (issue 20, area C; docs/courier.md "Voice (issue 20)" → "Voice media").

Twilio's recording callbacks reach ``VoiceCallbackFunction`` (area A; path ``/recording``), which checks the signature
and names the tenant and the voice setting, then calls :func:`apply_recording`. The media is fetched from Twilio into
the body bucket (``voice-recordings/<tenant>/…``); the API answers short-lived pre-signed links.
"""

from __future__ import annotations


def apply_recording(tenant_id: str, setting_id: str, params: dict[str, str]) -> None:
    """Record (or complete) the recording Twilio reports for a call on the voice setting ``setting_id``.

    ``params`` is Twilio's callback form: ``RecordingSid``, ``RecordingUrl``, ``RecordingDuration``, ``RecordingStatus``,
    ``CallSid``, ``From``/``To`` when present, and for transcription callbacks ``TranscriptionText`` /
    ``TranscriptionStatus``. Idempotent: a repeated callback changes nothing; a transcription arriving before or after
    the recording fills the same item. A ``completed`` recording's media is copied into S3 once. The caller (the
    callback function) has verified the signature; this never raises for a well-formed but unknown setting (it is
    ignored and logged) so Twilio gets its 200.
    """
    raise NotImplementedError
