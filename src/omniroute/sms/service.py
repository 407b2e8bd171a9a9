"""SMS specifics on a message: its encoding and segments (and so its price), its parts
as the SMSC named them, and the delivery receipts that settle its status.

A receipt names one part by the SMSC's message id. It is stored first, always
(``DeliveryReport``), then applied if its part is known. A receipt can overtake the
submit_sm_resp, so the part may only become known when dispatch records the send:
``record_parts`` then applies the receipts already waiting. Both take the channel's
bind lease row (``smpp_binds``) for update first, so a receipt and its parts written
at the same time see each other: whichever commits second applies the receipt. A
recurring sweep (``apply_pending``) is the safety net for whatever is left. A message is ``delivered`` once every part is; one failed part
fails it with that part's reason.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelType
from omniroute.messages import service as messages
from omniroute.messages.models import Message, MessageStatus
from omniroute.policy.channels import semantics_of
from omniroute.providers.events import StatusUpdate
from omniroute.sms.models import DeliveryReport, SmppBind, SmsPart


@dataclass(frozen=True)
class StatOutcome:
    status: Literal["sent", "delivered", "failed"]
    code: str | None = None
    message: str = ""


STAT_OUTCOMES: dict[str, StatOutcome] = {
    "DELIVRD": StatOutcome("delivered"),
    "ENROUTE": StatOutcome("sent"),
    "ACCEPTD": StatOutcome("sent"),
    "EXPIRED": StatOutcome(
        "failed", "expired", "The SMSC gave up: the validity period ended before the handset took it."
    ),
    "REJECTD": StatOutcome("failed", "rejected", "The SMSC or the operator rejected the message."),
    "UNDELIV": StatOutcome("failed", "undeliverable", semantics_of("sms").undeliverable.message),
    "DELETED": StatOutcome("failed", "deleted", "The message was deleted at the SMSC before delivery."),
    "UNKNOWN": StatOutcome("failed", "delivery_unknown", "The SMSC reports the message in an unknown state."),
}
"""Delivery receipt ``stat`` values (SMPP 3.4 Appendix B) and what they mean for us."""


def outcome_of(stat: str) -> StatOutcome:
    return STAT_OUTCOMES.get(
        stat.upper(), StatOutcome("failed", "delivery_failed", f"The SMSC reported '{stat}'.")
    )


async def record_parts(
    session: AsyncSession, message: Message, provider_ids: tuple[str, ...], now: datetime
) -> None:
    """The SMSC accepted the message's parts under these ids: keep them, and apply the
    receipts that arrived before we knew them."""
    await _serialise_receipts(session, message.channel_id)
    session.add_all(
        SmsPart(message_id=message.id, channel_id=message.channel_id, part=number, provider_message_id=pid)
        for number, pid in enumerate(provider_ids, start=1)
    )
    await session.flush()
    waiting = (
        await session.scalars(
            select(DeliveryReport).where(
                DeliveryReport.channel_id == message.channel_id,
                DeliveryReport.provider_message_id.in_(provider_ids),
                DeliveryReport.applied_at.is_(None),
            )
        )
    ).all()
    if waiting:
        await _settle(session, message, now)
        for report in waiting:
            report.applied_at = now


async def record_receipt(
    session: AsyncSession,
    channel: Channel,
    *,
    provider_message_id: str,
    stat: str,
    error_code: str | None,
    done_at: datetime | None,
    now: datetime,
) -> Message | None:
    """Keep a receipt and apply it if its part is known; the message it moved, if any."""
    await _serialise_receipts(session, channel.id)
    report = DeliveryReport(
        channel_id=channel.id,
        provider_message_id=provider_message_id,
        stat=stat.upper()[:16],
        error_code=error_code[:16] if error_code else None,
        done_at=done_at,
        received_at=now,
    )
    session.add(report)
    await session.flush()
    return await _apply(session, channel.id, [report], now)


async def _serialise_receipts(session: AsyncSession, channel_id: str) -> None:
    """Lock the channel's bind lease row until commit (no row, as for the sandbox, locks
    nothing: nothing there races)."""
    await session.execute(
        select(SmppBind.channel_id).where(SmppBind.channel_id == channel_id).with_for_update()
    )


async def record_simulated_receipts(session: AsyncSession, channel: Channel, update: StatusUpdate) -> None:
    """The sandbox's final status for an SMS, kept as one delivery report per part (the
    status itself was applied by ingest), so the sandbox shows delivery reports too."""
    if channel.type != ChannelType.SMS or update.status not in ("delivered", "failed"):
        return
    parts = (
        await session.scalars(
            select(SmsPart.provider_message_id)
            .join(Message, Message.id == SmsPart.message_id)
            .where(
                Message.channel_id == channel.id, Message.provider_message_id == update.provider_message_id
            )
            .order_by(SmsPart.part)
        )
    ).all()
    stat = (
        "DELIVRD"
        if update.status == "delivered"
        else str(update.error.provider_code if update.error else "UNDELIV")
    )
    session.add_all(
        DeliveryReport(
            channel_id=channel.id,
            provider_message_id=part,
            stat=stat[:16],
            error_code="000" if stat == "DELIVRD" else None,
            done_at=update.timestamp,
            received_at=update.timestamp,
            applied_at=update.timestamp,
        )
        for part in parts
    )


async def apply_pending(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Apply stored receipts whose part has become known since (the sweep); how many."""
    reports = (
        await session.scalars(
            select(DeliveryReport)
            .join(
                SmsPart,
                (SmsPart.channel_id == DeliveryReport.channel_id)
                & (SmsPart.provider_message_id == DeliveryReport.provider_message_id),
            )
            .where(DeliveryReport.applied_at.is_(None))
            .order_by(DeliveryReport.id)
            .limit(limit)
        )
    ).all()
    by_channel: dict[str, list[DeliveryReport]] = {}
    for report in reports:
        by_channel.setdefault(report.channel_id, []).append(report)
    for channel_id, group in by_channel.items():
        await _apply(session, channel_id, group, now)
    return len(reports)


async def _apply(
    session: AsyncSession, channel_id: str, reports: list[DeliveryReport], now: datetime
) -> Message | None:
    ids = {report.provider_message_id for report in reports}
    parts = (
        await session.scalars(
            select(SmsPart).where(SmsPart.channel_id == channel_id, SmsPart.provider_message_id.in_(ids))
        )
    ).all()
    message: Message | None = None
    for message_id in sorted({part.message_id for part in parts}):
        message = await session.scalar(select(Message).where(Message.id == message_id).with_for_update())
        if message is not None:
            await _settle(session, message, now)
    known = {part.provider_message_id for part in parts}
    for report in reports:
        if report.provider_message_id in known:
            report.applied_at = now
    return message


async def _settle(session: AsyncSession, message: Message, now: datetime) -> None:
    """Move the message as its parts' receipts say: failed if one part failed,
    delivered once all are."""
    rows = await session.execute(
        select(SmsPart.part, DeliveryReport.stat, DeliveryReport.done_at)
        .join(
            DeliveryReport,
            (DeliveryReport.channel_id == SmsPart.channel_id)
            & (DeliveryReport.provider_message_id == SmsPart.provider_message_id),
        )
        .where(SmsPart.message_id == message.id)
        .order_by(DeliveryReport.id)
    )
    total = len((await session.scalars(select(SmsPart.part).where(SmsPart.message_id == message.id))).all())
    delivered: dict[int, datetime] = {}
    for part, stat, done_at in rows:
        outcome = outcome_of(stat)
        if outcome.status == "failed":
            messages.fail(
                session,
                message,
                done_at or now,
                code=outcome.code or "delivery_failed",
                text=f"Part {part}: {outcome.message}",
                provider_code=stat,
            )
            return
        if outcome.status == "delivered":
            delivered[part] = done_at or now
    if total and len(delivered) == total:
        at = max(delivered.values())
        messages.transition(session, message, MessageStatus.DELIVERED, at, last=MessageStatus.DELIVERED)


async def delivery_reports(session: AsyncSession, message: Message) -> list[dict[str, Any]]:
    """Every receipt of the message's parts, oldest first."""
    rows = await session.execute(
        select(
            SmsPart.part,
            SmsPart.provider_message_id,
            DeliveryReport.stat,
            DeliveryReport.error_code,
            DeliveryReport.done_at,
        )
        .join(
            DeliveryReport,
            (DeliveryReport.channel_id == SmsPart.channel_id)
            & (DeliveryReport.provider_message_id == SmsPart.provider_message_id),
        )
        .where(SmsPart.message_id == message.id)
        .order_by(SmsPart.part, DeliveryReport.id)
    )
    return [
        {
            "part": part,
            "provider_message_id": provider_id,
            "status": outcome_of(stat).status,
            "stat": stat,
            "error_code": error_code,
            "done_at": done_at,
        }
        for part, provider_id, stat, error_code, done_at in rows
    ]
