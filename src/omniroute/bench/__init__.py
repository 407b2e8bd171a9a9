"""``omniroute bench``: the throughput benchmark anyone can rerun (see docs/performance.md)."""
