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
from omniroute.templates.models import Template, TemplateStatusChange
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
    "Event",
    "IdempotencyRecord",
    "Job",
    "Message",
    "MessageStatusChange",
    "ProviderWebhook",
    "RequestLogEntry",
    "SandboxTemplate",
    "Template",
    "TemplateStatusChange",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
