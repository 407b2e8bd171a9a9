"""Every event type omniroute produces, declared in one place.

Webhook filters accept only these, so a type is declared here by the feature that emits
it, when that feature lands (campaigns add ``campaign.*``, one-time codes
``verification.*``): an endpoint never subscribes to events that cannot happen."""

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
    VISITOR_TYPING = "conversation.visitor_typing"
    """A web chat visitor is typing (the widget says so at most every few seconds)."""
    TEMPLATE_STATUS_UPDATED = "template.status_updated"
    TEMPLATE_CATEGORY_UPDATED = "template.category_updated"
    CHANNEL_QUALITY_UPDATED = "channel.quality_updated"
    CAMPAIGN_STARTED = "campaign.started"
    CAMPAIGN_PAUSED = "campaign.paused"
    CAMPAIGN_COMPLETED = "campaign.completed"
    VERIFICATION_APPROVED = "verification.approved"
    VERIFICATION_FAILED = "verification.failed"
    """A one-time code that can no longer be approved: every channel failed, too many
    wrong checks, or it expired (``data.reason``)."""
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
