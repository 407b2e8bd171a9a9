"""message_templates endpoints as Meta serves them, review verdicts by webhook, and
template sends checked against the approved template (132001, 132000, 132015)."""

from typing import Any

from tests.conftest import POSITIONAL_BODY
from tests.emulator.conftest import CUSTOMER, WABA_ID, Emulator, details, graph_error

HEADER = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#4582"]}}
BUTTONS = {
    "type": "BUTTONS",
    "buttons": [
        {
            "type": "URL",
            "text": "Track",
            "url": "https://example.com/track/{{1}}",
            "example": ["https://example.com/track/4582"],
        },
        {"type": "QUICK_REPLY", "text": "Stop updates"},
    ],
}
SHIPPING = [HEADER, POSITIONAL_BODY, BUTTONS]


def template_send(name: str, components: list[dict[str, Any]], language: str = "en_US") -> dict[str, Any]:
    return {
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


FULL_PARAMETERS = [
    {"type": "header", "parameters": [{"type": "text", "text": "#4582"}]},
    {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#4582"}]},
    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "4582"}]},
]


async def test_a_created_template_is_pending_then_approved_by_a_review_webhook(emulator: Emulator) -> None:
    response = await emulator.graph.post(
        f"/{WABA_ID}/message_templates",
        json={"name": "order_shipped", "language": "en_US", "category": "UTILITY", "components": SHIPPING},
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert created == {"id": created["id"], "status": "PENDING", "category": "UTILITY"}

    review = await emulator.receiver.wait_for("message_template_status_update", lambda v: True)
    assert review == {
        "event": "APPROVED",
        "message_template_id": int(created["id"]),
        "message_template_name": "order_shipped",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    fetched = (await emulator.graph.get(f"/{created['id']}")).json()
    assert fetched["status"] == "APPROVED"
    assert fetched["components"] == SHIPPING


async def test_a_template_our_lint_rejects_is_rejected_by_review(emulator: Emulator) -> None:
    bad_body = {"type": "BODY", "text": "{{1}} is here"}
    response = await emulator.create_template("edge_variable", [bad_body])
    template_id = int(response.json()["id"])
    review = await emulator.receiver.wait_for(
        "message_template_status_update", lambda v: v["message_template_id"] == template_id
    )
    assert review["event"] == "REJECTED"
    assert review["reason"] == "INVALID_FORMAT"
    assert "variable" in review["rejection_info"]["reason"]


async def test_only_an_invalid_format_rejection_is_explained(emulator: Emulator) -> None:
    promotional = {
        "type": "BODY",
        "text": "Hi {{1}}, get 50% off everything today only with order {{2}}! Shop now before it ends.",
        "example": {"body_text": [["Ada", "#4582"]]},
    }
    template_id = int((await emulator.create_template("summer_sale", [promotional])).json()["id"])
    review = await emulator.receiver.wait_for(
        "message_template_status_update", lambda v: v["message_template_id"] == template_id
    )
    assert (review["event"], review["reason"]) == ("REJECTED", "PROMOTIONAL")
    assert "rejection_info" not in review


async def test_creating_a_template_checks_its_fields_and_duplicates(emulator: Emulator) -> None:
    missing = await emulator.graph.post(
        f"/{WABA_ID}/message_templates", json={"name": "x", "language": "en_US"}
    )
    assert "category" in details(missing)
    await emulator.approved_template("twice", [POSITIONAL_BODY])
    again = await emulator.create_template("twice", [POSITIONAL_BODY])
    error = graph_error(again, 400, 100)
    assert error["error_subcode"] == 2388024


async def test_a_template_keeps_its_time_to_live_and_refuses_one_out_of_range(emulator: Emulator) -> None:
    body = {"name": "otp_ttl", "language": "en_US", "category": "UTILITY", "components": [POSITIONAL_BODY]}
    created = await emulator.graph.post(
        f"/{WABA_ID}/message_templates", json={**body, "message_send_ttl_seconds": 600}
    )
    assert created.status_code == 200, created.text
    fetched = (await emulator.graph.get(f"/{created.json()['id']}")).json()
    assert fetched["message_send_ttl_seconds"] == 600
    too_long = await emulator.graph.post(
        f"/{WABA_ID}/message_templates",
        json={**body, "name": "otp_ttl_long", "message_send_ttl_seconds": 43_201},
    )
    assert "message_send_ttl_seconds" in details(too_long)


async def test_templates_are_listed_a_page_at_a_time_with_after_cursors(emulator: Emulator) -> None:
    for index in range(5):
        await emulator.create_template(f"notice_{index}", [POSITIONAL_BODY], "MARKETING", "en")
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    pages = 0
    while True:
        page = (await emulator.graph.get(f"/{WABA_ID}/message_templates", params=params)).json()
        pages += 1
        seen.extend(t["name"] for t in page["data"])
        assert set(page["data"][0]) == {
            "name",
            "parameter_format",
            "components",
            "language",
            "status",
            "category",
            "id",
        }
        if "next" not in page["paging"]:
            break
        assert page["paging"]["next"].startswith("http")
        params = {"limit": "2", "after": page["paging"]["cursors"]["after"]}
    assert pages == 3
    assert seen == [f"notice_{index}" for index in range(5)]

    named = (
        await emulator.graph.get(
            f"/{WABA_ID}/message_templates", params={"name": "notice_3", "fields": "name,status"}
        )
    ).json()
    assert [set(t) for t in named["data"]] == [{"name", "status", "id"}]


async def test_deleting_a_template_by_name_removes_it(emulator: Emulator) -> None:
    await emulator.approved_template("old_notice", [POSITIONAL_BODY])
    response = await emulator.graph.delete(f"/{WABA_ID}/message_templates", params={"name": "old_notice"})
    assert response.json() == {"success": True}
    listing = (await emulator.graph.get(f"/{WABA_ID}/message_templates")).json()
    assert listing["data"] == []
    gone = await emulator.graph.delete(f"/{WABA_ID}/message_templates", params={"name": "old_notice"})
    assert "old_notice" in details(gone)


async def test_editing_an_approved_template_sends_it_back_to_review(emulator: Emulator) -> None:
    template_id = await emulator.approved_template("reminder", [POSITIONAL_BODY])
    new_body = {**POSITIONAL_BODY, "text": "Hello {{1}}, order {{2}} leaves our depot today."}
    response = await emulator.graph.post(f"/{template_id}", json={"components": [new_body]})
    assert response.json() == {"success": True}
    assert (await emulator.graph.get(f"/{template_id}")).json()["status"] == "PENDING"
    refused = await emulator.graph.post(f"/{template_id}", json={"components": [new_body]})
    assert "PENDING" in details(refused)

    first, second = await emulator.receiver.wait_for_count("message_template_status_update", 2)
    assert (first["event"], second["event"]) == ("APPROVED", "APPROVED")
    assert (await emulator.graph.get(f"/{template_id}")).json()["components"] == [new_body]


async def test_a_template_send_with_the_right_parameters_is_accepted_outside_the_window(
    emulator: Emulator,
) -> None:
    await emulator.approved_template("order_shipped", SHIPPING)
    response = await emulator.send(CUSTOMER, **template_send("order_shipped", FULL_PARAMETERS))
    assert response.status_code == 200, response.text
    message_id = response.json()["messages"][0]["id"]
    statuses = await emulator.receiver.wait_for_statuses(message_id, ["sent", "delivered", "read"])
    assert statuses[0]["pricing"] == {
        "pricing_model": "PMP",
        "category": "utility",
        "type": "regular",
        "billable": True,
    }


async def test_an_unknown_or_unapproved_template_is_132001(emulator: Emulator) -> None:
    unknown = await emulator.send(**template_send("no_such_template", []))
    error = graph_error(unknown, 404, 132001)
    assert error["error_data"]["details"] == "template name (no_such_template) does not exist in en_US"

    await emulator.approved_template("hello", [POSITIONAL_BODY])
    other_language = await emulator.send(**template_send("hello", FULL_PARAMETERS[1:2], language="fr"))
    graph_error(other_language, 404, 132001)

    assert (await emulator.create_template("slow_review", [POSITIONAL_BODY])).status_code == 200
    graph_error(await emulator.send(**template_send("slow_review", FULL_PARAMETERS[1:2])), 404, 132001)


async def test_a_parameter_count_mismatch_is_132000(emulator: Emulator) -> None:
    await emulator.approved_template("order_shipped", SHIPPING)
    one_body_parameter = [
        FULL_PARAMETERS[0],
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}]},
        FULL_PARAMETERS[2],
    ]
    response = await emulator.send(**template_send("order_shipped", one_body_parameter))
    assert "body" in details(response, 132000)
    without_button = await emulator.send(**template_send("order_shipped", FULL_PARAMETERS[:2]))
    assert "button" in details(without_button, 132000)


async def test_a_text_parameter_with_a_newline_tab_or_five_spaces_is_132018(emulator: Emulator) -> None:
    await emulator.approved_template("order_shipped", SHIPPING)
    for bad in ("Ada\nObi", "Ada\tObi", "Ada     Obi"):
        body = {
            "type": "body",
            "parameters": [{"type": "text", "text": bad}, {"type": "text", "text": "#4582"}],
        }
        components = [FULL_PARAMETERS[0], body, FULL_PARAMETERS[2]]
        response = await emulator.send(**template_send("order_shipped", components))
        assert "4 consecutive spaces" in details(response, 132018), bad


async def test_a_forced_review_pauses_a_template_and_sends_then_fail_with_132015(emulator: Emulator) -> None:
    template_id = await emulator.approved_template("promo", [POSITIONAL_BODY])
    forced = await emulator.control.post(
        f"/_emulator/templates/{template_id}/review", json={"status": "PAUSED", "reason": "LOW_QUALITY"}
    )
    assert forced.json()["status"] == "PAUSED"
    webhook = await emulator.receiver.wait_for(
        "message_template_status_update", lambda v: v["event"] == "PAUSED"
    )
    assert webhook["reason"] == "LOW_QUALITY"
    details(await emulator.send(**template_send("promo", FULL_PARAMETERS[1:2])), 132015)

    await emulator.control.post(f"/_emulator/templates/{template_id}/review", json={"status": "DISABLED"})
    details(await emulator.send(**template_send("promo", FULL_PARAMETERS[1:2])), 132016)


async def test_a_forced_verdict_replaces_the_automatic_review(start_emulator: Any) -> None:
    emulator: Emulator = await start_emulator(review_seconds=60)
    created = await emulator.create_template("manual", [POSITIONAL_BODY], "MARKETING")
    template_id = created.json()["id"]
    await emulator.control.post(
        f"/_emulator/templates/{template_id}/review", json={"status": "REJECTED", "reason": "PROMOTIONAL"}
    )
    review = await emulator.receiver.wait_for("message_template_status_update", lambda v: True)
    assert (review["event"], review["reason"]) == ("REJECTED", "PROMOTIONAL")
    missing = await emulator.control.post("/_emulator/templates/123/review", json={"status": "APPROVED"})
    assert missing.status_code == 404
