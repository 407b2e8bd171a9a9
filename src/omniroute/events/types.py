"""Every event type omniroute produces, declared in one place.

Later domains (campaigns, one-time codes) produce some of these; they are declared
now so webhook filters and the event log accept them from the start."""

from enum import StrEnum


class EventType(StrEnum):
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_READ = "message.read"
    MESSAGE_FAILED = "message.failed"
    MESSAGE_RECEIVED = "message.received"
    WINDOW_OPENED = "conversation.window_opened"
    WINDOW_EXPIRING = "conversation.window_expiring"
    WINDOW_CLOSED = "conversation.window_closed"
    TEMPLATE_STATUS_UPDATED = "template.status_updated"
    TEMPLATE_CATEGORY_UPDATED = "template.category_updated"
    CAMPAIGN_COMPLETED = "campaign.completed"
    CHANNEL_QUALITY_UPDATED = "channel.quality_updated"
    VERIFICATION_APPROVED = "verification.approved"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"


WILDCARD = "*"


def is_valid_filter(pattern: str) -> bool:
    """``*``, ``<group>.*`` for a group that has event types, or one declared type."""
    if pattern == WILDCARD:
        return True
    if pattern.endswith(".*"):
        return any(t.value.startswith(pattern[:-1]) for t in EventType)
    return pattern in EventType._value2member_map_


def matches(patterns: list[str], type: str) -> bool:
    return any(p in (WILDCARD, type) or (p.endswith(".*") and type.startswith(p[:-1])) for p in patterns)
