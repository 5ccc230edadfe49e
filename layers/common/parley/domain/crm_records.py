"""A stored message as the CRM sees it: ``Message`` → the CRM API's response shapes (``models.crm``)."""

from parley.domain.rendering import html_to_text, looks_like_html
from parley.models.crm import ClickedLink, CommunicationRecord, EntityCommunication, EntityEvent, InboundEmail
from parley.models.domain import Message, MessageStatus


def crm_status(status: MessageStatus) -> str:
    """Parley's pipeline states in the CRM's vocabulary (decision K3): queued or being sent = PENDING."""
    if status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        return "PENDING"
    return status.value


def provider_type(provider: str) -> str:
    return {"ses": "SES", "sendgrid": "SENDGRID"}.get(provider, provider.upper())


def _events(msg: Message) -> list[EntityEvent]:
    return [EntityEvent(authorId=e.author_id, date=e.date, description=e.description, id=e.id, type=e.type) for e in msg.timeline]


def to_record(msg: Message) -> CommunicationRecord:
    """An outbound email as a CommunicationRecord (any API's: candidate emails read as records too)."""
    return CommunicationRecord(
        bcc=msg.bcc,
        body=msg.body,
        cc=msg.cc,
        clickedLinks=[
            ClickedLink(clickCount=link.click_count, clickedAt=link.clicked_at, originalUrl=link.original_url, url=link.url)
            for link in msg.links
        ],
        conversationId=msg.conversation_id,
        created=msg.created_at,
        createdBy=msg.created_by or msg.recruiter_id,
        errorMessage=msg.error if msg.status == MessageStatus.FAILED else None,
        events=_events(msg),
        id=msg.id,
        internetMessageId=msg.internet_message_id,
        linkTrackingEnabled=msg.link_tracking_enabled,
        messageId=msg.provider_message_id,
        openCount=msg.open_count,
        opened=msg.open_count > 0,
        openedAt=msg.opened_at,
        originalBody=msg.original_body if msg.original_body is not None else msg.body,
        providerType=provider_type(msg.provider),
        recipientListId=msg.recipient_list_id,
        recipients=msg.all_recipients,
        relatedEntityId=msg.related_entity_id,
        relatedEntityType=msg.related_entity_type,
        replyTo=msg.reply_to,
        scheduledAt=msg.scheduled_at,
        senderEmail=msg.sender,
        senderName=msg.sender_name or None,
        sentAt=msg.sent_at,
        status=crm_status(msg.status),
        subject=msg.subject,
        templateId=msg.template_id,
        templateName=msg.template_name,
        tenantId=msg.tenant_id,
        trackingEnabled=msg.tracking_enabled,
        type=msg.category,
        updated=msg.updated_at,
        updatedBy=msg.updated_by,
        variables=msg.variables,
    )


def inbound_status(msg: Message) -> str:
    return "NEW"


def _html_text(msg: Message) -> tuple[str | None, str | None]:
    if looks_like_html(msg.body):
        return msg.body, msg.body_text if msg.body_text is not None else html_to_text(msg.body)
    return None, msg.body_text if msg.body_text is not None else msg.body


def to_inbound(msg: Message) -> InboundEmail:
    body_html, body_text = _html_text(msg)
    return InboundEmail(
        bodyHtml=body_html,
        bodyText=body_text,
        cc=msg.cc,
        conversationId=msg.conversation_id,
        created=msg.created_at,
        createdBy=msg.created_by,
        events=_events(msg),
        fromEmail=msg.sender,
        fromName=msg.sender_name or None,
        graphMessageId=None,
        id=msg.id,
        inReplyTo=msg.in_reply_to,
        internetMessageId=msg.internet_message_id,
        parentCommunicationId=msg.parent_id,
        receivedAt=msg.created_at,
        recipients=msg.all_recipients,
        relatedEntityId=msg.related_entity_id,
        relatedEntityType=msg.related_entity_type,
        status=inbound_status(msg),
        subject=msg.subject,
        tenantId=msg.tenant_id,
        updated=msg.updated_at,
        updatedBy=msg.updated_by,
    )


def to_entity_row(msg: Message) -> EntityCommunication:
    """One message of an entity's list: an inbound one dated when received, an outbound one when sent (else
    scheduled for, else created)."""
    inbound = msg.direction == "inbound"
    body_html, body_text = _html_text(msg)
    return EntityCommunication(
        bodyHtml=body_html,
        bodyText=body_text,
        cc=msg.cc,
        conversationId=msg.conversation_id,
        date=msg.created_at if inbound else msg.sent_at or msg.scheduled_at or msg.created_at,
        direction="INBOUND" if inbound else "OUTBOUND",
        fromEmail=msg.sender,
        fromName=msg.sender_name or None,
        id=msg.id,
        opened=False if inbound else msg.open_count > 0,
        recipients=msg.all_recipients,
        status=inbound_status(msg) if inbound else crm_status(msg.status),
        subject=msg.subject,
    )
