"""Template management and template sends through the real ``meta`` adapter against the
Graph API emulator: submission and the review webhook, sync across the emulator's
pages, edits, deletion, and every kind of template parameter in Meta's shape."""

from typing import Any

from tests.conftest import CUSTOMER, NAMED_BODY, POSITIONAL_BODY, eventually
from tests.providers.meta.emulated import Emulated, StartEmulated
from tests.providers.meta.payloads import WABA_ID

PROMOTIONAL_BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, get 50% off everything today only with order {{2}}! Shop now before it ends.",
    "example": {"body_text": [["Ada", "#4582"]]},
}

RECEIPT = [
    {"type": "HEADER", "format": "TEXT", "text": "Receipt {{1}}", "example": {"header_text": ["#4582"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, you paid {{2}} on {{3}}. Keep this message for your records.",
        "example": {"body_text": [["Ada", "$10.99", "May 1, 2026"]]},
    },
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "View receipt",
                "url": "https://shop.x.test/receipts/{{1}}",
                "example": ["https://shop.x.test/receipts/4582"],
            },
            {"type": "QUICK_REPLY", "text": "Wrong amount"},
        ],
    },
]

COUPON = [
    {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": ["https://x.test/banner.jpg"]},
    },
    {**POSITIONAL_BODY, "text": "Hi {{1}}, use the code for order {{2}} at checkout today."},
    {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
]


async def emulator_templates(emulated: Emulated, **params: str) -> list[dict[str, Any]]:
    """The WABA's templates as the emulator's Graph API lists them (first page)."""
    response = await emulated.graph.get(f"/{WABA_ID}/message_templates", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def template(emulated: Emulated, template_id: str) -> dict[str, Any]:
    response = await emulated.api.test.get(f"/v1/templates/{template_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def eventually_status(emulated: Emulated, template_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = await eventually(
        lambda: template(emulated, template_id), lambda t: t["status"] == status
    )
    return found


async def test_a_submitted_template_is_approved_by_the_review_webhook(emulated: Emulated) -> None:
    approved = await emulated.api.approved_template("order_update", components=[POSITIONAL_BODY])

    [held] = await emulator_templates(emulated, name="order_update")
    assert (held["status"], held["category"], held["language"]) == ("APPROVED", "UTILITY", "en")
    assert held["components"] == approved["components"]
    assert [c["status"] for c in approved["status_history"]] == ["PENDING", "APPROVED"]
    synced = await emulated.api.test.post(f"/v1/channels/{emulated.channel_id}/templates/sync")
    assert synced.json()["unchanged"] == 1, synced.text


async def test_a_template_the_review_rejects_is_rejected_with_the_reason(emulated: Emulated) -> None:
    created = await emulated.api.create_template("summer_sale", components=[PROMOTIONAL_BODY])
    assert created.status_code == 201, created.text

    rejected = await eventually_status(emulated, created.json()["id"], "REJECTED")
    assert (rejected["rejection_reason"], rejected["status_reason"]) == ("PROMOTIONAL", "PROMOTIONAL")


async def test_a_forced_invalid_format_verdict_carries_its_explanation(start_emulated: StartEmulated) -> None:
    emulated = await start_emulated(review_seconds=3600)  # the forced verdict is the only one
    created = await emulated.api.create_template("order_update")
    template_id = created.json()["id"]
    [held] = await eventually(lambda: emulator_templates(emulated, name="order_update"), bool)
    response = await emulated.control.post(
        f"/_emulator/templates/{held['id']}/review",
        json={"status": "REJECTED", "reason": "INVALID_FORMAT: Variables can't be at the end of the body."},
    )
    assert response.status_code == 200, response.text

    rejected = await eventually_status(emulated, template_id, "REJECTED")
    assert rejected["rejection_reason"] == "INVALID_FORMAT"
    assert rejected["status_reason"] == "INVALID_FORMAT: Variables can't be at the end of the body."


async def test_sync_pulls_every_page_of_the_emulators_list(start_emulated: StartEmulated) -> None:
    emulated = await start_emulated(review_seconds=3600)
    names = [f"notice_{index:03}" for index in range(130)]
    ids = {}
    for name in names:
        response = await emulated.graph.post(
            f"/{WABA_ID}/message_templates",
            json={"name": name, "language": "en_US", "category": "UTILITY", "components": [POSITIONAL_BODY]},
        )
        assert response.status_code == 200, response.text
        ids[name] = response.json()["id"]
    await emulated.control.post(
        f"/_emulator/templates/{ids['notice_007']}/review", json={"status": "APPROVED"}
    )

    response = await emulated.api.test.post(f"/v1/channels/{emulated.channel_id}/templates/sync")
    assert response.status_code == 200, response.text
    synced = response.json()
    assert synced["created"] == len(names)
    by_name = {t["name"]: t for t in synced["data"]}
    assert sorted(by_name) == names
    assert by_name["notice_007"]["status"] == "APPROVED"
    assert by_name["notice_129"]["status"] == "PENDING"


async def test_an_edit_reaches_the_emulator_and_is_approved_again(start_emulated: StartEmulated) -> None:
    # A verdict in the same second as the first one would be the same bytes as it, which
    # we take for Meta redelivering that webhook; Meta's reviews take longer than that.
    emulated = await start_emulated(review_seconds=1.0)
    approved = await emulated.api.approved_template("order_update")
    components = [{**POSITIONAL_BODY, "text": "Hi {{1}}, order {{2}} left our depot and arrives tomorrow."}]

    edited = await emulated.api.test.post(f"/v1/templates/{approved['id']}", json={"components": components})
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "PENDING"

    again = await eventually(
        lambda: template(emulated, approved["id"]),
        lambda t: (
            [c["status"] for c in t["status_history"]][-2:] == ["PENDING", "APPROVED"]
            and len(t["status_history"]) == 4
        ),
    )
    [held] = await emulator_templates(emulated, name="order_update")
    assert held["components"] == components == again["components"]
    assert held["status"] == "APPROVED"


async def test_a_deletion_reaches_the_emulator(emulated: Emulated) -> None:
    approved = await emulated.api.approved_template("order_update")
    deleted = await emulated.api.test.delete(f"/v1/templates/{approved['id']}")
    assert deleted.status_code == 200, deleted.text

    await eventually_status(emulated, approved["id"], "DELETED")
    assert await emulator_templates(emulated, name="order_update") == []


async def sent_template(emulated: Emulated, reference: dict[str, Any]) -> dict[str, Any]:
    """Send a template; the body the emulator accepted for it."""
    message = await emulated.sent(template=reference)
    return dict((await emulated.accepted_request(message["id"]))["template"])


async def test_positional_parameters_of_every_kind_in_meta_shape(emulated: Emulated) -> None:
    await emulated.api.approved_template("receipt", components=RECEIPT)
    currency = {
        "type": "currency",
        "currency": {"fallback_value": "$10.99", "code": "USD", "amount_1000": 10990},
    }
    date_time = {"type": "date_time", "date_time": {"fallback_value": "May 1, 2026"}}

    sent = await sent_template(
        emulated,
        {
            "name": "receipt",
            "language": "en",
            "parameters": {
                "header": ["#4582"],
                "body": ["Ada", currency, date_time],
                "buttons": ["4582"],
                "quick_replies": ["wrong-amount-4582"],
            },
        },
    )
    assert sent == {
        "name": "receipt",
        "language": {"code": "en"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "#4582"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, currency, date_time]},
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "4582"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "wrong-amount-4582"}],
            },
        ],
    }


async def test_media_header_and_copy_code_in_meta_shape(emulated: Emulated) -> None:
    await emulated.api.approved_template("coupon", components=COUPON, category="MARKETING")

    sent = await sent_template(
        emulated,
        {
            "name": "coupon",
            "language": "en",
            "parameters": {
                "header": {"type": "image", "link": "https://x.test/summer.jpg"},
                "body": ["Ada", "#4582"],
                "buttons": ["SAVE10"],
            },
        },
    )
    assert sent["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.test/summer.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#4582"}]},
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
        },
    ]


async def test_named_parameters_in_meta_shape(emulated: Emulated) -> None:
    await emulated.api.approved_template("appointment", components=[NAMED_BODY])

    sent = await sent_template(
        emulated,
        {
            "name": "appointment",
            "language": "en",
            "parameters": {"body": {"day": "Monday", "first_name": "Ada"}},
        },
    )
    assert sent["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ada", "parameter_name": "first_name"},
                {"type": "text", "text": "Monday", "parameter_name": "day"},
            ],
        }
    ]


async def test_a_template_outside_the_window_is_billed(emulated: Emulated) -> None:
    await emulated.api.approved_template("order_update")
    message = await emulated.sent(
        template={"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}}
    )

    read = await emulated.api.wait_for(message["id"], "read")
    assert (read["pricing"]["category"], read["pricing"]["billable"]) == ("utility", True)
    assert float(read["pricing"]["cost"]["amount"]) > 0
    assert (await emulated.api.window(CUSTOMER))["state"] == "closed"
