"""Live SMTP relays and a webhook receiver on loopback, for the live-mode secrecy test."""

from tests.providers.smtp.conftest import certificate, start_relay, trust_test_ca
from tests.webhooks.conftest import receiver

__all__ = ["certificate", "receiver", "start_relay", "trust_test_ca"]
