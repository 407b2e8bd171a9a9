"""Channels: a business's sending identity on one network (a WhatsApp number, an SMS
sender, an email address, a web widget) and the provider that carries it."""
