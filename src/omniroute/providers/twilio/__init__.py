"""The ``twilio`` SMS provider: Twilio's Messages REST wire format (and that of the many
providers that copy it), its status callbacks and inbound SMS webhooks."""
