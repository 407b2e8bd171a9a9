"""The emulated WhatsApp Business Account: one phone number, its templates, its
customers' windows, and the network's answers. State lives in memory.

Delivery outcomes and template verdicts come from the sandbox's simulation core
(``providers.sandbox.simulation``), the limits from ``providers.sandbox.network_rules``
and every number from ``omniroute.policy``, so test mode, the emulator and Meta agree."""

import asyncio
import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from omniroute.core.phone import region_of
from omniroute.core.time import rfc3339, utcnow
from omniroute.emulator.config import EmulatorConfig
from omniroute.emulator.errors import DUPLICATE_TEMPLATE_SUBCODE, GraphError, invalid, title
from omniroute.emulator.timeline import Timeline
from omniroute.emulator.validation import Send, validate_send, wa_id_of
from omniroute.emulator.webhooks import Background, WebhookSender
from omniroute.policy import errors as meta_errors
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND, MessagingTier
from omniroute.policy.pricing import price_message
from omniroute.policy.templates import (
    SENDABLE_STATUSES,
    RejectionReason,
    TemplateCategory,
    TemplateStatus,
    message_send_ttl_problem,
)
from omniroute.policy.window import (
    CUSTOMER_SERVICE_WINDOW,
    FREE_ENTRY_POINT_DURATION,
    refreshed_last_inbound,
    window_at,
)
from omniroute.providers.sandbox.network_rules import SendLimits, template_parameter_problem
from omniroute.providers.sandbox.simulation import (
    Scenario,
    Step,
    delivery_script,
    review_template,
    scenario_for,
)

LAST_VERSION_WITH_CONVERSATION = 23
"""Graph versions up to v23 carry a ``conversation`` object in status webhooks; v24+ do not."""

PHONE_NUMBER_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "id",
)
"""What ``GET /{phone_number_id}`` answers without ``fields``; the limit fields
(``whatsapp_business_manager_messaging_limit`` and the deprecated ``messaging_limit_tier``)
only when asked for, as Meta does."""
TEMPLATE_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
EDITABLE_STATUSES = frozenset({TemplateStatus.APPROVED, TemplateStatus.REJECTED, TemplateStatus.PAUSED})
TEMPLATE_PAGE_SIZE = 25
DEFAULT_PROFILE_NAME = "Emulated Customer"
_VERSION = re.compile(r"^v(\d+)\.\d+$")

SEND_REFUSALS = {
    meta_errors.RE_ENGAGEMENT: "Message failed to send because more than 24 hours have passed since the "
    "customer last replied to this number.",
    meta_errors.THROUGHPUT_LIMIT: "Message failed to send because there were too many messages sent from "
    "this phone number in a short period of time.",
    meta_errors.PAIR_RATE_LIMIT: "Message failed to send because there were too many messages sent from "
    "this phone number to the same phone number in a short period of time.",
    meta_errors.UNDELIVERABLE: "Message Undeliverable.",
}


MARKED_READ = {"success": True}
"""Meta's answer to a mark-as-read."""


def graph_version(version: str) -> int:
    match = _VERSION.match(version)
    if match is None:
        raise invalid(f"Unknown Graph API version {version!r}: use a prefix like v23.0.")
    return int(match.group(1))


def _wamid() -> str:
    return "wamid." + base64.b64encode(b"HBgM" + secrets.token_bytes(26)).decode()


def _unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


@dataclass
class Customer:
    wa_id: str
    market: str | None
    """The customer's country (ISO code), for the rate card."""
    last_inbound_at: datetime | None = None
    entry_point_free_until: datetime | None = None
    conversations: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Pricing category → (conversation id, expiry), for webhooks of Graph v23 and older."""


@dataclass
class Template:
    id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    parameter_format: str
    message_send_ttl_seconds: int | None = None
    status: TemplateStatus = TemplateStatus.PENDING
    rejected_reason: str = RejectionReason.NONE.value

    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status.value,
            "category": self.category,
            "id": self.id,
            "rejected_reason": self.rejected_reason,
        }
        if self.message_send_ttl_seconds is not None:
            fields["message_send_ttl_seconds"] = self.message_send_ttl_seconds
        return fields

    def definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "components": self.components,
        }
        if self.message_send_ttl_seconds is not None:
            definition["message_send_ttl_seconds"] = self.message_send_ttl_seconds
        return definition


@dataclass(slots=True)
class Outbound:
    """An accepted message: what its statuses and the listing need, no more (millions of
    these stay in memory during a benchmark)."""

    id: str
    to: str
    wa_id: str
    type: str
    callback_data: str | None
    version: int
    pricing: dict[str, Any]
    accepted_at: datetime
    script: tuple[Step, ...] = ()
    """What the network does with the message, played a step at a time."""
    played: int = 0
    statuses: tuple[str, ...] = ()
    """The statuses sent so far (a tuple of strings: nothing for the garbage collector)."""

    def answer(self) -> dict[str, Any]:
        """Meta's response to the send."""
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": self.to, "wa_id": self.wa_id}],
            "messages": [{"id": self.id, "message_status": "accepted"}],
        }


class Received(NamedTuple):
    """One request to the messages endpoint, kept as its raw bytes and outcome (rendered as
    JSON only when listed). A tuple of plain values, which the garbage collector stops
    walking."""

    received_at: str
    request: bytes
    message_id: str | None = None
    """The accepted message (a send that was refused or a mark-as-read has none)."""
    error_code: int | None = None
    error_details: str | None = None


@dataclass
class SendStats:
    """Accepted sends, counted for a benchmark to find duplicates and losses. A send's
    identity is its recipient and the sender's own id for the message,
    ``biz_opaque_callback_data`` (omniroute puts its message id there); a send without
    one is its own identity."""

    sends: int = 0
    duplicates: int = 0
    callback_data: int = 0
    identities: set[tuple[str, str]] = field(default_factory=set)

    def count(self, wa_id: str, callback_data: str | None, message_id: str) -> None:
        self.sends += 1
        if callback_data is not None:
            self.callback_data += 1
        identity = (wa_id, callback_data if callback_data is not None else message_id)
        if identity in self.identities:
            self.duplicates += 1
        else:
            self.identities.add(identity)

    def as_dict(self) -> dict[str, int]:
        return {
            "sends": self.sends,
            "distinct": len(self.identities),
            "duplicates": self.duplicates,
            "callback_data": self.callback_data,
        }


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.background = Background()
        self.steps: Timeline[Outbound] = Timeline(self._play_next_step)
        self._scripts: dict[Scenario, tuple[Step, ...]] = {}
        self.webhooks = WebhookSender(
            config.webhook_url,
            config.app_secret,
            config.waba_id,
            self.background,
            config.webhook_time_scale,
        )
        self._clear()

    def _clear(self) -> None:
        self.limits = SendLimits(self.config.throughput)
        self.received: list[Received] = []
        self.outbound: dict[str, Outbound] = {}
        self.inbound: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, Customer] = {}
        self.templates: dict[str, Template] = {}
        self._reviews: dict[str, asyncio.Task[None]] = {}
        self.stats = SendStats()
        self._pricings: dict[tuple[str, str, bool], dict[str, Any]] = {}
        self.webhooks.clear()

    async def reset(self) -> None:
        self.steps.clear()
        await self.background.cancel_all()
        self._clear()

    async def close(self) -> None:
        self.steps.clear()
        await self.background.cancel_all()
        await self.webhooks.close()

    # -- auth and objects ------------------------------------------------------------

    def authenticate(self, authorization: str | None, query_token: str | None) -> None:
        token = query_token
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        if not token or not secrets.compare_digest(token, self.config.access_token):
            raise GraphError(190)

    def phone_number(self, fields: str | None) -> dict[str, Any]:
        unlimited = self.config.unlimited
        high_throughput = unlimited or self.config.throughput > DEFAULT_THROUGHPUT_PER_SECOND
        messaging_limit = MessagingTier.TIER_UNLIMITED.value if unlimited else self.config.messaging_limit
        everything: dict[str, Any] = {
            "verified_name": self.config.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.config.display_phone_number,
            "quality_rating": self.config.quality_rating,
            "platform_type": "CLOUD_API",
            "throughput": {"level": "HIGH" if high_throughput else "STANDARD"},
            "whatsapp_business_manager_messaging_limit": messaging_limit,
            "messaging_limit_tier": messaging_limit,
            "id": self.config.phone_number_id,
        }
        return _pick(everything, fields, PHONE_NUMBER_FIELDS)

    # -- messages ----------------------------------------------------------------------

    def _customer(self, wa_id: str) -> Customer:
        customer = self.customers.get(wa_id)
        if customer is None:
            customer = self.customers[wa_id] = Customer(wa_id, region_of("+" + wa_id))
        return customer

    def send(self, version: str, body: Any, raw: bytes) -> dict[str, Any]:
        """Answer ``POST /{version}/{phone_number_id}/messages`` (a send or a mark-as-read):
        ``body`` is the request as parsed from ``raw``."""
        major = graph_version(version)
        received_at = rfc3339(utcnow()) or ""
        try:
            if not isinstance(body, dict):
                raise invalid("The request body must be a JSON object.")
            if body.get("status") == "read":
                answer = self._mark_read(body)
                self.received.append(Received(received_at, raw))
                return answer
            message = self._accept(validate_send(body), major)
        except GraphError as error:
            self.received.append(
                Received(received_at, raw, error_code=error.code, error_details=error.details)
            )
            raise
        self.received.append(Received(received_at, raw, message_id=message.id))
        return message.answer()

    def _mark_read(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(100, message="(#100) The parameter messaging_product is required.")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise invalid("The parameter message_id is required.")
        message = self.inbound.get(message_id)
        if message is None:
            raise invalid(f"Invalid message_id {message_id!r}: no message from a customer has this id.")
        message["read"] = True
        return MARKED_READ

    def _sendable_template(self, send: Send) -> Template:
        name = send.content["name"]
        language = send.content["language"]["code"]
        template = next(
            (t for t in self.templates.values() if t.name == name and t.language == language), None
        )
        if template is None or template.status not in (
            *SENDABLE_STATUSES,
            TemplateStatus.PAUSED,
            TemplateStatus.DISABLED,
        ):
            raise GraphError(
                meta_errors.TEMPLATE_MISSING, f"template name ({name}) does not exist in {language}"
            )
        if template.status is TemplateStatus.PAUSED:
            raise GraphError(
                meta_errors.TEMPLATE_PAUSED, f"Template {name} ({language}) is paused because of low quality."
            )
        if template.status is TemplateStatus.DISABLED:
            raise GraphError(
                meta_errors.TEMPLATE_DISABLED, f"Template {name} ({language}) has been disabled."
            )
        problem = template_parameter_problem(template.components, send.content.get("components", []))
        if problem:
            raise GraphError(meta_errors.TEMPLATE_PARAM_COUNT, problem)
        return template

    def _accept(self, send: Send, major: int) -> Outbound:
        now = utcnow()
        customer = self._customer(send.wa_id)
        window_open = window_at(customer.last_inbound_at, now).is_open
        template = self._sendable_template(send) if send.type == "template" else None
        if template is None and not window_open:
            raise GraphError(meta_errors.RE_ENGAGEMENT, SEND_REFUSALS[meta_errors.RE_ENGAGEMENT])
        if not self.config.unlimited:
            refusal = self.limits.refusal(send.wa_id, time.monotonic())
            if refusal is not None:
                raise GraphError(refusal, SEND_REFUSALS[refusal])
        price = price_message(
            template_category=TemplateCategory(template.category) if template else None,
            window_open=window_open,
            in_free_entry_point=bool(
                customer.entry_point_free_until and now < customer.entry_point_free_until
            ),
            market=customer.market,
            at=now,
        )
        pricing_key = (price.category, price.type, price.billable)
        pricing = self._pricings.get(pricing_key)
        if pricing is None:
            pricing = {key: value for key, value in price.as_dict().items() if key != "cost"}
            self._pricings[pricing_key] = pricing
        message = Outbound(_wamid(), send.to, send.wa_id, send.type, send.callback_data, major, pricing, now)
        message.script = self._script(scenario_for(send.wa_id))
        self.outbound[message.id] = message
        self.stats.count(send.wa_id, send.callback_data, message.id)
        if message.script:
            self.steps.add(message.script[0].after * self.config.status_interval, message)
        return message

    def _script(self, scenario: Scenario) -> tuple[Step, ...]:
        """The network's script for a scenario; only the customer's replies when status
        webhooks are off."""
        script = self._scripts.get(scenario)
        if script is None:
            script = self._scripts[scenario] = tuple(
                step
                for step in delivery_script(scenario, "whatsapp")
                if self.config.status_webhooks or step.kind == "reply"
            )
        return script

    def _play_next_step(self, message: Outbound) -> None:
        """Play the message's next step (a status or the customer's reply) and schedule the
        one after it (steps count status intervals from the send)."""
        step = message.script[message.played]
        message.played += 1
        if step.kind == "reply":
            self.receive(message.wa_id, step.reply_text or "")
        else:
            code = step.failure.provider_code if step.failure else None
            self._status(message, str(step.status), int(code) if code is not None else None)
        if message.played < len(message.script):
            following = message.script[message.played]
            self.steps.add((following.after - step.after) * self.config.status_interval, message)

    def _status(self, message: Outbound, status: str, error_code: int | None) -> None:
        now = utcnow()
        entry: dict[str, Any] = {
            "id": message.id,
            "status": status,
            "timestamp": _unix(now),
            "recipient_id": message.wa_id,
        }
        if error_code is not None:
            entry["errors"] = [
                {
                    "code": error_code,
                    "title": title(error_code),
                    "message": title(error_code),
                    "error_data": {"details": SEND_REFUSALS.get(error_code, title(error_code))},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        else:
            if message.version <= LAST_VERSION_WITH_CONVERSATION:
                entry["conversation"] = self._conversation(message, now, with_expiry=status == "sent")
            entry["pricing"] = message.pricing
        if message.callback_data is not None:
            entry["biz_opaque_callback_data"] = message.callback_data
        message.statuses += (status,)
        self.webhooks.send_message_event(message.wa_id, {**self._value_header(), "statuses": [entry]})

    def _conversation(self, message: Outbound, now: datetime, *, with_expiry: bool) -> dict[str, Any]:
        customer = self._customer(message.wa_id)
        category = str(message.pricing["category"])
        conversation_id, expires = customer.conversations.get(category, ("", now))
        if expires <= now:
            conversation_id, expires = secrets.token_hex(16), now + CUSTOMER_SERVICE_WINDOW
            customer.conversations[category] = (conversation_id, expires)
        conversation: dict[str, Any] = {"id": conversation_id}
        if with_expiry:
            conversation["expiration_timestamp"] = _unix(expires)
        conversation["origin"] = {"type": category}
        return conversation

    def _value_header(self) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.config.display_phone_number,
                "phone_number_id": self.config.phone_number_id,
            },
        }

    def receive(
        self,
        sender: str,
        text: str,
        *,
        name: str | None = None,
        referral: dict[str, Any] | None = None,
        sent_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A customer writes to the business: open or refresh the window, send the webhook."""
        wa_id = wa_id_of(sender)
        if not 7 <= len(wa_id) <= 15:
            raise ValueError(f"{sender!r} is not a phone number")
        moment = sent_at or utcnow()
        customer = self._customer(wa_id)
        customer.last_inbound_at = refreshed_last_inbound(customer.last_inbound_at, moment)
        if referral is not None:
            customer.entry_point_free_until = moment + FREE_ENTRY_POINT_DURATION
        message: dict[str, Any] = {
            "from": wa_id,
            "id": _wamid(),
            "timestamp": _unix(moment),
            "type": "text",
            "text": {"body": text},
        }
        if referral is not None:
            message["referral"] = referral
        self.inbound[message["id"]] = {"message": message, "read": False}
        contact = {"profile": {"name": name or DEFAULT_PROFILE_NAME}, "wa_id": wa_id}
        self.webhooks.send_message_event(
            wa_id, {**self._value_header(), "contacts": [contact], "messages": [message]}
        )
        window = window_at(customer.last_inbound_at, utcnow())
        return {"id": message["id"], "wa_id": wa_id, "window_expires_at": rfc3339(window.expires_at)}

    # -- templates ---------------------------------------------------------------------

    def _template(self, template_id: str) -> Template:
        template = self.templates.get(template_id)
        if template is None:
            raise invalid(f"No message template has id {template_id}.")
        return template

    def create_template(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        for key in ("name", "language", "category"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise invalid(f"The parameter {key} is required.")
        category = body["category"].upper()
        if category not in TemplateCategory.__members__:
            raise invalid(f"Param category must be one of {', '.join(TemplateCategory)}.")
        components = body.get("components")
        if (
            not isinstance(components, list)
            or not components
            or not all(isinstance(c, dict) for c in components)
        ):
            raise invalid("The parameter components is required and must be a non-empty array of objects.")
        parameter_format = str(body.get("parameter_format", "POSITIONAL")).upper()
        if parameter_format not in ("POSITIONAL", "NAMED"):
            raise invalid("Param parameter_format must be POSITIONAL or NAMED.")
        ttl = body.get("message_send_ttl_seconds")
        ttl_problem = None if ttl is None else message_send_ttl_problem(category, ttl)
        if ttl_problem:
            raise invalid(f"Param {ttl_problem}")
        if any(t.name == body["name"] and t.language == body["language"] for t in self.templates.values()):
            raise GraphError(
                100,
                f"There is already {body['language']} content for template {body['name']}.",
                subcode=DUPLICATE_TEMPLATE_SUBCODE,
            )
        template = Template(
            id=str(10**14 + secrets.randbelow(9 * 10**14)),
            name=body["name"],
            language=body["language"],
            category=category,
            components=components,
            parameter_format=parameter_format,
            message_send_ttl_seconds=ttl,
        )
        self.templates[template.id] = template
        self._schedule_review(template)
        return {"id": template.id, "status": template.status.value, "category": template.category}

    def _schedule_review(self, template: Template) -> None:
        async def review() -> None:
            verdict = review_template(template.definition())
            self._review_done(template, verdict.status, verdict.reason, verdict.explanation)

        self._reviews[template.id] = self.background.later(self.config.review_seconds, review)

    def force_review(self, template_id: str, status: str, reason: str | None) -> dict[str, Any]:
        template = self._template(template_id)
        pending = self._reviews.pop(template.id, None)
        if pending is not None:
            pending.cancel()
        code, _, explanation = (reason or "").partition(":")
        self._review_done(template, TemplateStatus(status), code.strip() or None, explanation.strip() or None)
        return template.fields()

    def _review_done(
        self, template: Template, status: TemplateStatus, reason: str | None, explanation: str | None
    ) -> None:
        """Apply a verdict and announce it: the rejection code goes to ``reason``; for
        INVALID_FORMAT (the only code Meta explains) the sentence behind it goes to
        ``rejection_info``."""
        self._reviews.pop(template.id, None)
        code = reason or RejectionReason.NONE.value
        rejected = status is TemplateStatus.REJECTED
        template.status = status
        template.rejected_reason = code if rejected and code in RejectionReason.__members__ else "NONE"
        value: dict[str, Any] = {
            "event": status.value,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": code,
            "message_template_category": template.category,
        }
        if status is TemplateStatus.DISABLED:
            value["disable_info"] = {"disable_date": int(time.time())}
        if rejected and explanation and code == RejectionReason.INVALID_FORMAT.value:
            value["rejection_info"] = {
                "reason": explanation,
                "recommendation": "Fix the template and submit it again.",
            }
        self.webhooks.send("message_template_status_update", value)

    def list_templates(self, params: dict[str, str], base_url: str) -> dict[str, Any]:
        matching = [
            t
            for t in self.templates.values()
            if all(
                wanted is None or wanted.upper() == actual.upper()
                for wanted, actual in (
                    (params.get("status"), t.status.value),
                    (params.get("category"), t.category),
                    (params.get("language"), t.language),
                )
            )
            and params.get("name", "") in t.name
        ]
        try:
            limit = int(params.get("limit", TEMPLATE_PAGE_SIZE))
            start = _cursor_position(params["after"]) + 1 if "after" in params else 0
        except ValueError:
            raise invalid("Param limit must be a positive integer and after a cursor from paging.") from None
        if limit < 1:
            raise invalid("Param limit must be a positive integer.")
        page = matching[start : start + limit]
        answer: dict[str, Any] = {
            "data": [_pick(t.fields(), params.get("fields"), TEMPLATE_FIELDS) for t in page]
        }
        if page:
            last = start + len(page) - 1
            answer["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(last)}}
            if last + 1 < len(matching):
                following = {**params, "after": _cursor(last), "limit": str(limit)}
                query = "&".join(f"{key}={value}" for key, value in following.items())
                answer["paging"]["next"] = f"{base_url}?{query}"
        return answer

    def delete_template(self, name: str | None, hsm_id: str | None) -> dict[str, Any]:
        if not name:
            raise invalid("The parameter name is required.")
        doomed = [t for t in self.templates.values() if t.name == name and hsm_id in (None, t.id)]
        if not doomed:
            raise invalid(f"Message template {name!r} was not found.")
        for template in doomed:
            del self.templates[template.id]
            pending = self._reviews.pop(template.id, None)
            if pending is not None:
                pending.cancel()
        return {"success": True}

    def edit_template(self, template_id: str, body: Any) -> dict[str, Any]:
        template = self._template(template_id)
        if not isinstance(body, dict) or not ({"components", "category"} & set(body)):
            raise invalid("An edit needs components or category.")
        if template.status not in EDITABLE_STATUSES:
            raise invalid(f"A template in status {template.status.value} cannot be edited.")
        if "components" in body:
            components = body["components"]
            if not isinstance(components, list) or not components:
                raise invalid("Param components must be a non-empty array.")
            template.components = components
        if "category" in body:
            if str(body["category"]).upper() not in TemplateCategory.__members__:
                raise invalid(f"Param category must be one of {', '.join(TemplateCategory)}.")
            template.category = str(body["category"]).upper()
        template.status = TemplateStatus.PENDING
        self._schedule_review(template)
        return {"success": True}

    # -- inspection --------------------------------------------------------------------

    def snapshot_messages(self) -> dict[str, Any]:
        return {
            "received": [self._listed(record) for record in self.received],
            "outbound": [
                {
                    "id": m.id,
                    "to": m.to,
                    "wa_id": m.wa_id,
                    "type": m.type,
                    "pricing": m.pricing,
                    "statuses": list(m.statuses),
                    "accepted_at": rfc3339(m.accepted_at),
                }
                for m in self.outbound.values()
            ],
            "inbound": list(self.inbound.values()),
        }

    def _listed(self, record: Received) -> dict[str, Any]:
        listed: dict[str, Any] = {"received_at": record.received_at, "request": request_json(record.request)}
        if record.error_code is not None:
            listed["error"] = {"code": record.error_code, "details": record.error_details}
        elif record.message_id is not None:
            listed["message_id"] = record.message_id
            listed["response"] = self.outbound[record.message_id].answer()
        else:
            listed["response"] = MARKED_READ
        return listed


def request_json(raw: bytes) -> Any:
    """A Graph request's JSON body (an empty body is ``{}``)."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _cursor_position(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc


def _pick(everything: dict[str, Any], fields: str | None, default: tuple[str, ...]) -> dict[str, Any]:
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else list(default)
    if "id" not in wanted:
        wanted.append("id")
    return {name: everything[name] for name in wanted if name in everything}


def timestamp_of(value: Any) -> datetime:
    """A customer message time given as unix seconds or RFC 3339."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    return parsed
