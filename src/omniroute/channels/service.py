import asyncio
import re
from contextlib import suppress
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from omniroute.channels.models import Channel, ChannelStatus, ChannelType
from omniroute.channels.schemas import ChannelCheckOut, ChannelCreate, ChannelOut, ChannelUpdate, CheckResult
from omniroute.core.deps import end_transaction_before_provider_call
from omniroute.core.errors import InvalidRequestError, PolicyError, not_found
from omniroute.core.ids import new_id
from omniroute.core.phone import to_e164
from omniroute.core.rowcache import ROWS
from omniroute.core.secrets import SECRET_KEYS
from omniroute.core.tenancy import Mode, Tenant
from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND, MessagingTier, QualityRating
from omniroute.providers.base import ChannelFacts
from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderTransientError,
)
from omniroute.providers.registry import SANDBOX, ProviderRegistry
from omniroute.providers.widget.config import (
    public_key_of,
    refuse_generated_keys,
    with_generated_keys,
)
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


_CHANNEL_BY_ID = select(Channel).where(
    Channel.id == bindparam("channel_id"),
    Channel.workspace_id == bindparam("workspace_id"),
    Channel.mode == bindparam("mode"),
    Channel.deleted_at.is_(None),
)
"""``scoped(tenant)`` for one channel, built once: every send reads its channel."""


async def get(session: AsyncSession, tenant: Tenant, channel_id: str, *, param: str | None = None) -> Channel:
    channel = await session.scalar(
        _CHANNEL_BY_ID, {"channel_id": channel_id, "workspace_id": tenant.workspace_id, "mode": tenant.mode}
    )
    if channel is None:
        raise not_found("channel", channel_id, param=param)
    return channel


_CHANNEL = select(Channel).where(Channel.id == bindparam("channel_id"))
ROWS.register("channel", Channel, "id")


async def recent(session: AsyncSession, channel_id: str) -> Channel | None:
    """The channel as it was at most ``core.rowcache.TTL_SECONDS`` ago, deleted or not,
    in any workspace: for the hot paths (a send, a provider webhook) that only read it and
    check its scope themselves. Never the base of a change (``get`` reads it afresh)."""
    found = await ROWS.get(session, "channel", channel_id)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    channel = await session.scalar(_CHANNEL, {"channel_id": channel_id})
    if channel is not None:
        ROWS.put(session, "channel", channel_id, [channel])
    return channel


async def get_recent(
    session: AsyncSession, tenant: Tenant, channel_id: str, *, param: str | None = None
) -> Channel:
    """``get`` for a send: the tenant's channel from ``recent``."""
    channel = await recent(session, channel_id)
    if (
        channel is None
        or channel.workspace_id != tenant.workspace_id
        or channel.mode != tenant.mode
        or channel.deleted_at is not None
    ):
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
    """A live WhatsApp channel is described by its provider before it is stored (address,
    name, quality, throughput, tier); what the provider cannot say must be given."""
    if not providers.supports(body.provider, body.type):
        raise InvalidRequestError(
            "provider_unsupported",
            f"Provider '{body.provider}' is not available for {body.type.value} channels. "
            f"Available: {', '.join(providers.providers_for(body.type))}.",
            param="provider",
        )
    refuse_generated_keys(body.config)
    config = providers.validate_config(body.provider, body.config, body.type)
    await providers.require_allowed_urls(body.provider, config, auth.mode)
    address = body.address or default_address(body.type, body.provider, config)
    if address is not None:
        address = channel_address(body.type, address)
    channel = new_channel(
        auth.workspace_id,
        auth.mode,
        type=body.type,
        name=body.name or "",
        provider=body.provider,
        address=address or "",
        config=config,
    )
    if body.type == ChannelType.WEB:
        channel.config = with_generated_keys(config)
        channel.address = channel.address or public_key_of(channel.id)  # its "number": the widget's key
    error: Exception | None = None
    if auth.mode == Mode.LIVE and body.type == ChannelType.WHATSAPP:
        await end_transaction_before_provider_call(session)
        _, error = await refresh(channel, providers, providers.settings.provider_timeout_seconds)
    if not channel.address:
        reason = f" and the provider could not tell it: {_failure(error)[0]}" if error else ""
        raise InvalidRequestError(
            "parameter_missing", f"'address' is required for this channel{reason}.", param="address"
        )
    if not channel.name:
        raise InvalidRequestError("parameter_missing", "'name' is required for this channel.", param="name")
    session.add(channel)
    await session.flush()
    return channel


def default_address(channel_type: ChannelType, provider: str, config: dict[str, Any]) -> str | None:
    """The address a channel has when none is given: the sandbox's, an email channel's
    ``from_address``, a Twilio-style channel's ``from``."""
    if provider == SANDBOX:
        return SANDBOX_ADDRESSES[channel_type]
    value = config.get("from_address" if channel_type == ChannelType.EMAIL else "from")
    return value if isinstance(value, str) else None


def channel_address(channel_type: ChannelType, raw: str) -> str:
    """A WhatsApp number is a phone number (stored in E.164); an SMS sender is one too, or
    an alphanumeric sender id (1-11 letters and digits, at least one letter)."""
    if channel_type == ChannelType.SMS and ALPHANUMERIC_SENDER_ID.fullmatch(raw):
        return raw
    if channel_type in (ChannelType.WHATSAPP, ChannelType.SMS):
        return to_e164(raw, param="address", code="invalid_address")
    return raw


async def update(channel: Channel, body: ChannelUpdate, providers: ProviderRegistry) -> Channel:
    if body.name is not None:
        channel.name = body.name
    if body.status is not None:
        channel.status = ChannelStatus(body.status)
    if body.throughput_per_second is not None:
        channel.throughput_per_second = body.throughput_per_second
    if body.config is not None:
        refuse_generated_keys(body.config)
        config = providers.validate_config(
            channel.provider, {**(channel.config or {}), **body.config}, ChannelType(channel.type)
        )
        await providers.require_allowed_urls(channel.provider, config, Mode(channel.mode))
        channel.config = config
    return channel


async def check(channel: Channel, providers: ProviderRegistry, within: float) -> ChannelCheckOut:
    result, error = await refresh(channel, providers, within)
    message, provider_code = _failure(error)
    return ChannelCheckOut(
        result=result, message=message, provider_code=provider_code, channel=ChannelOut.of(channel)
    )


async def refresh(
    channel: Channel, providers: ProviderRegistry, within: float
) -> tuple[CheckResult, Exception | None]:
    """Ask the provider whether the channel's credentials work, and take what it says
    about the channel. Rejected credentials mark the channel; working ones clear that
    mark; an unreachable provider changes nothing."""
    try:
        facts = await asyncio.wait_for(providers.for_channel(channel).check(), within)
    except ProviderAuthError as error:
        channel.status = ChannelStatus.CREDENTIALS_REJECTED
        return "credentials_rejected", error
    except (ProviderTransientError, ProviderOutcomeUnknown, TimeoutError) as error:
        return "unreachable", error
    except ProviderError as error:
        return "error", error
    if channel.status == ChannelStatus.CREDENTIALS_REJECTED:
        channel.status = ChannelStatus.ACTIVE
    if facts is not None:
        apply_facts(channel, facts)
    return "ok", None


def apply_facts(channel: Channel, facts: ChannelFacts) -> None:
    """What the provider says about the channel replaces what we had; the name only
    fills a blank (it is the user's)."""
    if facts.address is not None:
        with suppress(InvalidRequestError):
            channel.address = to_e164(facts.address, param="address")
    if facts.name is not None and not channel.name:
        channel.name = facts.name[:200]
    if facts.quality_rating is not None:
        channel.quality_rating = facts.quality_rating
    if facts.throughput_per_second is not None:
        channel.throughput_per_second = facts.throughput_per_second
    if facts.messaging_tier is not None:
        channel.messaging_tier = facts.messaging_tier


async def reencrypt_secrets(session: AsyncSession) -> int:
    """Store every channel's secrets again, so they are encrypted with the first key of
    ``OMNIROUTE_SECRET_KEY`` (rotation); returns how many channels hold secrets."""
    count = 0
    for channel in await session.scalars(select(Channel)):
        if SECRET_KEYS & (channel.config or {}).keys():
            flag_modified(channel, "config")
            count += 1
    await session.flush()
    return count


def _failure(error: Exception | None) -> tuple[str | None, int | str | None]:
    """The message and provider code a failed check reports."""
    if isinstance(error, ProviderError):
        return error.message, error.provider_code
    return ("No answer from the provider in time." if error is not None else None), None
