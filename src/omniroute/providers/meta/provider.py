"""The Graph API adapter: one instance per channel, one shared keep-alive aiohttp session
per process (``graph_http``, owned by the provider registry)."""

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import select

from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.db import Database
from omniroute.core.outbound import OutboundHttp
from omniroute.core.text import storable
from omniroute.messages.models import Message
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.base import (
    ChannelFacts,
    ChannelRef,
    OutboundMessage,
    ProviderTemplate,
    SendReceipt,
    SubmittedTemplate,
    TemplateDefinition,
    WhatsAppProvider,
)
from omniroute.providers.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderTransientError
from omniroute.providers.meta import wire
from omniroute.providers.meta.config import MetaConfig

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
"""Longest wait for the next bytes of the answer once the request was written."""
REQUEST_TIMEOUT = 12.0
"""Longest a whole request may take, connecting to the last byte of the answer (aiohttp
has no write timeout of its own). Below ``provider_timeout_seconds`` (15 s), so the
adapter, not the dispatcher's bound, decides whether a slow call was sent."""
GRAPH_TIMEOUT = aiohttp.ClientTimeout(
    total=REQUEST_TIMEOUT,
    connect=POOL_TIMEOUT + CONNECT_TIMEOUT,  # waiting for a pooled connection, then connecting
    sock_connect=CONNECT_TIMEOUT,
    sock_read=READ_TIMEOUT,
)
NOT_SENT_RETRIES = 2
"""How many times a request that provably never reached the server (refused connection,
connection failed before the request was completely written) is sent again at once."""
TEMPLATES_PAGE_SIZE = 100


def graph_http(settings: Settings) -> OutboundHttp:
    """The process's one Graph API session: ``provider_max_connections`` keep-alive
    connections, explicit timeouts, and every connection checked against the
    outbound-target policy (a channel's ``graph_base_url`` is the user's to set)."""
    return OutboundHttp(
        max_connections=settings.provider_max_connections, timeout=GRAPH_TIMEOUT, guarded_by=settings
    )


def completely_written(upload: aiohttp.UploadTracker) -> bool:
    """Whether the whole request (headers and body) had been handed to the connection
    when the request ended. If it had not, the server cannot have all of it: the writer
    stops at the failure, and what it had handed over either left before the failure
    was reported (a connection the server closed is flushed first) or was discarded
    with the connection (a reset)."""
    done = upload.upload_complete
    return done.done() and not done.cancelled() and done.exception() is None


@dataclass(frozen=True)
class GraphAnswer:
    status: int
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class MetaContext:
    http: OutboundHttp
    db: Database


class MetaWhatsApp(WhatsAppProvider):
    name = "meta"

    def __init__(self, channel: ChannelRef, context: MetaContext) -> None:
        super().__init__(channel)
        self.context = context
        self.config = MetaConfig.model_validate(channel.config)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = await self._request(method, path, **kwargs)
        try:
            body = storable(json.loads(answer.body))  # Meta's text goes into our rows
        except (ValueError, RecursionError) as exc:
            if answer.is_success:
                raise ProviderOutcomeUnknown(
                    f"Meta answered HTTP {answer.status} with a body that is not JSON."
                ) from exc
            raise wire.error_from_response(answer.status, None) from exc
        if not answer.is_success:
            raise wire.error_from_response(answer.status, body)
        return body if isinstance(body, dict) else {}

    async def _request(self, method: str, path: str, **kwargs: Any) -> GraphAnswer:
        """Send once; again at once (on a new connection) if it provably never reached
        the server, unless that took a timeout (the caller's time is bounded)."""
        retries = 0
        while True:
            upload = aiohttp.UploadTracker()
            try:
                async with self.context.http.request(
                    method,
                    self.config.url(path),
                    headers={"Authorization": f"Bearer {self.config.access_token}"},
                    upload_tracker=upload,
                    **kwargs,
                ) as response:
                    return GraphAnswer(response.status, await response.read())
            except targets.TargetRefused as refused:
                raise ProviderRejected(
                    f"config.graph_base_url refused: {refused}. Nothing was sent.", code="target_forbidden"
                ) from refused
            # aiohttp refuses to write a malformed request (a control character in a
            # header) with a ValueError; the tracker says it was never sent
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = wire.error_from_transport(exc, request_written=completely_written(upload))
                never_left = isinstance(error, ProviderTransientError)
                if not never_left or isinstance(exc, TimeoutError) or retries == NOT_SENT_RETRIES:
                    raise error from exc
                retries += 1
                log.info(
                    "Graph API request never reached the server (%s); sending it again", type(exc).__name__
                )

    async def send(self, message: OutboundMessage) -> SendReceipt:
        references = await self._wamids(wire.referenced_ids(message))
        body = await self._call(
            "POST", f"{self.config.phone_number_id}/messages", json=wire.message_payload(message, references)
        )
        return wire.send_receipt(body)

    async def _wamids(self, message_ids: list[str]) -> dict[str, str]:
        """Meta knows messages by its own ids: look ours up on this channel."""
        if not message_ids:
            return {}
        async with self.context.db.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Message.id, Message.provider_message_id).where(
                        Message.channel_id == self.channel.id, Message.id.in_(message_ids)
                    )
                )
            ).all()
        found = {row.id: row.provider_message_id for row in rows if row.provider_message_id}
        missing = sorted(set(message_ids) - set(found))
        if missing:
            raise ProviderRejected(
                f"Message {missing[0]} has no WhatsApp id on this channel, so it cannot be replied or reacted to.",
                code="reference_not_found",
            )
        return found

    async def check(self) -> ChannelFacts:
        """Read the phone number object: the token works and the number is known."""
        body = await self._call(
            "GET", self.config.phone_number_id, params={"fields": wire.PHONE_NUMBER_FIELDS}
        )
        return wire.channel_facts(body)

    async def mark_read(self, provider_message_id: str) -> None:
        await self._call(
            "POST",
            f"{self.config.phone_number_id}/messages",
            json=wire.mark_read_payload(provider_message_id),
        )

    async def submit_template(self, template: TemplateDefinition) -> SubmittedTemplate:
        body = await self._call(
            "POST", f"{self.config.waba_id}/message_templates", json=wire.template_payload(template)
        )
        return SubmittedTemplate(
            provider_template_id=str(body["id"]),
            status=str(body.get("status") or TemplateStatus.PENDING.value),
            category=str(body.get("category") or template.category),
        )

    async def edit_template(
        self, provider_template_id: str, template: TemplateDefinition
    ) -> SubmittedTemplate:
        """Only the components are sent: Meta refuses a category on an approved template."""
        await self._call("POST", provider_template_id, json={"components": template.components})
        return SubmittedTemplate(provider_template_id, TemplateStatus.PENDING.value, template.category)

    async def delete_template(self, name: str, provider_template_id: str | None) -> None:
        params = {"name": name}
        if provider_template_id:
            params["hsm_id"] = provider_template_id
        await self._call("DELETE", f"{self.config.waba_id}/message_templates", params=params)

    async def list_templates(self) -> list[ProviderTemplate]:
        templates: list[ProviderTemplate] = []
        params = {"fields": wire.TEMPLATE_FIELDS, "limit": str(TEMPLATES_PAGE_SIZE)}
        while True:
            body = await self._call("GET", f"{self.config.waba_id}/message_templates", params=params)
            templates.extend(wire.provider_template(item) for item in body.get("data") or [])
            after = wire.next_cursor(body)
            if after is None:
                return templates
            params = {**params, "after": after}
