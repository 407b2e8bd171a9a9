import asyncio
import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.channels.schemas import ChannelCheckOut, ChannelCreate, ChannelOut, ChannelUpdate, CheckResult
from omniroute.core.errors import InvalidRequestError, PolicyError, not_found
from omniroute.core.ids import new_id
from omniroute.core.phone import to_e164
from omniroute.core.tenancy import Mode, Tenant
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND, MessagingTier, QualityRating
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderTransientError,
)
from omniroute.providers.registry import SANDBOX, ProviderRegistry
from omniroute.workspaces.auth import AuthContext

SANDBOX_ADDRESSES = {
    ChannelType.WHATSAPP: "+15550100001",
    ChannelType.SMS: "+15550100002",
    ChannelType.EMAIL: "sandbox@omniroute.test",
    ChannelType.WEB: "sandbox-widget",
}
ALPHANUMERIC_SENDER_ID = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,11}")
SANDBOX_THROUGHPUT = {ChannelType.WHATSAPP: DEFAULT_THROUGHPUT_PER_SECOND}
OTHER_THROUGHPUT = 10


def scoped(tenant: Tenant) -> Select[Channel]:
    return select(Channel).where(
        Channel.workspace_id == tenant.workspace_id,
        Channel.mode == tenant.mode,
        Channel.deleted_at.is_(None),
    )


async def get(session: AsyncSession, tenant: Tenant, channel_id: str, *, param: str | None = None) -> Channel:
    channel = await session.scalar(scoped(tenant).where(Channel.id == channel_id))
    if channel is None:
        raise not_found("channel", channel_id, param=param)
    return channel


def require_usable(channel: Channel) -> None:
    if channel.status != ChannelStatus.ACTIVE:
        raise PolicyError(
            "channel_unavailable",
            f"Channel {channel.id} is {channel.status}: "
            + (
                "enable it again with PATCH /v1/channels/{id}."
                if channel.status == ChannelStatus.DISABLED
                else "its provider rejected the credentials; update them and check the channel."
            ),
            param="channel_id",
            details={"status": channel.status},
        )


def new_channel(
    workspace_id: str,
    mode: Mode,
    *,
    type: ChannelType,
    name: str,
    provider: str,
    address: str,
    config: dict[str, Any],
) -> Channel:
    whatsapp = type == ChannelType.WHATSAPP
    return Channel(
        id=new_id("ch"),
        workspace_id=workspace_id,
        mode=mode,
        type=type,
        name=name,
        provider=provider,
        status=ChannelStatus.ACTIVE,
        address=address,
        config=config,
        throughput_per_second=SANDBOX_THROUGHPUT.get(type, OTHER_THROUGHPUT),
        messaging_tier=MessagingTier.TIER_2K.value if whatsapp else None,
        quality_rating=QualityRating.GREEN.value if whatsapp else None,
    )


def sandbox_channels(workspace_id: str) -> list[Channel]:
    """The ready-made test-mode channels every workspace starts with."""
    return [
        new_channel(
            workspace_id,
            Mode.TEST,
            type=channel_type,
            name=f"Sandbox {channel_type.value}",
            provider=SANDBOX,
            address=address,
            config={},
        )
        for channel_type, address in SANDBOX_ADDRESSES.items()
    ]


async def create(
    session: AsyncSession, auth: AuthContext, body: ChannelCreate, providers: ProviderRegistry
) -> Channel:
    if not providers.supports(body.provider, body.type):
        raise InvalidRequestError(
            "provider_unsupported",
            f"Provider '{body.provider}' is not available for {body.type.value} channels. "
            f"Available: {', '.join(providers.providers_for(body.type))}.",
            param="provider",
        )
    config = providers.validate_config(body.provider, body.config)
    address = body.address or (SANDBOX_ADDRESSES[body.type] if body.provider == SANDBOX else None)
    if address is None:
        raise InvalidRequestError(
            "parameter_missing", "'address' is required for this provider.", param="address"
        )
    address = channel_address(body.type, address)
    channel = new_channel(
        auth.workspace_id,
        auth.mode,
        type=body.type,
        name=body.name,
        provider=body.provider,
        address=address,
        config=config,
    )
    session.add(channel)
    await session.flush()
    return channel


def channel_address(channel_type: ChannelType, raw: str) -> str:
    """A WhatsApp number is a phone number (stored in E.164); an SMS sender is one too, or
    an alphanumeric sender id (1-11 letters and digits, at least one letter)."""
    if channel_type == ChannelType.SMS and ALPHANUMERIC_SENDER_ID.fullmatch(raw):
        return raw
    if channel_type in (ChannelType.WHATSAPP, ChannelType.SMS):
        return to_e164(raw, param="address", code="invalid_address")
    return raw


def update(channel: Channel, body: ChannelUpdate, providers: ProviderRegistry) -> Channel:
    if body.name is not None:
        channel.name = body.name
    if body.status is not None:
        channel.status = ChannelStatus(body.status)
    if body.config is not None:
        channel.config = providers.validate_config(
            channel.provider, {**(channel.config or {}), **body.config}
        )
    return channel


async def check(channel: Channel, providers: ProviderRegistry, within: float) -> ChannelCheckOut:
    """Ask the provider whether the channel's credentials work. Rejected credentials
    mark the channel; working ones clear that mark; an unreachable provider changes nothing."""
    try:
        await asyncio.wait_for(providers.for_channel(channel).check(), within)
    except ProviderAuthError as error:
        channel.status = ChannelStatus.CREDENTIALS_REJECTED
        return _check_out(channel, "credentials_rejected", error)
    except (ProviderTransientError, ProviderOutcomeUnknown, TimeoutError) as error:
        return _check_out(channel, "unreachable", error)
    except ProviderError as error:
        return _check_out(channel, "error", error)
    if channel.status == ChannelStatus.CREDENTIALS_REJECTED:
        channel.status = ChannelStatus.ACTIVE
    return _check_out(channel, "ok", None)


def _check_out(channel: Channel, result: CheckResult, error: Exception | None) -> ChannelCheckOut:
    if isinstance(error, ProviderError):
        message: str | None = error.message
        provider_code = error.provider_code
    else:
        message = "No answer from the provider in time." if error is not None else None
        provider_code = None
    return ChannelCheckOut(
        result=result, message=message, provider_code=provider_code, channel=ChannelOut.of(channel)
    )
