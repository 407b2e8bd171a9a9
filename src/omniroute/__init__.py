"""omniroute: a self-hostable multi-channel business messaging gateway."""

__version__ = "0.1.0"
