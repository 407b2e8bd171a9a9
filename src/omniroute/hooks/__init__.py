"""Provider webhooks (inbound, no API key): verified, stored raw in one short
transaction, answered at once, and applied by a durable job."""
