"""The ``widget`` provider: web chat's own network. A reply goes to the visitor's open
widget, else by Web Push, else waits for the next visit (``webchat.delivery``)."""

from omniroute.providers.base import ChannelRef, OutboundMessage, SendReceipt, WebChatProvider
from omniroute.providers.widget.config import WIDGET
from omniroute.webchat.delivery import WebChatContext, deliver


class WidgetWebChat(WebChatProvider):
    name = WIDGET

    def __init__(self, channel: ChannelRef, context: WebChatContext) -> None:
        super().__init__(channel)
        self.context = context

    async def send(self, message: OutboundMessage) -> SendReceipt:
        return await deliver(self.context, self.channel, message, push_enabled=True)
