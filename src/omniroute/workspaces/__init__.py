"""Workspaces (tenants), API keys and request authentication."""
