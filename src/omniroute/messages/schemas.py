from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from omniroute.core.metadata import Metadata
from omniroute.messages.email import EmailContent
from omniroute.messages.interactive import InteractiveProblem, check_interactive
from omniroute.messages.models import Priority
from omniroute.policy.message_format import CAPTION_MAX_LENGTH, INTERACTIVE_TYPES, TEXT_BODY_MAX_LENGTH

FREE_FORM_KINDS = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "interactive",
    "reaction",
    "location",
    "contacts",
)
WHATSAPP_KINDS = (*FREE_FORM_KINDS, "template")
CONTENT_KINDS = (*WHATSAPP_KINDS, "email")
WEB_ONLY_KINDS = ("push",)
"""A Web Push notification alone: only web chat channels send it."""
SEND_KINDS = (*CONTENT_KINDS, *WEB_ONLY_KINDS)
INBOUND_ONLY_KINDS = ("button", "order", "system", "unsupported")
"""Kinds only customers send: a template's quick-reply button, a catalog order, a
system notice (number changed), a message WhatsApp could not show us."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextContent(Strict):
    body: str = Field(min_length=1, max_length=TEXT_BODY_MAX_LENGTH)
    preview_url: bool = False


class MediaContent(Strict):
    """Audio and stickers: a link or an uploaded media id, no caption."""

    link: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)
    media_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_source(self) -> "MediaContent":
        if (self.link is None) == (self.media_id is None):
            raise PydanticCustomError(
                "media_source", "give exactly one of 'link' or 'media_id'", {"code": "parameter_invalid"}
            )
        return self


class CaptionedMedia(MediaContent):
    """Images and videos."""

    caption: str | None = Field(default=None, max_length=CAPTION_MAX_LENGTH)


class DocumentContent(CaptionedMedia):
    filename: str | None = Field(default=None, max_length=255)


class InteractiveContent(BaseModel):
    """Meta's interactive object (buttons, list, cta_url, ...), checked against Meta's rules
    (``messages.interactive``) and passed through as given."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(json_schema_extra={"enum": [*sorted(INTERACTIVE_TYPES)]})
    header: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    footer: dict[str, Any] | None = None
    action: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _meta_rules(cls, value: Any) -> Any:
        try:
            check_interactive(value)
        except InteractiveProblem as problem:
            raise PydanticCustomError(
                "interactive_invalid",
                "{reason}",
                {"reason": problem.message, "param": problem.path, "code": "parameter_invalid"},
            ) from None
        return value


class ReactionContent(Strict):
    message_id: str = Field(min_length=1, description="The message reacted to (ours or the provider's id).")
    emoji: str = Field(max_length=16, description="An emoji, or empty to remove the reaction.")


class LocationContent(Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = Field(default=None, max_length=1000)
    address: str | None = Field(default=None, max_length=1000)


class ContactName(BaseModel):
    model_config = ConfigDict(extra="allow")

    formatted_name: str = Field(min_length=1, max_length=1000)


class ContactCard(BaseModel):
    """A contact card in Meta's shape (``name``, ``phones``, ``emails``, ``org``, ...)."""

    model_config = ConfigDict(extra="allow")

    name: ContactName
    phones: list[dict[str, Any]] | None = None
    emails: list[dict[str, Any]] | None = None
    addresses: list[dict[str, Any]] | None = None
    urls: list[dict[str, Any]] | None = None
    org: dict[str, Any] | None = None
    birthday: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class PushContent(Strict):
    """A Web Push notification to a web chat visitor, sent alone."""

    title: str = Field(min_length=1, max_length=100)
    body: str = Field(default="", max_length=500)
    url: str | None = Field(
        default=None, pattern=r"^https?://", max_length=2048, description="Opened when it is clicked."
    )


class TemplateRef(Strict):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=16)
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="By component: {'header': [...], 'body': [...], 'buttons': [...]}; named templates "
        "take an object per component instead of a list; a media header takes {'link'} or {'media_id'}; "
        "optional 'quick_replies': one payload per quick-reply button, returned when the customer taps it.",
    )


class Fallback(Strict):
    template: TemplateRef | None = None
    channel_id: str | None = Field(default=None, max_length=40)
    to: str | None = Field(
        default=None,
        min_length=1,
        max_length=320,
        description="The recipient on the fallback channel: required for an email channel; an SMS "
        "channel takes the message's own 'to' when it is left out.",
    )
    text: TextContent | None = Field(default=None, description="For an SMS (or web) fallback channel.")
    email: EmailContent | None = Field(default=None, description="For an email fallback channel.")

    @model_validator(mode="after")
    def _complete(self) -> "Fallback":
        if self.template is None and self.channel_id is None:
            raise PydanticCustomError(
                "fallback_empty",
                "give a fallback 'template' and/or a 'channel_id' with 'text' or 'email'",
                {"code": "parameter_invalid"},
            )
        if self.channel_id is not None and (self.text is None) == (self.email is None):
            raise PydanticCustomError(
                "fallback_text_missing",
                "a fallback channel needs exactly one of 'text' (SMS) or 'email' (email)",
                {"code": "parameter_missing" if self.text is None else "parameter_invalid"},
            )
        return self


class SendMessage(Strict):
    channel_id: str = Field(min_length=1, max_length=40)
    to: str = Field(min_length=1, max_length=320)
    text: TextContent | None = None
    image: CaptionedMedia | None = None
    video: CaptionedMedia | None = None
    audio: MediaContent | None = None
    document: DocumentContent | None = None
    sticker: MediaContent | None = None
    interactive: InteractiveContent | None = None
    reaction: ReactionContent | None = None
    location: LocationContent | None = None
    contacts: list[ContactCard] | None = Field(default=None, min_length=1, max_length=257)
    template: TemplateRef | None = None
    email: EmailContent | None = None
    push: PushContent | None = None
    reply_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Quote an earlier message of this conversation (our id or the provider's).",
    )
    fallback: Fallback | None = None
    metadata: Metadata | None = None
    reference: str | None = Field(default=None, max_length=200)
    priority: Priority = Priority.NORMAL

    @model_validator(mode="after")
    def _exactly_one_content(self) -> "SendMessage":
        given = [kind for kind in SEND_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "content_missing" if not given else "content_ambiguous",
                "Give exactly one content field: {kinds}.",
                {
                    "kinds": ", ".join(SEND_KINDS),
                    "code": "content_missing" if not given else "content_ambiguous",
                    "param": "text" if not given else given[1],
                },
            )
        if self.reply_to is not None and self.email is not None:
            raise PydanticCustomError(
                "reply_to_email",
                "'reply_to' quotes a chat message; an email's Reply-To header is 'email.reply_to'.",
                {"code": "parameter_invalid", "param": "reply_to"},
            )
        if self.reply_to is not None and self.template is not None:
            raise PydanticCustomError(
                "reply_to_template",
                "'reply_to' quotes a message in a session reply; it cannot be used with a template.",
                {"code": "parameter_invalid", "param": "reply_to"},
            )
        return self

    @property
    def content_type(self) -> str:
        return next(kind for kind in SEND_KINDS if getattr(self, kind) is not None)

    def content(self) -> dict[str, Any] | None:
        """The content as stored; a ``reply_to`` rides along with it."""
        if self.content_type == "template":
            return None
        value = getattr(self, self.content_type)
        content: dict[str, Any]
        if isinstance(value, list):
            content = {"contacts": [card.model_dump(exclude_none=True) for card in value]}
        else:
            assert isinstance(value, BaseModel)
            content = value.model_dump(exclude_none=True)
        if self.reply_to is not None:
            content["reply_to"] = self.reply_to
        return content


class StatusChangeOut(BaseModel):
    status: str
    at: datetime
    detail: str | None = Field(
        default=None,
        description="How it got there, when that varies: a web chat message `sent` by `stream`, "
        "`push` or `stored`, `delivered` by `stream` or `widget`; a failure's code.",
    )


class MessageError(BaseModel):
    code: str
    message: str
    provider_code: int | str | None = None


class MessageOut(BaseModel):
    """A message. The content sits under its type's key (``text``, ``image``, ``template``...)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    object: Literal["message"] = "message"
    channel_id: str
    conversation_id: str | None
    contact_id: str
    to: str
    from_: str = Field(serialization_alias="from")
    direction: Literal["outbound", "inbound"]
    kind: Literal["session", "template"]
    type: str
    status: str
    text: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] | None = None
    template: dict[str, Any] | None = None
    email: dict[str, Any] | None = None
    button: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    system: dict[str, Any] | None = None
    unsupported: dict[str, Any] | None = None
    push: dict[str, Any] | None = None
    fallback_used: Literal["template", "channel"] | None
    fallback_for: str | None = Field(
        default=None, description="On a fallback message: the message it replaces (which failed)."
    )
    fallback_message_id: str | None = Field(
        default=None, description="On a message that failed undeliverable: the fallback sent instead."
    )
    error: MessageError | None
    pricing: dict[str, Any] | None
    sms: dict[str, Any] | None = Field(
        default=None, description='An SMS text\'s `{"encoding": "GSM-7"|"UCS-2", "segments": n}`.'
    )
    priority: str
    metadata: dict[str, Any] | None
    reference: str | None
    campaign_id: str | None
    provider_message_id: str | None
    attempts: int
    status_history: list[StatusChangeOut] | None = None
    created_at: datetime

    @model_serializer(mode="wrap")
    def _drop_absent_content(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for kind in (*SEND_KINDS, *INBOUND_ONLY_KINDS):
            if data.get(kind) is None and kind != self.type:
                data.pop(kind, None)
        if self.status_history is None:
            data.pop("status_history", None)
        if self.sms is None:
            data.pop("sms", None)
        return data


class DeliveryReportOut(BaseModel):
    part: int
    provider_message_id: str
    status: Literal["sent", "delivered", "failed"]
    stat: str
    """The receipt's own ``stat`` (DELIVRD, UNDELIV, EXPIRED, ...)."""
    error_code: str | None
    done_at: datetime | None


class DeliveryReportList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryReportOut]
