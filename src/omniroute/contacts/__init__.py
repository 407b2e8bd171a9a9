"""Contacts: the people a workspace talks to, and their per-channel opt-outs."""
