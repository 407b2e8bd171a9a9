from functools import partial
from typing import Annotated

from fastapi import Depends, Query, Request

from omniroute.channels.models import Channel, ChannelType
from omniroute.core import metrics
from omniroute.core.deps import SessionDep, end_transaction_before_provider_call
from omniroute.core.errors import InvalidRequestError, ProviderFailure, not_found
from omniroute.core.http import api_router
from omniroute.core.openapi import error_responses
from omniroute.core.pagination import Page, PageParams, page_params, paginate
from omniroute.messages import email, service
from omniroute.messages.listing import MessageFilter, filtered
from omniroute.messages.models import Direction, Message, MessageStatus
from omniroute.messages.schemas import DeliveryReportList, MessageOut, SendMessage, StatusChangeOut
from omniroute.providers.errors import ProviderError
from omniroute.services import ServicesDep, wake_workers_after_commit
from omniroute.sms import service as sms
from omniroute.workspaces.auth import Auth

router = api_router(prefix="/messages", tags=["messages"])


@router.post(
    "",
    status_code=202,
    summary="Send a message",
    description="Checks the WhatsApp window, opt-out, template and tier rules, stores the message "
    "and queues it. The response says what will actually be sent (`kind`, `fallback_used`).",
)
async def send_message(
    body: SendMessage, auth: Auth, session: SessionDep, request: Request, services: ServicesDep
) -> MessageOut:
    limit = services.settings.email_attachments_max_bytes
    email.require_within_limits(body.email, limit, param="email")
    email.require_within_limits(body.fallback.email if body.fallback else None, limit, param="fallback.email")
    message = await service.accept(session, auth, auth.now(), body)
    wake_workers_after_commit(request)
    request.state.after_commit.append(
        partial(metrics.record_accepted, message.channel_id, str(message.priority))
    )
    return service.to_out(message, [StatusChangeOut(status=message.status, at=message.created_at)])


@router.get("", summary="List messages")
async def list_messages(
    auth: Auth,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
    channel_id: str | None = None,
    status: MessageStatus | None = None,
    direction: Direction | None = None,
    contact: Annotated[str | None, Query(description="Contact id or address.")] = None,
    campaign_id: str | None = None,
    reference: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[MessageOut]:
    where = MessageFilter(channel_id, status, direction, None, contact, campaign_id, reference)
    statement = filtered(auth, where)
    rows, has_more, cursor = await paginate(session, statement, Message.id, page)
    return Page(data=[service.to_out(m) for m in rows], has_more=has_more, next_cursor=cursor)


@router.post(
    "/{message_id}/read",
    summary="Mark an inbound WhatsApp message as read",
    responses=error_responses(502),
    description="Shows the customer their message was read (blue ticks), now.",
)
async def mark_read(message_id: str, auth: Auth, session: SessionDep, services: ServicesDep) -> MessageOut:
    message = await session.scalar(service.scoped(auth).where(Message.id == message_id))
    if message is None:
        raise not_found("message", message_id)
    channel = await session.get(Channel, message.channel_id)
    assert channel is not None
    if message.direction != Direction.INBOUND or channel.type != ChannelType.WHATSAPP:
        raise InvalidRequestError(
            "message_not_inbound",
            "Only a message a customer sent on WhatsApp can be marked as read.",
            param="message_id",
        )
    await end_transaction_before_provider_call(session)
    try:
        await services.providers.whatsapp(channel).mark_read(str(message.provider_message_id))
    except ProviderError as error:
        raise ProviderFailure(
            error.code,
            f"The provider refused the read receipt: {error.message}",
            details={"provider_code": error.provider_code},
        ) from error
    return service.to_out(message)


@router.get("/{message_id}", summary="Fetch a message with its status history")
async def get_message(message_id: str, auth: Auth, session: SessionDep) -> MessageOut:
    message = await session.scalar(service.scoped(auth).where(Message.id == message_id))
    if message is None:
        raise not_found("message", message_id)
    return service.to_out(message, await service.status_history(session, message.id))


@router.get(
    "/{message_id}/delivery-reports",
    summary="An SMS's delivery reports, one per part",
    description="Every delivery receipt the SMSC sent for the message's parts, oldest first "
    "(empty until one arrives, and for messages on other channel types).",
)
async def delivery_reports(message_id: str, auth: Auth, session: SessionDep) -> DeliveryReportList:
    message = await session.scalar(service.scoped(auth).where(Message.id == message_id))
    if message is None:
        raise not_found("message", message_id)
    return DeliveryReportList.model_validate({"data": await sms.delivery_reports(session, message)})
