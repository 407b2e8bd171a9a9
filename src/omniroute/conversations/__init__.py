"""Conversations: one per (channel, contact), holding the customer service window."""
