"""A ``meta`` channel's configuration: checked for shape when stored, credentials
checked later (``POST /v1/channels/{id}/check`` or the first send)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omniroute.providers.config import parse_config

DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"
"""The Graph API version used when a channel does not pin one."""

URL_KEYS = ("graph_base_url",)
"""Config keys that say where the adapter connects: the outbound-target policy applies."""

_GRAPH_ID = r"^[A-Za-z0-9_.-]+$"  # goes into URL paths: no slashes or query characters


class MetaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phone_number_id: str = Field(min_length=1, max_length=64, pattern=_GRAPH_ID)
    waba_id: str = Field(min_length=1, max_length=64, pattern=_GRAPH_ID)
    access_token: str = Field(min_length=1, max_length=4096)
    app_secret: str = Field(min_length=1, max_length=256)
    verify_token: str = Field(min_length=1, max_length=256)
    graph_base_url: str = Field(default=DEFAULT_GRAPH_BASE_URL, pattern=r"^https?://[^?#]+$", max_length=500)
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^v\d+\.\d+$")

    def url(self, path: str) -> str:
        return f"{self.graph_base_url.rstrip('/')}/{self.api_version}/{path}"


def targets(config: dict[str, Any]) -> dict[str, str]:
    """The URLs a config makes the server call, by the param that sets them."""
    return {f"config.{key}": config[key] for key in URL_KEYS if isinstance(config.get(key), str)}


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as given, once its shape is right; a 422 naming the first bad key otherwise."""
    parse_config(MetaConfig, config, "meta")
    return config
