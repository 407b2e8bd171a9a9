"""Sandbox controls for test keys: a customer writes, and the test clock moves."""
