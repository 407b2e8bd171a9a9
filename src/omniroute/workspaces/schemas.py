from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from omniroute.core.tenancy import Mode
from omniroute.policy.window import CUSTOMER_SERVICE_WINDOW
from omniroute.workspaces.models import ApiKey
from omniroute.workspaces.service import MAX_ROTATION_GRACE, IssuedKey

MIN_LEAD_SECONDS = 60
MAX_FREQUENCY_CAP_HOURS = 720


class WorkspaceOut(BaseModel):
    id: str
    object: Literal["workspace"] = "workspace"
    name: str
    mode: str = Field(description="The mode of the key that asked: the settings below are this mode's.")
    window_expiring_lead_seconds: int = Field(
        description="How long before a customer service window closes conversation.window_expiring fires."
    )
    window_expiring_lead_is_default: bool = Field(description="True while the operator's default applies.")
    marketing_frequency_cap_hours: int = Field(
        description="A campaign's marketing message skips a recipient who got a marketing message from this "
        "workspace within this many hours (counted as frequency_capped); 0: no cap."
    )
    marketing_frequency_cap_is_default: bool = Field(description="True while the operator's default applies.")
    created_at: datetime


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    window_expiring_lead_seconds: int | None = Field(
        default=None,
        ge=MIN_LEAD_SECONDS,
        lt=int(CUSTOMER_SERVICE_WINDOW.total_seconds()),
        description="Seconds before expiry for conversation.window_expiring; null restores the default. "
        "Applies to windows opened or refreshed from now on.",
    )
    marketing_frequency_cap_hours: int | None = Field(
        default=None,
        ge=0,
        le=MAX_FREQUENCY_CAP_HOURS,
        description="Hours within which a recipient gets at most one marketing campaign message from this "
        "workspace (0: no cap); null restores the default.",
    )


class WorkspaceSummary(BaseModel):
    """A workspace as an admin key lists it (its settings are per mode: ``GET /v1/workspace``)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    object: Literal["workspace"] = "workspace"
    name: str
    created_at: datetime


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


ApiKeyStatus = Literal["active", "expiring", "expired", "revoked"]


class ApiKeyOut(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    workspace_id: str
    mode: str
    name: str
    prefix: str = Field(
        description="The key's first characters, to tell keys apart; the key itself is never shown again."
    )
    admin: bool = Field(description="An admin key manages API keys and workspaces of the whole install.")
    status: ApiKeyStatus = Field(
        description="active; expiring: rotated, works until expires_at; expired; revoked."
    )
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute.")
    created_at: datetime

    @classmethod
    def of(cls, key: ApiKey, now: datetime) -> Self:
        status: ApiKeyStatus
        if key.revoked_at is not None:
            status = "revoked"
        elif key.expires_at is None:
            status = "active"
        else:
            status = "expiring" if key.usable_at(now) else "expired"
        return cls(
            id=key.id,
            workspace_id=key.workspace_id,
            mode=key.mode,
            name=key.name,
            prefix=key.prefix,
            admin=key.admin,
            status=status,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
            created_at=key.created_at,
        )


class ApiKeyWithSecret(ApiKeyOut):
    key: str | None = Field(
        description="The key, shown only in this response: only its hash is stored, so a replay "
        "of this request (same Idempotency-Key) shows null."
    )

    @classmethod
    def issued(cls, issued: IssuedKey, now: datetime) -> Self:
        return cls(**ApiKeyOut.of(issued.row, now).model_dump(), key=issued.raw)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: str | None = Field(
        default=None, max_length=40, description="The workspace the key opens (default: the admin key's own)."
    )
    mode: Mode
    name: str = Field(default="", max_length=200)
    admin: bool = Field(default=False, description="Live keys only.")


class ApiKeyRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_period_seconds: int = Field(
        default=0,
        ge=0,
        le=int(MAX_ROTATION_GRACE.total_seconds()),
        description="How long the old key keeps working next to the new one; 0 revokes it now.",
    )
