"""Applying provider events (statuses, customer messages, template reviews) to our state.

Every provider's webhooks and the sandbox's simulation end here, so the rules for
windows, status ordering, opt-out keywords and duplicates are written once."""
