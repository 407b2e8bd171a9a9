"""Which provider class serves a channel. Test mode always gets the sandbox: a test
key never reaches a real network."""

from collections.abc import Callable
from functools import partial
from typing import Any

from omniroute.channels.models import Channel, ChannelType
from omniroute.config import Settings
from omniroute.core import targets
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.providers.base import ChannelRef, Provider, WhatsAppProvider
from omniroute.providers.meta import config as meta_config
from omniroute.providers.meta.provider import MetaContext, MetaWhatsApp, graph_http
from omniroute.providers.sandbox.provider import SANDBOX_PROVIDERS, SandboxContext

ProviderFactory = Callable[[ChannelRef], Provider]
ConfigValidator = Callable[[dict[str, Any]], dict[str, Any]]

SANDBOX = "sandbox"
META = "meta"


class ProviderRegistry:
    def __init__(self, settings: Settings, db: Database) -> None:
        sandbox_context = SandboxContext(db=db, settings=settings)
        self.settings = settings
        self._http = graph_http(settings)
        self._factories: dict[tuple[str, ChannelType], ProviderFactory] = {
            (SANDBOX, channel_type): partial(cls, context=sandbox_context)
            for channel_type, cls in SANDBOX_PROVIDERS.items()
        }
        self._factories[(META, ChannelType.WHATSAPP)] = partial(
            MetaWhatsApp, context=MetaContext(http=self._http, db=db)
        )
        self._validators: dict[str, ConfigValidator] = {META: meta_config.validate_config}
        self._url_keys: dict[str, tuple[str, ...]] = {META: meta_config.URL_KEYS}

    def validate_config(self, provider: str, config: dict[str, Any]) -> dict[str, Any]:
        """Check a channel's provider config for shape (422 naming the key otherwise)."""
        validator = self._validators.get(provider)
        return validator(config) if validator else config

    async def require_allowed_urls(self, provider: str, config: dict[str, Any], mode: Mode) -> None:
        """Every URL a channel's config may set passes the outbound-target policy (a 422
        ``url_forbidden`` naming the key otherwise)."""
        for key in self._url_keys.get(provider, ()):
            url = config.get(key)
            if isinstance(url, str):
                await targets.require_allowed(
                    url, mode, self.settings, param=f"config.{key}", code="url_forbidden"
                )

    def supports(self, provider: str, channel_type: ChannelType) -> bool:
        return (provider, channel_type) in self._factories

    def providers_for(self, channel_type: ChannelType) -> list[str]:
        return sorted(name for name, kind in self._factories if kind == channel_type)

    def for_channel(self, channel: Channel) -> Provider:
        name = SANDBOX if channel.mode == Mode.TEST else channel.provider
        factory = self._factories[(name, ChannelType(channel.type))]
        return factory(
            ChannelRef(
                id=channel.id,
                workspace_id=channel.workspace_id,
                mode=channel.mode,
                type=ChannelType(channel.type),
                address=channel.address,
                config=dict(channel.config or {}),
                throughput_per_second=channel.throughput_per_second,
            )
        )

    def whatsapp(self, channel: Channel) -> WhatsAppProvider:
        provider = self.for_channel(channel)
        assert isinstance(provider, WhatsAppProvider)
        return provider

    async def close(self) -> None:
        """Release pooled connections (HTTP adapters share one session per process)."""
        await self._http.close()
