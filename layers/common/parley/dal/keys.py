"""Key and index-attribute builders: the single-table layout of docs/data-model.md, in code."""

from __future__ import annotations


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def message_pk(tenant_id: str, message_id: str) -> str:
    return f"TENANT#{tenant_id}#MSG#{message_id}"


MESSAGE_SK = "MSG"
TENANT_SK = "TENANT"


def issuer_pk(issuer: str) -> str:
    """The tenant whose user tokens this JWT issuer (``iss``) signs (SK ``TENANT_SK``; one tenant per issuer)."""
    return f"ISSUER#{issuer}"


def idempotency_pk(tenant_id: str) -> str:
    """A tenant's idempotency records (powertools; SK = ``<scope>#<function>.<qualname>#<md5>``)."""
    return f"TENANT#{tenant_id}#IDEMPOTENCY"


API_KEY_SK = "APIKEY"


def tenant_keys_pk(tenant_id: str) -> str:
    """GSI1: every API key item of a tenant (``admin list-keys``), by creation time (SK ``tenant_key_sk``)."""
    return f"TENANT#{tenant_id}#APIKEYS"


def tenant_key_sk(created_at: str, key_hash: str) -> str:
    return f"{created_at}#{key_hash}"


def event_sk(created_ms: int, event_id: str) -> str:
    return f"EVT#{created_ms:013d}#{event_id}"


def timeline_pk(tenant_id: str, channel: str) -> str:
    """GSI1: every message of a tenant on one channel, by time."""
    return f"TENANT#{tenant_id}#{channel.upper()}"


def address_pk(tenant_id: str, address: str) -> str:
    """GSI2: every message exchanged with one address (email or phone), by time."""
    return f"TENANT#{tenant_id}#ADDR#{address.lower()}"


def candidate_pk(tenant_id: str, candidate_id: str) -> str:
    """GSI4 (sparse): every message of one candidate (by the caller's candidateId), by channel and time."""
    return f"TENANT#{tenant_id}#CAND#{candidate_id}"


def channel_time_sk(channel: str, iso_ts: str, message_id: str) -> str:
    return f"{channel.upper()}#{iso_ts}#{message_id}"


def optin_pk(tenant_id: str, address: str) -> str:
    """SMS consent of one phone number or email address: its state item and its change history."""
    return f"TENANT#{tenant_id}#OPTIN#{address.lower()}"


OPTIN_STATE_SK = "STATE"


def optin_history_sk(created_ms: int, entry_id: str) -> str:
    return f"HIST#{created_ms:013d}#{entry_id}"


def candidate_profile_pk(tenant_id: str, candidate_id: str) -> str:
    """The directory record of one candidate (SK ``CANDIDATE_SK``)."""
    return f"TENANT#{tenant_id}#CANDIDATE#{candidate_id}"


CANDIDATE_SK = "PROFILE"


def candidate_address_pk(tenant_id: str, address: str) -> str:
    """Which candidate owns an email address or phone number (SK ``CANDIDATE_ADDRESS_SK``)."""
    return f"TENANT#{tenant_id}#CANDADDR#{address.lower()}"


CANDIDATE_ADDRESS_SK = "CANDIDATE"


def provider_message_pk(tenant_id: str, provider: str, provider_message_id: str) -> str:
    """Which message a provider's id (SES MessageId, SendGrid x-message-id, Twilio SID) belongs to."""
    return f"TENANT#{tenant_id}#PMSG#{provider}#{provider_message_id}"


PROVIDER_MESSAGE_SK = "MSGREF"


def conversation_pk(tenant_id: str, conversation_id: str) -> str:
    """GSI3: every message of one conversation, by time."""
    return f"TENANT#{tenant_id}#CONV#{conversation_id}"


def time_sk(iso_ts: str, message_id: str) -> str:
    return f"{iso_ts}#{message_id}"


def forward_pk(tenant_id: str, candidate_email: str) -> str:
    """Forward-profile activity of one candidate (by email), newest first (SK ``forward_sk``)."""
    return f"TENANT#{tenant_id}#FWD#{candidate_email.lower()}"


def forward_sk(created_ms: int, message_id: str) -> str:
    return f"FWD#{created_ms:013d}#{message_id}"


def contact_pk(tenant_id: str, channel: str, day: str) -> str:
    """Transactional archive: the candidates a tenant exchanged ``channel`` messages with on one UTC day
    (``day`` = YYYY-MM-DD); SK ``contact_sk`` = the candidate id, one item per candidate per day."""
    return f"TENANT#{tenant_id}#CONTACT#{channel.upper()}#{day}"


def contact_sk(candidate_id: str) -> str:
    return f"CAND#{candidate_id}"


def user_pk(tenant_id: str, user_id: str) -> str:
    """The users directory (recruiters, by their x-ph-userid / recruiter_id): names and a stable integer id."""
    return f"TENANT#{tenant_id}#USER#{user_id}"


USER_SK = "USER"
USER_COUNTER_SK = "USERSEQ"  # on tenant_pk: the last integer handed to a user of the tenant


def records_pk(tenant_id: str) -> str:
    """GSI5: every outbound email of a tenant (the CRM's communication records), by creation time."""
    return f"TENANT#{tenant_id}#REC"


def entity_pk(tenant_id: str, entity_type: str, entity_id: str) -> str:
    """GSI6 (sparse): every message, either direction, linked to one CRM entity, by time. The type is
    length-prefixed so no ``#`` in a type or id can make two entities share a partition."""
    return f"TENANT#{tenant_id}#ENT#{len(entity_type)}:{entity_type}#{entity_id}"


def status_pk(tenant_id: str, status: str) -> str:
    """GSI7: the tenant's outbound email records in one status (QUEUED, SCHEDULED, SENT, …), by creation
    time. The key moves with every status change; only records (items with GSI7SK) are in the index."""
    return f"TENANT#{tenant_id}#STATUS#{status}"


def due_pk(tenant_id: str) -> str:
    """GSI9 (sparse): the tenant's SCHEDULED records by due time (``due_sk``), so the earliest-due N are the
    first N items of one Query. A record leaves it with the change away from SCHEDULED."""
    return f"TENANT#{tenant_id}#DUE"


def due_sk(due_iso: str, created_iso: str, message_id: str) -> str:
    """Due time, then creation time, then id: the fixed-width ISO times make string order the order of
    ``(scheduled_at, created_at, id)``."""
    return f"{due_iso}#{created_iso}#{message_id}"


def stats_pk(tenant_id: str) -> str:
    """Counters of a tenant's email: one item per UTC day (``stats_day_sk``), and the record count."""
    return f"TENANT#{tenant_id}#STATS"


def stats_day_sk(day: str) -> str:
    return f"DAY#{day}"


STATS_RECORDS_SK = "RECORDS"


def template_pk(tenant_id: str) -> str:
    """The CRM's email templates of a tenant: one item collection, SK ``template_sk``."""
    return f"TENANT#{tenant_id}#TEMPLATES"


def template_sk(template_id: str) -> str:
    return f"TPL#{template_id}"


def track_pk(token: str) -> str:
    """Which tenant and message an open/click tracking token belongs to (no tenant in the request)."""
    return f"TRACK#{token}"


TRACK_SK = "TRACK"


def limits_pk(tenant_id: str) -> str:
    """A tenant's limits (``dal/limits.py``): its send window of each UTC day, and its provider pace."""
    return f"TENANT#{tenant_id}#LIMITS"


def send_window_sk(day: str) -> str:
    return f"SEND#{day}"


PACE_SK = "PACE"
