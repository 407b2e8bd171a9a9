"""Outbound webhooks: endpoints, signed deliveries with retries, and their attempts."""
