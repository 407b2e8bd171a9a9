"""A ``twilio`` channel's configuration, checked for shape when stored."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omniroute.providers.config import parse_config

DEFAULT_API_BASE_URL = "https://api.twilio.com"


class TwilioConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    """Goes into the URL path: no slashes or query characters."""
    auth_token: str = Field(min_length=1, max_length=256)
    from_: str = Field(alias="from", min_length=1, max_length=32)
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, pattern=r"^https?://[^?#]+$", max_length=500)

    @property
    def messages_url(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


def parse(config: dict[str, Any]) -> TwilioConfig:
    """The config as a model; a 422 naming the first bad key otherwise."""
    return parse_config(TwilioConfig, config, "twilio")


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    parse(config)
    return config


def targets(config: dict[str, Any]) -> dict[str, str]:
    """The URL a config makes the server call, by the param that sets it."""
    return {"config.api_base_url": parse(config).api_base_url}
