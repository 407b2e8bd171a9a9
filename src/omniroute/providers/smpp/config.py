"""An ``smpp`` channel's configuration, checked for shape when stored (a 422 naming the
key otherwise). The password is a channel secret (``core.secrets``): encrypted at rest,
never echoed."""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omniroute.providers.config import parse_config

ALPHANUMERIC = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9 ]{1,11}")
NUMERIC = re.compile(r"\+?[0-9]{1,20}")
TON_INTERNATIONAL, NPI_ISDN = 1, 1
TON_ALPHANUMERIC, NPI_UNKNOWN = 5, 0
_PRINTABLE = r"^[\x21-\x7E]*$"


class SmppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:]+$")
    port: int = Field(ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, pattern=_PRINTABLE)
    password: str = Field(max_length=8, pattern=_PRINTABLE)
    system_type: str = Field(default="", max_length=12, pattern=_PRINTABLE)
    source_addr: str = Field(min_length=1, max_length=21)
    source_addr_ton: int | None = Field(default=None, ge=0, le=6)
    source_addr_npi: int | None = Field(default=None, ge=0, le=18)
    tls: bool = False
    window: int = Field(default=10, ge=1, le=100)

    @model_validator(mode="after")
    def _sender(self) -> "SmppConfig":
        if not (NUMERIC.fullmatch(self.source_addr) or ALPHANUMERIC.fullmatch(self.source_addr)):
            raise ValueError(
                "source_addr: a phone number, or an alphanumeric sender id of at most 11 letters "
                "and digits with at least one letter"
            )
        return self

    @property
    def alphanumeric(self) -> bool:
        return not NUMERIC.fullmatch(self.source_addr)

    def source(self) -> tuple[str, int, int]:
        """(source_addr, TON, NPI): an alphanumeric sender is TON 5 NPI 0, a number is
        international (TON 1, NPI 1, without its '+'), unless the config says otherwise."""
        if self.alphanumeric:
            address, ton, npi = self.source_addr, TON_ALPHANUMERIC, NPI_UNKNOWN
        else:
            address, ton, npi = self.source_addr.lstrip("+"), TON_INTERNATIONAL, NPI_ISDN
        return (
            address,
            self.source_addr_ton if self.source_addr_ton is not None else ton,
            self.source_addr_npi if self.source_addr_npi is not None else npi,
        )


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as given, once its shape is right; a 422 naming the first bad key otherwise."""
    parse_config(SmppConfig, config, "smpp", whole="source_addr")
    return config


def targets(config: dict[str, Any]) -> dict[str, str]:
    """The SMSC as a URL by the param that sets it, for the outbound-target policy
    (``core.targets``)."""
    if "host" not in config:
        return {}
    host = str(config.get("host", ""))
    port = f":{config['port']}" if config.get("port") else ""
    return {"config.host": f"smpp://[{host}]{port}" if ":" in host else f"smpp://{host}{port}"}
