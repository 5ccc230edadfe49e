"""The CRM seed's (001) response shapes, key for key, as the tests check them: taken from the seed's
samples, not from Parley's models, so a model that drifts from the contract fails a test."""

RECORD_KEYS = {
    "bcc", "body", "cc", "clickedLinks", "conversationId", "created", "createdBy", "errorMessage", "events", "id",
    "internetMessageId", "linkTrackingEnabled", "messageId", "openCount", "opened", "openedAt", "originalBody", "providerType",
    "recipientListId", "recipients", "relatedEntityId", "relatedEntityType", "replyTo", "scheduledAt", "senderEmail", "senderName",
    "sentAt", "status", "subject", "templateId", "templateName", "tenantId", "trackingEnabled", "type", "updated", "updatedBy",
    "variables",
}  # fmt: skip
PAGE_KEYS = {"content", "empty", "first", "last", "number", "numberOfElements", "pageable", "size", "sort", "totalElements", "totalPages"}
PAGEABLE_KEYS = {"offset", "pageNumber", "pageSize", "paged", "sort", "unpaged"}
SORT_KEYS = {"empty", "sorted", "unsorted"}
INBOUND_KEYS = {
    "bodyHtml", "bodyText", "cc", "conversationId", "created", "createdBy", "events", "fromEmail", "fromName", "graphMessageId",
    "id", "inReplyTo", "internetMessageId", "parentCommunicationId", "receivedAt", "recipients", "relatedEntityId",
    "relatedEntityType", "status", "subject", "tenantId", "updated", "updatedBy",
}  # fmt: skip
ENTITY_KEYS = {
    "bodyHtml", "bodyText", "cc", "conversationId", "date", "direction", "fromEmail", "fromName", "id", "opened", "recipients",
    "status", "subject",
}  # fmt: skip
EVENT_KEYS = {"authorId", "date", "description", "id", "type"}
ERROR_KEYS = {"title", "detail", "time"}
