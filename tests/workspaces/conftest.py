"""The webhook receiver fixture, for tests that check what webhooks carry."""

from tests.webhooks.conftest import receiver  # noqa: F401 - a fixture, used by name
