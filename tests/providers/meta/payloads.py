"""Realistic Meta webhook bodies, shaped like the examples in Meta's webhook reference."""

import time
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
CUSTOMER_WA_ID = "2348012345678"


def now() -> int:
    return int(time.time())


def envelope(field: str, value: dict[str, Any], *, at: int | None = None) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "time": at or now(), "changes": [{"field": field, "value": value}]}],
    }


def messages_value(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    profile: str = "Ada Obi",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": profile}, "wa_id": CUSTOMER_WA_ID}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return value


def inbound(
    kind: str, body: dict[str, Any] | None = None, *, wamid: str, at: int | None = None, **extra: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": CUSTOMER_WA_ID,
        "id": wamid,
        "timestamp": str(at or now()),
        "type": kind,
    }
    if body is not None:
        message[kind] = body
    message.update(extra)
    return message


def inbound_payload(
    kind: str, body: dict[str, Any] | None = None, *, wamid: str, **extra: Any
) -> dict[str, Any]:
    return envelope("messages", messages_value(messages=[inbound(kind, body, wamid=wamid, **extra)]))


PRICING = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
CONVERSATION = {"id": "6ceb9d929c0b4b4e9b7a9a6b7d3b8c3e", "origin": {"type": "utility"}}


def status(
    name: str,
    *,
    wamid: str,
    ours: str | None = None,
    at: int | None = None,
    pricing: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": name,
        "timestamp": str(at or now()),
        "recipient_id": CUSTOMER_WA_ID,
    }
    if ours:
        item["biz_opaque_callback_data"] = ours
    if pricing:
        item["pricing"] = pricing
        item["conversation"] = CONVERSATION
    if errors:
        item["errors"] = errors
    return item


def status_payload(name: str, **kwargs: Any) -> dict[str, Any]:
    return envelope("messages", messages_value(statuses=[status(name, **kwargs)]))


UNDELIVERABLE = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Message Undeliverable."},
}

AD_REFERRAL = {
    "source_url": "https://fb.me/3cr4Wqqkv",
    "source_id": "120212345678901234",
    "source_type": "ad",
    "headline": "Free delivery this week",
    "body": "Order on WhatsApp",
    "media_type": "image",
    "image_url": "https://x.test/ad.jpg",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-ZABeWWt_EvcqNHrZ48aJOk",
}

TEMPLATE_APPROVED = {
    "event": "APPROVED",
    "message_template_id": 594425479261596,
    "message_template_name": "order_update",
    "message_template_language": "en_US",
    "reason": "NONE",
}

TEMPLATE_REJECTED = {**TEMPLATE_APPROVED, "event": "REJECTED", "reason": "INCORRECT_CATEGORY"}

CATEGORY_ANNOUNCED = {
    "message_template_id": 594425479261596,
    "message_template_name": "order_update",
    "message_template_language": "en_US",
    "correct_category": "MARKETING",
    "new_category": "UTILITY",
    "category_update_timestamp": 1760711433,
}

CATEGORY_COMPLETED = {
    "message_template_id": 594425479261596,
    "message_template_name": "order_update",
    "message_template_language": "en_US",
    "previous_category": "UTILITY",
    "new_category": "MARKETING",
}

TEMPLATE_QUALITY = {
    "previous_quality_score": "GREEN",
    "new_quality_score": "YELLOW",
    "message_template_id": 594425479261596,
    "message_template_name": "order_update",
    "message_template_language": "en_US",
}

NUMBER_FLAGGED = {"display_phone_number": DISPLAY_NUMBER, "event": "FLAGGED", "current_limit": "TIER_10K"}
NUMBER_UPGRADED = {
    "display_phone_number": DISPLAY_NUMBER,
    "event": "UPGRADE",
    "old_limit": "TIER_2K",
    "current_limit": "TIER_10K",
}
NUMBER_THROUGHPUT_UPGRADED = {
    "display_phone_number": DISPLAY_NUMBER,
    "event": "THROUGHPUT_UPGRADE",
    "current_limit": "TIER_UNLIMITED",
    "max_daily_conversations_per_business": "TIER_UNLIMITED",
}

CAPABILITY = {"max_daily_conversation_per_phone": 10000, "max_phone_numbers_per_business": 25}
ACCOUNT_UPDATE = {"phone_number": DISPLAY_NUMBER, "event": "VERIFIED_ACCOUNT"}
USER_PREFERENCES = {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
    "contacts": [{"profile": {"name": "Ada Obi"}, "wa_id": CUSTOMER_WA_ID}],
    "user_preferences": [
        {
            "wa_id": CUSTOMER_WA_ID,
            "detail": "User requested to stop marketing messages",
            "category": "marketing_messages",
            "value": "stop",
            "timestamp": 1731705721,
        }
    ],
}
