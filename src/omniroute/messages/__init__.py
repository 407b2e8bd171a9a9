"""Messages: acceptance (policy checks, durable row), dispatch, and status tracking."""
