"""Imports every module that registers job handlers, so a worker knows them all."""

from omniroute.campaigns import tasks as campaign_tasks
from omniroute.conversations import tasks as window_tasks
from omniroute.hooks import tasks as hook_tasks
from omniroute.idempotency import tasks as idempotency_tasks
from omniroute.logs import tasks as log_tasks
from omniroute.messages import dispatch
from omniroute.providers.sandbox import tasks as sandbox_tasks
from omniroute.providers.smpp import tasks as smpp_tasks
from omniroute.templates import tasks as template_tasks
from omniroute.verifications import tasks as verification_tasks
from omniroute.webhooks import tasks as webhook_tasks

REGISTERED_MODULES = (
    campaign_tasks,
    dispatch,
    hook_tasks,
    idempotency_tasks,
    log_tasks,
    sandbox_tasks,
    smpp_tasks,
    template_tasks,
    verification_tasks,
    webhook_tasks,
    window_tasks,
)
