"""The courier's voice calls (seed 003, docs/courier.md "Voice (issue 20)" → "Agents, conferences and dial logs"):
queue agents, conferences and the dial logs Twilio's status callbacks feed.
"""

from __future__ import annotations


def apply_status(tenant_id: str, owner_id: str, params: dict[str, str]) -> None:
    """Record one call leg's status from a Twilio status callback (already signature-checked by the caller).

    ``owner_id`` is the voice-setting's or the voice-conference's id the callback URL names; ``params`` are Twilio's
    form fields (``CallSid``, ``CallStatus``, ``From``, ``To``, ``Direction``, ``CallDuration``, ``Timestamp``,
    ``ParentCallSid``, ``ConferenceSid`` …). The call leg's voice-dial-log (one per ``CallSid``) is created on first
    sight and moved forward only, by Twilio's status order (queued < initiated < ringing < in-progress < a final
    status: completed | busy | failed | no-answer | canceled): a redelivered or late, older status changes nothing
    (idempotent). An unknown owner or a callback without ``CallSid``/``CallStatus`` is ignored (nothing written).
    """
    raise NotImplementedError  # the real behaviour lands in the next commits of area B (issue 20)
