"""An ``smtp`` channel's configuration, checked for shape when stored."""

from typing import Any, Literal

from email_validator import EmailNotValidError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from omniroute.core import email_address
from omniroute.core.errors import InvalidRequestError
from omniroute.providers.config import parse_config

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$")
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = Field(default=None, min_length=1, max_length=320)
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    from_address: str = Field(max_length=254)
    from_name: str | None = Field(default=None, max_length=200)

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return email_address.validated(value)
        except EmailNotValidError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("from_name", "username")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and email_address.has_line_break(value):
            raise ValueError("cannot contain a line break (CR or LF)")
        return value

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def target_url(self) -> str:
        """The relay as a URL, for the outbound-target policy."""
        host = self.host.strip("[]")
        return f"smtp://{f'[{host}]' if ':' in host else host}:{self.effective_port}"


def parse(config: dict[str, Any]) -> SmtpConfig:
    """The config as a model; a 422 naming the first bad key otherwise."""
    return parse_config(SmtpConfig, config, "smtp")


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    parsed = parse(config)
    if (parsed.username is None) != (parsed.password is None):
        missing = "password" if parsed.password is None else "username"
        raise InvalidRequestError(
            "parameter_missing",
            f"'config.{missing}' goes with the other for SMTP AUTH.",
            param=f"config.{missing}",
        )
    return {**config, "from_address": parsed.from_address}


def targets(config: dict[str, Any]) -> dict[str, str]:
    """The addresses a config makes the server connect to, by the param that sets them."""
    return {"config.host": parse(config).target_url}
