from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from omniroute.policy.window import CUSTOMER_SERVICE_WINDOW

MIN_LEAD_SECONDS = 60


class WorkspaceOut(BaseModel):
    id: str
    object: Literal["workspace"] = "workspace"
    name: str
    mode: str = Field(description="The mode of the key that asked: the settings below are this mode's.")
    window_expiring_lead_seconds: int = Field(
        description="How long before a customer service window closes conversation.window_expiring fires."
    )
    window_expiring_lead_is_default: bool = Field(description="True while the operator's default applies.")
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
