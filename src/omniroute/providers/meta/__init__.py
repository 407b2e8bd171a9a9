"""Meta's WhatsApp Cloud API: the Graph API adapter and the webhook parser."""
