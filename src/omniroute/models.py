"""Every table, imported in one place for Alembic and for relationship resolution."""

from omniroute.campaigns.models import Campaign, CampaignRecipient
from omniroute.channels.models import Channel
from omniroute.contacts.models import Contact, ContactOptOut
from omniroute.conversations.models import Conversation
from omniroute.core.db import Base
from omniroute.events.models import Event
from omniroute.hooks.models import ProviderWebhook
from omniroute.idempotency.models import IdempotencyRecord
from omniroute.jobs.models import Job
from omniroute.messages.models import ChannelPace, Message, MessageStatusChange
from omniroute.providers.sandbox.models import SandboxTemplate
from omniroute.requestlog.models import RequestLogEntry
from omniroute.sms.models import DeliveryReport, SmppBind, SmsPart
from omniroute.templates.models import Template, TemplateStatusChange
from omniroute.verifications.models import Verification, VerificationSettings
from omniroute.webchat.models import PushSubscription, Visitor, VisitorStream
from omniroute.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from omniroute.workspaces.models import ApiKey, Workspace

__all__ = [
    "ApiKey",
    "Base",
    "Campaign",
    "CampaignRecipient",
    "Channel",
    "ChannelPace",
    "Contact",
    "ContactOptOut",
    "Conversation",
    "DeliveryReport",
    "Event",
    "IdempotencyRecord",
    "Job",
    "Message",
    "MessageStatusChange",
    "ProviderWebhook",
    "PushSubscription",
    "RequestLogEntry",
    "SandboxTemplate",
    "SmppBind",
    "SmsPart",
    "Template",
    "TemplateStatusChange",
    "Verification",
    "VerificationSettings",
    "Visitor",
    "VisitorStream",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
