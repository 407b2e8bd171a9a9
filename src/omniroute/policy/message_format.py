"""What Meta accepts in a Cloud API send (messages reference): the size limits its
validation enforces. The emulator rejects anything outside these with error 100, as
Meta does. The message types are omniroute's content kinds (``messages.schemas``)."""

MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
CAPTIONED_MEDIA = frozenset({"image", "video", "document"})

TEXT_BODY_MAX_LENGTH = 4096
CAPTION_MAX_LENGTH = 1024
CALLBACK_DATA_MAX_LENGTH = 512

INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "list",
        "cta_url",
        "flow",
        "product",
        "product_list",
        "location_request_message",
        "address_message",
    }
)
INTERACTIVE_BODY_MAX_LENGTH = 1024
INTERACTIVE_LIST_BODY_MAX_LENGTH = 4096
INTERACTIVE_HEADER_TEXT_MAX_LENGTH = 60
INTERACTIVE_FOOTER_MAX_LENGTH = 60
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_ID_MAX_LENGTH = 256
REPLY_BUTTON_TITLE_MAX_LENGTH = 20
LIST_BUTTON_MAX_LENGTH = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_SECTION_TITLE_MAX_LENGTH = 24
LIST_ROW_ID_MAX_LENGTH = 200
LIST_ROW_TITLE_MAX_LENGTH = 24
LIST_ROW_DESCRIPTION_MAX_LENGTH = 72
CTA_DISPLAY_TEXT_MAX_LENGTH = 20
