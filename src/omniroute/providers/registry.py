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
from omniroute.providers.smpp import config as smpp_config
from omniroute.providers.smpp.binds import SmppBinds
from omniroute.providers.smpp.provider import SmppContext, SmppSms
from omniroute.providers.smtp import config as smtp_config
from omniroute.providers.smtp.provider import SmtpContext, SmtpEmail
from omniroute.providers.twilio import config as twilio_config
from omniroute.providers.twilio.provider import TwilioContext, TwilioSms
from omniroute.providers.widget import config as widget_config
from omniroute.providers.widget.provider import WidgetWebChat
from omniroute.webchat.broker import broker_for
from omniroute.webchat.delivery import WebChatContext, push_http_session

ProviderFactory = Callable[[ChannelRef], Provider]
ConfigValidator = Callable[[dict[str, Any]], dict[str, Any]]
TargetsOf = Callable[[dict[str, Any]], dict[str, str]]
"""The URLs a config makes the server connect to, by the param that sets each."""

SANDBOX = "sandbox"
META = "meta"
SMPP = "smpp"
SMTP = "smtp"
TWILIO = "twilio"
WIDGET = widget_config.WIDGET


class ProviderRegistry:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self._http = graph_http(settings)
        self.webchat = WebChatContext(
            db=db, settings=settings, broker=broker_for(db), push_http=push_http_session(settings)
        )
        """Web chat's live delivery (the broker streams listen on) and its push session."""
        sandbox_context = SandboxContext(db=db, settings=settings, webchat=self.webchat)
        self._factories: dict[tuple[str, ChannelType], ProviderFactory] = {
            (SANDBOX, channel_type): partial(cls, context=sandbox_context)
            for channel_type, cls in SANDBOX_PROVIDERS.items()
        }
        self._factories[(META, ChannelType.WHATSAPP)] = partial(
            MetaWhatsApp, context=MetaContext(http=self._http, db=db)
        )
        self._factories[(WIDGET, ChannelType.WEB)] = partial(WidgetWebChat, context=self.webchat)
        self.smpp_binds = SmppBinds(db, settings)
        self._factories[(SMPP, ChannelType.SMS)] = partial(SmppSms, context=SmppContext(self.smpp_binds))
        self._factories[(TWILIO, ChannelType.SMS)] = partial(
            TwilioSms, context=TwilioContext(http=self._http, settings=settings)
        )
        self._smtp = SmtpContext(settings)
        self._factories[(SMTP, ChannelType.EMAIL)] = partial(SmtpEmail, context=self._smtp)
        self._validators: dict[str, ConfigValidator] = {
            META: meta_config.validate_config,
            SMPP: smpp_config.validate_config,
            SMTP: smtp_config.validate_config,
            TWILIO: twilio_config.validate_config,
            WIDGET: widget_config.validate_widget_config,
        }
        self._targets: dict[str, TargetsOf] = {
            META: meta_config.targets,
            SMPP: smpp_config.targets,
            SMTP: smtp_config.targets,
            TWILIO: twilio_config.targets,
        }

    def validate_config(
        self, provider: str, config: dict[str, Any], channel_type: ChannelType | None = None
    ) -> dict[str, Any]:
        """Check a channel's provider config for shape (422 naming the key otherwise).
        Every web channel, the sandbox's included, has the widget's settings."""
        validator = self._validators.get(provider)
        if validator is None and channel_type == ChannelType.WEB:
            validator = widget_config.validate_sandbox_web_config
        return validator(config) if validator else config

    async def require_allowed_urls(self, provider: str, config: dict[str, Any], mode: Mode) -> None:
        """Every URL or host a channel's config may set passes the outbound-target policy
        (a 422 ``url_forbidden`` naming the key otherwise). ``config`` is the whole config."""
        targets_of = self._targets.get(provider)
        for param, url in (targets_of(config) if targets_of else {}).items():
            await targets.require_allowed(url, mode, self.settings, param=param, code="url_forbidden")

    def supports(self, provider: str, channel_type: ChannelType) -> bool:
        return (provider, channel_type) in self._factories

    def providers_for(self, channel_type: ChannelType) -> list[str]:
        return sorted(name for name, kind in self._factories if kind == channel_type)

    def for_channel(self, channel: Channel) -> Provider:
        name = SANDBOX if channel.mode == Mode.TEST else channel.provider
        factory = self._factories[(name, ChannelType(channel.type))]
        return factory(self.channel_ref(channel))

    @staticmethod
    def channel_ref(channel: Channel) -> ChannelRef:
        return ChannelRef(
            id=channel.id,
            workspace_id=channel.workspace_id,
            mode=channel.mode,
            type=ChannelType(channel.type),
            address=channel.address,
            config=dict(channel.config or {}),
            throughput_per_second=channel.throughput_per_second,
        )

    def whatsapp(self, channel: Channel) -> WhatsAppProvider:
        provider = self.for_channel(channel)
        assert isinstance(provider, WhatsAppProvider)
        return provider

    async def close(self) -> None:
        """Release pooled connections (HTTP adapters share one session per process)."""
        await self._http.close()
        await self.smpp_binds.close()
        await self._smtp.close()
        await self.webchat.push_http.close()
        await self.webchat.broker.close()
