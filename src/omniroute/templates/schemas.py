from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omniroute.policy.templates import TemplateCategory, TemplateStatus

ComponentType = Literal["HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"]


class TemplateComponent(BaseModel):
    """One component in Meta's shape; fields beyond ``type`` are kept as given."""

    model_config = ConfigDict(extra="allow")

    type: ComponentType

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=16)
    category: TemplateCategory
    components: list[TemplateComponent] = Field(min_length=1)
    parameter_format: Literal["POSITIONAL", "NAMED"] | None = None
    message_send_ttl_seconds: int | None = Field(
        default=None,
        strict=True,
        description="Meta's time-to-live: how long delivery is retried, in seconds (authentication "
        "30-900, utility 30-43200, marketing 43200-2592000; -1 is 30 days for authentication and "
        "utility). Checked by lint.",
    )

    @field_validator("category", "parameter_format", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def definition(self) -> dict[str, Any]:
        """The template in Meta's shape (``parameter_format`` only when given)."""
        definition: dict[str, Any] = {
            "name": self.name,
            "language": self.language,
            "category": self.category.value,
            "components": self.component_dicts(),
        }
        if self.parameter_format is not None:
            definition["parameter_format"] = self.parameter_format
        if self.message_send_ttl_seconds is not None:
            definition["message_send_ttl_seconds"] = self.message_send_ttl_seconds
        return definition

    def component_dicts(self) -> list[dict[str, Any]]:
        return [c.model_dump(exclude_none=True) for c in self.components]


class LintIssueOut(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    component: str
    message: str


class LintOut(BaseModel):
    valid: bool
    issues: list[LintIssueOut]
    suggested_category: str | None
    category_reason: str | None = None
    """The sentence that made lint suggest ``suggested_category``."""


class StatusChangeOut(BaseModel):
    status: str
    reason: str | None = None
    at: datetime


class TemplateEdit(BaseModel):
    """New components for an existing template (Meta's edit): linted, then reviewed again."""

    model_config = ConfigDict(extra="forbid")

    components: list[TemplateComponent] = Field(min_length=1)
    category: TemplateCategory | None = Field(
        default=None,
        description="Only a REJECTED template may change its category (e.g. to the suggested one).",
    )

    @field_validator("category", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def component_dicts(self) -> list[dict[str, Any]]:
        return [c.model_dump(exclude_none=True) for c in self.components]


class CategoryChangeOut(BaseModel):
    previous_category: str
    new_category: str
    announced_at: datetime | None
    """When Meta announced it (None when it was completed without notice, e.g. found by sync)."""
    effective_at: datetime | None
    completed_at: datetime | None
    """None while the change is announced but not yet made."""


class QualityChangeOut(BaseModel):
    previous_score: str | None
    new_score: str
    at: datetime


class TemplateOut(BaseModel):
    id: str
    object: Literal["template"] = "template"
    channel_id: str
    name: str
    language: str
    category: TemplateCategory
    status: TemplateStatus
    rejection_reason: str | None
    suggested_category: TemplateCategory | None = Field(
        description="The category the reviewer would approve, when it rejected the template's own."
    )
    status_reason: str | None = Field(
        description="Why the template is in its status (paused, disabled, ...)."
    )
    paused_until: datetime | None = Field(description="When a quality pause ends (status PAUSED).")
    pause_count: int = Field(description="Quality pauses so far: 1st 3 h, 2nd 6 h, the 3rd disables.")
    locked: bool = Field(description="Meta locked the template: it cannot be edited until unlocked.")
    quality_score: str | None
    quality_history: list[QualityChangeOut]
    category_history: list[CategoryChangeOut]
    pending_category_change: CategoryChangeOut | None = Field(
        description="A re-categorisation Meta announced and has not made yet."
    )
    components: list[dict[str, Any]]
    message_send_ttl_seconds: int | None = Field(
        default=None, description="Meta's time-to-live for this template's messages, when set."
    )
    variables: dict[str, Any]
    status_history: list[StatusChangeOut] | None = None
    created_at: datetime
    updated_at: datetime


class TemplateSyncOut(BaseModel):
    object: Literal["template_sync"] = "template_sync"
    created: int
    updated: int
    deleted: int
    unchanged: int
    data: list[TemplateOut]
    """Every template of the channel after the sync."""
