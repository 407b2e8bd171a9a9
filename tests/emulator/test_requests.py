"""Requests are checked like Meta checks them: the bearer token (190), the objects in the
path, and the send body (error 100 with ``error_data.details`` naming the problem)."""

from typing import Any

import httpx
import pytest
from tests.emulator.conftest import (
    ACCESS_TOKEN,
    CUSTOMER,
    PHONE_NUMBER_ID,
    VERSION,
    WABA_ID,
    Emulator,
    details,
    graph_error,
)

TEXT = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Hi"}}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {ACCESS_TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
async def test_a_send_without_the_right_bearer_token_is_refused_with_190(
    emulator: Emulator, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=emulator.url) as anonymous:
        response = await anonymous.post(f"/{VERSION}/{PHONE_NUMBER_ID}/messages", json=TEXT, headers=headers)
    error = graph_error(response, 401, 190)
    assert "access token" in error["message"]


async def test_every_graph_path_needs_the_token(emulator: Emulator) -> None:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/{VERSION}") as anonymous:
        for response in (
            await anonymous.get(f"/{WABA_ID}/message_templates"),
            await anonymous.get(f"/{PHONE_NUMBER_ID}"),
        ):
            graph_error(response, 401, 190)


async def test_the_token_may_come_as_the_access_token_query_parameter(emulator: Emulator) -> None:
    await emulator.customer_writes()
    async with httpx.AsyncClient(base_url=emulator.url, params={"access_token": ACCESS_TOKEN}) as client:
        number = await client.get(f"/{VERSION}/{PHONE_NUMBER_ID}")
        send = await client.post(f"/{VERSION}/{PHONE_NUMBER_ID}/messages", json=TEXT)
    assert number.status_code == 200, number.text
    assert send.status_code == 200, send.text


async def test_any_graph_version_prefix_is_served(emulator: Emulator) -> None:
    async with httpx.AsyncClient(base_url=emulator.url, headers=dict(emulator.graph.headers)) as client:
        for version in ("v21.0", "v23.0", "v24.0"):
            response = await client.get(f"/{version}/{PHONE_NUMBER_ID}")
            assert response.status_code == 200, response.text
        details_text = details(await client.get(f"/latest/{PHONE_NUMBER_ID}"))
        send_details = details(await client.post(f"/latest/{PHONE_NUMBER_ID}/messages", json=TEXT))
    assert "version" in details_text
    assert "version" in send_details


async def test_another_phone_number_id_is_an_unknown_object(emulator: Emulator) -> None:
    response = await emulator.graph.post("/999999999/messages", json=TEXT)
    error = graph_error(response, 400, 100)
    assert error["error_subcode"] == 33
    assert "999999999" in error["message"]


async def test_an_unknown_path_is_graph_error_2500(emulator: Emulator) -> None:
    response = await emulator.graph.get(f"/{PHONE_NUMBER_ID}/no_such_edge")
    error = graph_error(response, 400, 2500)
    assert error["message"] == f"Unknown path components: /{VERSION}/{PHONE_NUMBER_ID}/no_such_edge"
    graph_error(await emulator.graph.get(f"/{PHONE_NUMBER_ID}/messages"), 400, 2500)  # sends are POSTs


async def test_the_phone_number_answers_with_its_fields(emulator: Emulator) -> None:
    response = await emulator.graph.get(f"/{PHONE_NUMBER_ID}")
    assert response.status_code == 200, response.text
    number = response.json()
    assert number["id"] == PHONE_NUMBER_ID
    assert number["quality_rating"] == "GREEN"
    assert {"display_phone_number", "verified_name", "throughput"} <= set(number)

    picked = await emulator.graph.get(
        f"/{PHONE_NUMBER_ID}", params={"fields": "verified_name,quality_rating"}
    )
    assert picked.json() == {
        "verified_name": number["verified_name"],
        "quality_rating": "GREEN",
        "id": PHONE_NUMBER_ID,
    }


async def test_a_body_that_is_not_json_is_error_100(emulator: Emulator) -> None:
    response = await emulator.graph.post(
        f"/{PHONE_NUMBER_ID}/messages", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert "JSON" in details(response)


async def test_messaging_product_is_required(emulator: Emulator) -> None:
    body = {key: value for key, value in TEXT.items() if key != "messaging_product"}
    error = graph_error(await emulator.graph.post(f"/{PHONE_NUMBER_ID}/messages", json=body), 400, 100)
    assert "messaging_product" in error["message"]


MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("missing to", {"type": "text", "text": {"body": "Hi"}}, "to"),
    ("unknown type", {"to": CUSTOMER, "type": "carousel", "carousel": {}}, "type"),
    ("text without body", {"to": CUSTOMER, "type": "text", "text": {"preview_url": True}}, "text.body"),
    ("text over 4096", {"to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}, "4096"),
    (
        "preview_url not boolean",
        {"to": CUSTOMER, "type": "text", "text": {"body": "Hi", "preview_url": "yes"}},
        "preview_url",
    ),
    ("unknown text key", {"to": CUSTOMER, "type": "text", "text": {"body": "Hi", "bold": True}}, "bold"),
    (
        "image without link or id",
        {"to": CUSTOMER, "type": "image", "image": {"caption": "A cat"}},
        "id or link",
    ),
    (
        "image with both",
        {"to": CUSTOMER, "type": "image", "image": {"id": "1", "link": "https://x.io/a.png"}},
        "id or link",
    ),
    (
        "audio with caption",
        {"to": CUSTOMER, "type": "audio", "audio": {"id": "1", "caption": "no"}},
        "caption",
    ),
    ("media link not a URL", {"to": CUSTOMER, "type": "video", "video": {"link": "ftp://x"}}, "link"),
    (
        "interactive without action",
        {"to": CUSTOMER, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}}},
        "action",
    ),
    (
        "interactive unknown type",
        {"to": CUSTOMER, "type": "interactive", "interactive": {"type": "slider", "action": {}}},
        "interactive.type",
    ),
    (
        "too many buttons",
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)
                    ]
                },
            },
        },
        "at most 3",
    ),
    (
        "button title over 20",
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "b", "title": "x" * 21}}]},
            },
        },
        "title",
    ),
    (
        "list with eleven rows",
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Choose"},
                "action": {
                    "button": "Options",
                    "sections": [
                        {"title": "All", "rows": [{"id": f"r{i}", "title": f"Row {i}"} for i in range(11)]}
                    ],
                },
            },
        },
        "10 rows",
    ),
    (
        "reaction without emoji",
        {"to": CUSTOMER, "type": "reaction", "reaction": {"message_id": "wamid.x"}},
        "emoji",
    ),
    (
        "location out of range",
        {"to": CUSTOMER, "type": "location", "location": {"latitude": 91, "longitude": 0}},
        "latitude",
    ),
    ("contact without name", {"to": CUSTOMER, "type": "contacts", "contacts": [{"phones": []}]}, "name"),
    (
        "template without language",
        {"to": CUSTOMER, "type": "template", "template": {"name": "t"}},
        "language",
    ),
    (
        "content of another type",
        {"to": CUSTOMER, "type": "text", "text": {"body": "Hi"}, "image": {"id": "1"}},
        "image",
    ),
    (
        "callback data too long",
        {"to": CUSTOMER, "text": {"body": "Hi"}, "biz_opaque_callback_data": "x" * 513},
        "512",
    ),
    (
        "reply context without id",
        {"to": CUSTOMER, "text": {"body": "Hi"}, "context": {}},
        "context.message_id",
    ),
]


@pytest.mark.parametrize(("case", "body", "named"), MALFORMED, ids=[case for case, _, _ in MALFORMED])
async def test_a_malformed_send_is_error_100_naming_the_problem(
    emulator: Emulator, case: str, body: dict[str, Any], named: str
) -> None:
    await emulator.customer_writes()
    response = await emulator.graph.post(
        f"/{PHONE_NUMBER_ID}/messages", json={"messaging_product": "whatsapp", **body}
    )
    assert named in details(response), case


async def test_a_rejected_send_sends_no_webhook_and_is_listed_with_its_error(emulator: Emulator) -> None:
    response = await emulator.send(type="text", text={})
    details(response)
    listing = (await emulator.control.get("/_emulator/messages")).json()
    assert listing["outbound"] == []
    assert listing["received"][-1]["error"]["code"] == 100
    assert emulator.receiver.statuses("") == []
