"""The built-in text of a one-time code's SMS and email, per locale, with ``{{code}}``,
``{{minutes}}`` and ``{{brand}}``. A workspace replaces any of them with its own
(``PATCH /v1/verifications/settings``); WhatsApp uses the channel's approved
AUTHENTICATION template instead, whose text Meta fixes."""

import json
import re
from importlib import resources
from typing import Any

PLACEHOLDERS = ("code", "minutes", "brand")
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

BUILT_IN: dict[str, dict[str, dict[str, str]]] = json.loads(
    resources.files("omniroute.verifications").joinpath("texts.json").read_text(encoding="utf-8")
)
"""Channel type → locale → the text's parts (an SMS's ``body``; an email's ``subject``
and ``text``), from ``texts.json``."""

LOCALES = tuple(BUILT_IN["sms"])
DEFAULT_LOCALE = "en"


def language_of(locale: str) -> str:
    """``pt_BR`` and ``pt-BR`` → ``pt``: the built-in texts are per language."""
    return re.split(r"[-_]", locale, maxsplit=1)[0].lower()


def text_for(channel_type: str, locale: str, overrides: dict[str, Any]) -> dict[str, str]:
    """The parts for this channel type and locale: the workspace's own text when it has
    one (for the exact locale, then its language), else the built-in one in that
    language, else English."""
    own = overrides.get(channel_type) or {}
    for key in (locale, language_of(locale)):
        if key in own:
            return dict(own[key])
    built_in = BUILT_IN[channel_type]
    return dict(built_in.get(language_of(locale), built_in[DEFAULT_LOCALE]))


def fill(parts: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """Each part with the placeholders given in ``values`` filled in (others kept)."""
    return {
        key: PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
        for key, text in parts.items()
    }


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS]
