"""Interactive messages follow Meta's rules: what the Cloud API would refuse is a 422 naming
the exact field, before anything is queued. The numbers come from policy/message_format.py."""

from typing import Any

import pytest

from omniroute.policy import message_format as fmt
from tests.conftest import Tenant, assert_error


def buttons(count: int, **override: Any) -> dict[str, Any]:
    action = {
        "buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(count)]
    }
    return {"type": "button", "body": {"text": "Pick one"}, "action": action, **override}


def rows(count: int, prefix: str = "r", **row: Any) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "title": f"Row {i}", **row} for i in range(count)]


def listing(*sections: dict[str, Any], button: str = "Options", **override: Any) -> dict[str, Any]:
    return {
        "type": "list",
        "body": {"text": "Choose"},
        "action": {"button": button, "sections": list(sections)},
        **override,
    }


def reply(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "reply", "reply": {"id": f"b{index}", "title": f"B{index}", **fields}}


TOO_LONG = "x" * 1000

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("a type that is an object", {"type": {}, "action": {}}, "interactive.type"),
    ("a header type that is a list", buttons(1, header={"type": ["text"]}), "interactive.header.type"),
    ("a fourth reply button", buttons(fmt.REPLY_BUTTONS_MAX + 1), "interactive.action.buttons[3]"),
    (
        "a button title over 20",
        buttons(1, action={"buttons": [reply(0, title="x" * (fmt.REPLY_BUTTON_TITLE_MAX_LENGTH + 1))]}),
        "interactive.action.buttons[0].reply.title",
    ),
    (
        "a button id over 256",
        buttons(1, action={"buttons": [reply(0, id="x" * (fmt.REPLY_BUTTON_ID_MAX_LENGTH + 1))]}),
        "interactive.action.buttons[0].reply.id",
    ),
    (
        "two buttons with the same id",
        buttons(2, action={"buttons": [reply(0), reply(1, id="b0")]}),
        "interactive.action.buttons[1].reply.id",
    ),
    ("no buttons", buttons(0), "interactive.action.buttons"),
    (
        "a button body over 1024",
        buttons(1, body={"text": "x" * (fmt.INTERACTIVE_BODY_MAX_LENGTH + 1)}),
        "interactive.body.text",
    ),
    (
        "a header over 60",
        buttons(1, header={"type": "text", "text": "x" * (fmt.INTERACTIVE_HEADER_TEXT_MAX_LENGTH + 1)}),
        "interactive.header.text",
    ),
    (
        "a footer over 60",
        buttons(1, footer={"text": "x" * (fmt.INTERACTIVE_FOOTER_MAX_LENGTH + 1)}),
        "interactive.footer.text",
    ),
    ("a button message without body", {"type": "button", "action": buttons(1)["action"]}, "interactive.body"),
    (
        "list button text over 20",
        listing({"rows": rows(1)}, button="x" * (fmt.LIST_BUTTON_MAX_LENGTH + 1)),
        "interactive.action.button",
    ),
    (
        "an eleventh section",
        listing(*({"title": f"S{i}", "rows": rows(1, f"s{i}-")} for i in range(fmt.LIST_SECTIONS_MAX + 1))),
        "interactive.action.sections[10]",
    ),
    (
        "an eleventh row across sections",
        listing({"title": "A", "rows": rows(6, "a")}, {"title": "B", "rows": rows(5, "b")}),
        "interactive.action.sections[1].rows[4]",
    ),
    (
        "a row title over 24",
        listing({"rows": [{"id": "r", "title": "x" * (fmt.LIST_ROW_TITLE_MAX_LENGTH + 1)}]}),
        "interactive.action.sections[0].rows[0].title",
    ),
    (
        "a row description over 72",
        listing({"rows": rows(1, description="x" * (fmt.LIST_ROW_DESCRIPTION_MAX_LENGTH + 1))}),
        "interactive.action.sections[0].rows[0].description",
    ),
    (
        "a row id over 200",
        listing({"rows": [{"id": "x" * (fmt.LIST_ROW_ID_MAX_LENGTH + 1), "title": "Row"}]}),
        "interactive.action.sections[0].rows[0].id",
    ),
    (
        "a section title over 24",
        listing({"title": "x" * (fmt.LIST_SECTION_TITLE_MAX_LENGTH + 1), "rows": rows(1)}),
        "interactive.action.sections[0].title",
    ),
    (
        "two sections, one untitled",
        listing({"title": "A", "rows": rows(1)}, {"rows": [{"id": "z", "title": "Z"}]}),
        "interactive.action.sections[1].title",
    ),
    (
        "a list with a media header",
        listing({"rows": rows(1)}, header={"type": "image", "image": {"link": "https://example.com/a.png"}}),
        "interactive.header.type",
    ),
    (
        "a list body over 4096",
        listing({"rows": rows(1)}, body={"text": "x" * (fmt.INTERACTIVE_LIST_BODY_MAX_LENGTH + 1)}),
        "interactive.body.text",
    ),
    (
        "a CTA label over 20",
        {
            "type": "cta_url",
            "body": {"text": "Track"},
            "action": {"name": "cta_url", "parameters": {"display_text": TOO_LONG, "url": "https://x.io"}},
        },
        "interactive.action.parameters.display_text",
    ),
    ("an unknown type", {"type": "slider", "action": {}}, "interactive.type"),
]


@pytest.mark.parametrize(("case", "interactive", "param"), REFUSED, ids=[case for case, _, _ in REFUSED])
async def test_what_meta_refuses_is_a_422_naming_the_field(
    tenant: Tenant, case: str, interactive: dict[str, Any], param: str
) -> None:
    await tenant.inbound()
    error = assert_error(await tenant.send(interactive=interactive), 422, "parameter_invalid", param=param)
    assert error["message"].startswith(param), case


ACCEPTED: dict[str, dict[str, Any]] = {
    "three reply buttons with a media header": buttons(
        fmt.REPLY_BUTTONS_MAX, header={"type": "image", "image": {"link": "https://example.com/a.png"}}
    ),
    "ten rows in ten sections": listing(
        *({"title": f"S{i}", "rows": [{"id": f"r{i}", "title": "R"}]} for i in range(10))
    ),
    "a single untitled section": listing({"rows": rows(fmt.LIST_ROWS_MAX, description="d" * 72)}),
    "a list body of 4096": listing(
        {"rows": rows(1)}, body={"text": "x" * fmt.INTERACTIVE_LIST_BODY_MAX_LENGTH}
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
async def test_what_meta_accepts_is_queued_as_given(tenant: Tenant, case: str) -> None:
    await tenant.inbound()
    response = await tenant.send(interactive=ACCEPTED[case])
    assert response.status_code == 202, response.text
    assert response.json()["interactive"] == ACCEPTED[case]


async def test_a_refused_interactive_message_stores_nothing(tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.send(interactive=buttons(4), reference="too-many-buttons")
    listed = (await tenant.test.get("/v1/messages", params={"reference": "too-many-buttons"})).json()
    assert listed["data"] == []
