"""Request ids on every response and the per-workspace API request log."""
