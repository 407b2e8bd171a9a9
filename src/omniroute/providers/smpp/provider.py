"""The ``smpp`` SMS provider: a message becomes one submit_sm, or one per part of a
concatenated message (UDH with an 8-bit reference), on the channel's bound session
(``binds.py``).

How each outcome maps (``providers/errors.py``):

- every part accepted: a ``SendReceipt`` with the first part's id and every part's id;
- ESME_RTHROTTLED (or ESME_RMSGQFUL) on the first part, or a session not bound, or
  this process not holding the bind: retryable, nothing was sent;
- another command status on the first part: final, with the status as
  ``provider_code`` (a refused bind: the channel's credentials were rejected);
- a part written and never answered (connection dropped, response timed out): the
  outcome is unknown and the message is never sent again blindly;
- a later part refused after earlier ones were accepted: final (``sms_incomplete``),
  since sending the message again would deliver its first parts twice. A throttled
  later part is first tried again within the send's time.
"""

import asyncio
import random
from dataclasses import dataclass

from omniroute.providers.base import ChannelFacts, ChannelRef, OutboundMessage, SendReceipt, SmsProvider
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderElsewhere,
    ProviderOutcomeUnknown,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTransientError,
)
from omniroute.providers.smpp.binds import SmppBinds
from omniroute.providers.smpp.config import SmppConfig
from omniroute.providers.smpp.pdu import (
    ESM_CLASS_UDHI,
    Command,
    Pdu,
    Status,
    concat_udh,
    status_name,
)
from omniroute.providers.smpp.session import NotSent, SmppSession, Unanswered
from omniroute.sms.encoding import DATA_CODING, split

THROTTLED = (Status.RTHROTTLED, Status.RMSGQFUL)
THROTTLE_PAUSE_SECONDS = 1.0
LATER_PART_RETRIES = 3
REGISTERED_DELIVERY = 0x01
"""Ask the SMSC for a delivery receipt on success and on failure."""


@dataclass(frozen=True)
class SmppContext:
    binds: SmppBinds


class SmppSms(SmsProvider):
    name = "smpp"

    def __init__(self, channel: ChannelRef, context: SmppContext) -> None:
        super().__init__(channel)
        self.context = context
        self.config = SmppConfig.model_validate(channel.config)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        if message.content_type != "text" or not message.content:
            raise ProviderRejected(
                "An SMS carries text only.", code="unsupported_content", provider_code=None
            )
        session = await self._session()
        pdus = self._submits(message, str(message.content.get("body", "")))
        ids: list[str] = []
        for index, pdu in enumerate(pdus):
            ids.append(await self._submit_part(session, pdu, first=index == 0, sent=ids, total=len(pdus)))
        return SendReceipt(provider_message_id=ids[0], parts=tuple(ids))

    async def check(self) -> ChannelFacts | None:
        """Bind (or find the bind up): a refused bind is rejected credentials."""
        session = await self._session()
        try:
            await session.wait_bound()
        except NotSent as exc:
            if session.bind_refused is not None:
                raise self._bind_refused(session.bind_refused.status) from exc
            raise ProviderTransientError(str(exc), code="smsc_unavailable") from exc
        return None

    async def _session(self) -> SmppSession:
        session = await self.context.binds.session_for(self.channel, self.channel.throughput_per_second or 10)
        if session is None:
            raise ProviderElsewhere(
                "Another worker process holds this channel's SMPP bind.",
                code="smpp_bind_elsewhere",
                retry_after=1.0,
            )
        if session.bind_refused is not None:
            raise self._bind_refused(session.bind_refused.status)
        return session

    @staticmethod
    def _bind_refused(status: int) -> ProviderAuthError:
        return ProviderAuthError(
            f"The SMSC refused the bind ({status_name(status)}): check system_id and password.",
            code="credentials_rejected",
            provider_code=status_name(status),
        )

    def _submits(self, message: OutboundMessage, text: str) -> list[Pdu]:
        encoding, parts = split(text)
        source, ton, npi = self.config.source()
        common = {
            "source_addr_ton": ton,
            "source_addr_npi": npi,
            "source_addr": source,
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": message.recipient.lstrip("+"),
            "registered_delivery": REGISTERED_DELIVERY,
            "data_coding": DATA_CODING[encoding],
        }
        if len(parts) == 1:
            return [Pdu(Command.SUBMIT_SM, 0, params={**common, "short_message": parts[0]})]
        reference = random.randrange(256)
        return [
            Pdu(
                Command.SUBMIT_SM,
                0,
                params={
                    **common,
                    "esm_class": ESM_CLASS_UDHI,
                    "short_message": concat_udh(reference, len(parts), number) + part,
                },
            )
            for number, part in enumerate(parts, start=1)
        ]

    async def _submit_part(
        self, session: SmppSession, pdu: Pdu, *, first: bool, sent: list[str], total: int
    ) -> str:
        attempts = 1 if first else LATER_PART_RETRIES
        for attempt in range(attempts):
            try:
                response = await session.submit(pdu)
            except NotSent as exc:
                if first and session.bind_refused is not None:
                    raise self._bind_refused(session.bind_refused.status) from exc
                if first:
                    raise ProviderTransientError(str(exc), code="smsc_unavailable") from exc
                if attempt + 1 < attempts:
                    continue
                raise self._incomplete(sent, total, str(exc)) from exc
            except Unanswered as exc:
                raise ProviderOutcomeUnknown(
                    f"Part {len(sent) + 1} of {total} was sent and not answered: {exc}"
                ) from exc
            if response.status == Status.ROK:
                return str(response["message_id"])
            if response.status in THROTTLED:
                session.slow_down(THROTTLE_PAUSE_SECONDS)
                if first:
                    raise ProviderRateLimited(
                        f"The SMSC is throttling ({status_name(response.status)}).",
                        code="throttled",
                        provider_code=status_name(response.status),
                        retry_after=THROTTLE_PAUSE_SECONDS,
                    )
                await asyncio.sleep(THROTTLE_PAUSE_SECONDS)
                continue
            if first:
                raise ProviderRejected(
                    f"The SMSC refused the message: {status_name(response.status)}.",
                    code="smsc_rejected",
                    provider_code=status_name(response.status),
                )
            raise self._incomplete(sent, total, status_name(response.status))
        raise self._incomplete(sent, total, "throttled")

    @staticmethod
    def _incomplete(sent: list[str], total: int, why: str) -> ProviderRejected:
        return ProviderRejected(
            f"Only {len(sent)} of {total} parts were accepted ({why}); not sent again, "
            "which would deliver the first parts twice.",
            code="sms_incomplete",
            provider_code=why,
        )
