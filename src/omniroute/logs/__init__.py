"""The workspace log: its API requests and its events, in one newest-first list."""
