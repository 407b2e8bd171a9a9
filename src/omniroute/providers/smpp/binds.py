"""Who holds a channel's one SMPP bind, and the process-wide sessions.

An SMSC allows an account a fixed number of binds, and receipts and inbound messages
arrive on whichever bind the SMSC chooses, so each channel has exactly one bind across
all worker processes. It belongs to the process holding the channel's lease row
(``smpp_binds``): taken when free or expired, renewed every third of
``LEASE_SECONDS``, given up on a clean stop. A process that loses its lease (it could
not renew in time) closes its bind before another can take the lease over. A
process without the lease does not bind and does not send: its sends are handed back
to the queue (``ProviderElsewhere``) for the holder to take.

Each bound session stores what the SMSC delivers (``on_deliver``) before acknowledging
it: delivery receipts go to ``sms.service.record_receipt``, mobile-originated messages
to ``ingest.apply_event``. A deliver_sm that could not be stored is answered with an
error, so the SMSC delivers it again.
"""

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelStatus
from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.core.time import utcnow
from omniroute.core.upsert import insert_if_absent
from omniroute.providers.base import ChannelRef
from omniroute.providers.events import InboundMessage
from omniroute.providers.smpp.config import SmppConfig
from omniroute.providers.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    ESM_CLASS_UDHI,
    MessageState,
    Pdu,
    Status,
    Tag,
    parse_receipt_text,
    strip_udh,
)
from omniroute.providers.smpp.session import Credentials, SmppSession, Timing
from omniroute.sms import encoding
from omniroute.sms.models import SmppBind

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
STAT_BY_STATE = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}
ESME_RX_T_APPN = 0x64
"""command_status "ESME receiver temporary application error": deliver it again later."""


@dataclass
class _Bind:
    config: dict[str, object]
    session: SmppSession
    owned: asyncio.Event = field(default_factory=asyncio.Event)
    decided: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the first lease attempt is over (owned or not)."""
    task: asyncio.Task[None] | None = None


class SmppBinds:
    """This process's SMPP sessions, one per channel whose lease it holds."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        timing: Timing = Timing(),
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.settings = settings
        self.timing = timing
        self.lease_seconds = lease_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._binds: dict[str, _Bind] = {}

    async def session_for(self, channel: ChannelRef, throughput_per_second: float) -> SmppSession | None:
        """The channel's session if this process holds its bind (starting it on first
        use); None if another process does."""
        bind = self._binds.get(channel.id)
        if bind is not None and bind.config != channel.config:
            await self._stop(channel.id)  # the channel's config changed: bind again with it
            bind = None
        if bind is None:
            bind = self._start(channel, throughput_per_second)
        await bind.decided.wait()
        return bind.session if bind.owned.is_set() else None

    def _start(self, channel: ChannelRef, throughput_per_second: float) -> _Bind:
        config = SmppConfig.model_validate(channel.config)

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            address = await self._resolve(config, channel)
            context = ssl.create_default_context() if config.tls else None
            return await asyncio.open_connection(
                address, config.port, ssl=context, server_hostname=config.host if context else None
            )

        async def on_deliver(pdu: Pdu) -> int:
            return await self._deliver(channel.id, pdu)

        session = SmppSession(
            connect,
            Credentials(config.system_id, config.password, config.system_type),
            on_deliver,
            window=config.window,
            throughput_per_second=throughput_per_second,
            timing=self.timing,
        )
        bind = _Bind(dict(channel.config), session)
        bind.task = asyncio.create_task(self._hold(channel.id, bind))
        self._binds[channel.id] = bind
        return bind

    async def _resolve(self, config: SmppConfig, channel: ChannelRef) -> str:
        """The address to connect to, checked by the outbound-target policy at every
        connection (a name that now resolves to an internal address is refused)."""
        addresses = await targets.resolve(config.host, config.port)
        if Mode(channel.mode) is Mode.LIVE and not self.settings.allow_private_targets:
            targets.refuse_internal(config.host, addresses)
        if not addresses:
            raise OSError(f"{config.host} does not resolve")
        return addresses[0]

    async def _hold(self, channel_id: str, bind: _Bind) -> None:
        """Hold the lease and, while holding it, the bound session."""
        runner: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    held = await self._take_lease(channel_id)
                except Exception:
                    log.exception("SMPP lease for %s could not be taken or renewed", channel_id)
                    held = False
                if held and runner is None:
                    bind.owned.set()
                    runner = asyncio.create_task(bind.session.run())
                elif not held and runner is not None:
                    log.warning("SMPP lease for %s lost: closing this process's bind", channel_id)
                    bind.owned.clear()
                    await bind.session.stop()
                    runner.cancel()
                    runner = None
                bind.decided.set()
                await asyncio.sleep(self.lease_seconds / 3)
        finally:
            bind.owned.clear()
            if runner is not None:
                await bind.session.stop()
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    async def keep(self, channels: list[ChannelRef]) -> None:
        """Bind every one of these channels (each subject to its lease), so receipts and
        inbound messages flow without waiting for a send; drop binds to any other."""
        wanted = {channel.id: channel for channel in channels}
        for channel_id in [c for c in self._binds if c not in wanted]:
            await self._stop(channel_id)
        for channel in channels:
            await self.session_for(channel, channel.throughput_per_second or 10)

    async def _take_lease(self, channel_id: str) -> bool:
        """Take or renew the channel's lease; False if another process holds it, or the
        channel was disabled or deleted (then this process lets its bind go). A channel
        whose credentials were rejected keeps trying, so a check after new credentials
        can bind."""
        now = utcnow()
        until = now + timedelta(seconds=self.lease_seconds)
        async with self.db.transaction() as session:
            channel = await session.get(Channel, channel_id)
            if channel is None or channel.deleted_at is not None or channel.status == ChannelStatus.DISABLED:
                return False
            if await insert_if_absent(
                session, SmppBind, {"channel_id": channel_id, "owner": self.owner, "lease_until": until}
            ):
                return True
            result = await session.execute(
                update(SmppBind)
                .where(
                    SmppBind.channel_id == channel_id,
                    or_(SmppBind.owner == self.owner, SmppBind.lease_until < now),
                )
                .values(owner=self.owner, lease_until=until)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _release(self, channel_id: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(SmppBind)
                .where(SmppBind.channel_id == channel_id, SmppBind.owner == self.owner)
                .values(lease_until=datetime(1970, 1, 1, tzinfo=UTC))
            )

    async def _stop(self, channel_id: str) -> None:
        bind = self._binds.pop(channel_id, None)
        if bind is None or bind.task is None:
            return
        owned = bind.owned.is_set()
        bind.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bind.task
        if owned:
            with contextlib.suppress(Exception):
                await self._release(channel_id)

    async def close(self) -> None:
        for channel_id in list(self._binds):
            await self._stop(channel_id)

    # --- what the SMSC delivers ------------------------------------------------

    async def _deliver(self, channel_id: str, pdu: Pdu) -> int:
        # Imported here: ingest depends on the messages domain, which depends on the
        # provider registry that builds this class.
        from omniroute.ingest import service as ingest

        try:
            async with self.db.transaction() as session:
                channel = await session.get(Channel, channel_id)
                if channel is None:
                    log.warning("deliver_sm for deleted channel %s: acknowledged and dropped", channel_id)
                    return Status.ROK
                if pdu["esm_class"] & 0x3C == ESM_CLASS_DELIVERY_RECEIPT:
                    await _record_receipt(session, channel, pdu)
                else:
                    await ingest.apply_event(session, channel, _inbound(pdu))
        except Exception:
            log.exception("deliver_sm on %s could not be stored; the SMSC will deliver it again", channel_id)
            return ESME_RX_T_APPN
        return Status.ROK


async def _record_receipt(session: AsyncSession, channel: Channel, pdu: Pdu) -> None:
    from omniroute.sms import service as sms  # see ``SmppBinds._deliver``

    text = encoding.decode(pdu["short_message"] or pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b""), 0x01)
    fields = parse_receipt_text(text)
    provider_id = pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) or fields.get("id", "")
    state = pdu.tlv_int(Tag.MESSAGE_STATE)
    stat = fields.get("stat") or (STAT_BY_STATE.get(MessageState(state)) if state in STAT_BY_STATE else None)
    if not provider_id or not stat:
        log.warning("delivery receipt on %s without an id or a stat: %r", channel.id, text)
        return
    await sms.record_receipt(
        session,
        channel,
        provider_message_id=provider_id,
        stat=stat,
        error_code=fields.get("err"),
        done_at=_receipt_time(fields.get("done date")),
        now=utcnow(),
    )


def _receipt_time(value: str | None) -> datetime | None:
    """``YYMMDDhhmm`` (or with seconds), taken as UTC; None if absent or malformed."""
    for pattern in ("%y%m%d%H%M%S", "%y%m%d%H%M"):
        try:
            return datetime.strptime(value or "", pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _inbound(pdu: Pdu) -> InboundMessage:
    """A mobile-originated deliver_sm as an inbound message. SMPP gives it no id of its
    own: it gets a fresh one (an SMSC that delivers it again after a lost
    deliver_sm_resp makes a second copy)."""
    raw = pdu["short_message"] or pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    if pdu["esm_class"] & ESM_CLASS_UDHI:
        raw, _ = strip_udh(raw)
    source = str(pdu["source_addr"])
    if pdu["source_addr_ton"] == 1 and source.isdigit():
        source = "+" + source
    return InboundMessage(
        provider_message_id=f"smpp-mo-{uuid.uuid4().hex}",
        sender=source,
        timestamp=utcnow(),
        content_type="text",
        content={"body": encoding.decode(raw, pdu["data_coding"])},
    )
