"""Template sends: allowed whether or not the window is open, and checked against the
approved definition before anything is queued (and again at dispatch)."""

from typing import Any

from omniroute.channels.models import Channel
from omniroute.core.db import Database
from omniroute.ingest.service import apply_event
from omniroute.policy.templates import TemplateStatus
from omniroute.providers.events import TemplateReview
from tests.conftest import NAMED_BODY, POSITIONAL_BODY, Tenant, accept_in, assert_error, eventually
from tests.templates.support import clock, fetch, insert_template, provider_id, review


def order_update(*values: Any, name: str = "order_update", language: str = "en") -> dict[str, Any]:
    return {"name": name, "language": language, "parameters": {"body": list(values)}}


async def test_template_is_sent_to_a_customer_who_never_wrote(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(template=order_update("Ada", "#4582"))
    assert response.status_code == 202, response.text
    message = response.json()
    assert (message["kind"], message["status"], message["type"]) == ("template", "queued", "template")
    assert message["fallback_used"] is None
    assert message["template"]["name"] == "order_update"
    assert message["template"]["language"] == "en"
    assert message["template"]["parameters"] == {"body": ["Ada", "#4582"]}
    read = await tenant.wait_for(message["id"], "read")
    assert [h["status"] for h in read["status_history"]] == ["queued", "sending", "sent", "delivered", "read"]


async def test_template_is_sent_inside_an_open_window_too(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    await tenant.inbound()
    response = await tenant.send(template=order_update("Ada", "#4582"))
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "template"
    await tenant.wait_for(response.json()["id"], "read")


async def test_template_is_sent_after_the_window_expired(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    await tenant.inbound()
    await tenant.advance_clock(90000)
    assert_error(await tenant.send(), 409, "window_closed")
    response = await tenant.send(template=order_update("Ada", "#4582"))
    assert response.status_code == 202, response.text
    await tenant.wait_for(response.json()["id"], "read")


async def test_template_send_does_not_open_the_window(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    sent = (await tenant.send(template=order_update("Ada", "#4582"))).json()
    await tenant.wait_for(sent["id"], "read")
    assert (await tenant.window())["state"] == "closed"
    assert_error(await tenant.send(), 409, "window_closed")


async def test_too_few_parameters_is_a_mismatch_with_expected_and_got(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    error = assert_error(await tenant.send(template=order_update("Ada")), 422, "template_parameters_mismatch")
    assert (error["details"]["expected"], error["details"]["got"]) == (2, 1)
    assert error["param"] == "template.parameters.body"


async def test_too_many_parameters_is_a_mismatch(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    error = assert_error(
        await tenant.send(template=order_update("Ada", "#4582", "extra")), 422, "template_parameters_mismatch"
    )
    assert (error["details"]["expected"], error["details"]["got"]) == (2, 3)


async def test_missing_parameters_is_a_mismatch(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    error = assert_error(
        await tenant.send(template={"name": "order_update", "language": "en"}),
        422,
        "template_parameters_mismatch",
    )
    assert (error["details"]["expected"], error["details"]["got"]) == (2, 0)


async def test_empty_parameter_value_is_a_mismatch(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    assert_error(await tenant.send(template=order_update("Ada", "")), 422, "template_parameters_mismatch")


async def test_parameters_for_a_group_the_template_lacks_is_a_mismatch(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(
        template={
            "name": "order_update",
            "language": "en",
            "parameters": {"body": ["Ada", "#1"], "footer": ["x"]},
        }
    )
    assert_error(response, 422, "template_parameters_mismatch")


async def test_mismatched_parameters_store_no_message(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    await tenant.send(template=order_update("Ada"), reference="mismatch")
    assert (await tenant.test.get("/v1/messages", params={"reference": "mismatch"})).json()["data"] == []


async def test_unknown_template_name_is_not_found(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    error = assert_error(
        await tenant.send(template=order_update("Ada", "#1", name="no_such_template")),
        404,
        "template_not_found",
    )
    assert error["param"] == "template.name"


async def test_known_name_in_another_language_is_not_found(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    assert_error(
        await tenant.send(template=order_update("Ada", "#1", language="pt_BR")), 404, "template_not_found"
    )


async def test_pending_template_cannot_be_sent(tenant: Tenant, db: Database) -> None:
    await insert_template(db, tenant, "awaiting_review", TemplateStatus.PENDING)
    error = assert_error(
        await tenant.send(template=order_update("Ada", "#1", name="awaiting_review")),
        409,
        "template_not_approved",
    )
    assert error["details"]["status"] == "PENDING"


async def test_rejected_template_cannot_be_sent_and_says_why(tenant: Tenant, db: Database) -> None:
    pending = await insert_template(db, tenant, "promo_blast", TemplateStatus.PENDING)
    await review(db, tenant, pending, "REJECTED", reason="PROMOTIONAL")
    template = (
        await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates", params={"status": "REJECTED"})
    ).json()["data"][0]
    assert template["rejection_reason"] == "PROMOTIONAL"

    error = assert_error(
        await tenant.send(template=order_update("Ada", "#1", name="promo_blast")),
        409,
        "template_not_approved",
    )
    assert error["details"]["status"] == "REJECTED"
    assert "PROMOTIONAL" in error["message"]


async def test_paused_and_disabled_templates_cannot_be_sent(tenant: Tenant, db: Database) -> None:
    for name, status in (("paused_one", TemplateStatus.PAUSED), ("disabled_one", TemplateStatus.DISABLED)):
        await insert_template(db, tenant, name, status)
        error = assert_error(
            await tenant.send(template=order_update("Ada", "#1", name=name)), 409, "template_not_approved"
        )
        assert error["details"]["status"] == status.value


async def test_named_template_takes_an_object_per_component(tenant: Tenant) -> None:
    await tenant.approved_template("appointment", components=[NAMED_BODY])
    response = await tenant.send(
        template={
            "name": "appointment",
            "language": "en",
            "parameters": {"body": {"first_name": "Ada", "day": "Monday"}},
        }
    )
    assert response.status_code == 202, response.text
    await tenant.wait_for(response.json()["id"], "read")


async def test_named_template_refuses_a_list_or_wrong_names(tenant: Tenant) -> None:
    await tenant.approved_template("appointment", components=[NAMED_BODY])
    as_list = await tenant.send(
        template={"name": "appointment", "language": "en", "parameters": {"body": ["Ada", "Monday"]}}
    )
    assert_error(as_list, 422, "template_parameters_mismatch")
    wrong_names = await tenant.send(
        template={
            "name": "appointment",
            "language": "en",
            "parameters": {"body": {"first_name": "Ada", "when": "x"}},
        }
    )
    error = assert_error(wrong_names, 422, "template_parameters_mismatch")
    assert error["details"]["expected"] == ["first_name", "day"]
    assert error["details"]["got"] == ["first_name", "when"]


async def test_positional_template_refuses_an_object(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(
        template={"name": "order_update", "language": "en", "parameters": {"body": {"1": "Ada", "2": "#1"}}}
    )
    assert_error(response, 422, "template_parameters_mismatch")


async def test_template_with_header_and_url_button_takes_their_parameters(tenant: Tenant) -> None:
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#4582"]}},
        POSITIONAL_BODY,
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track", "url": "https://example.com/track/{{1}}", "example": ["abc"]}
            ],
        },
    ]
    template = await tenant.approved_template("tracked_order", components=components)
    assert template["variables"]["header"] == ["1"]
    assert template["variables"]["buttons"] == [{"index": 0, "type": "URL"}]
    without_button = await tenant.send(
        template={
            "name": "tracked_order",
            "language": "en",
            "parameters": {"header": ["#1"], "body": ["Ada", "#1"]},
        }
    )
    error = assert_error(without_button, 422, "template_parameters_mismatch")
    assert (error["details"]["expected"], error["details"]["got"]) == (1, 0)
    complete = await tenant.send(
        template={
            "name": "tracked_order",
            "language": "en",
            "parameters": {"header": ["#1"], "body": ["Ada", "#1"], "buttons": ["abc123"]},
        }
    )
    assert complete.status_code == 202, complete.text


async def test_hydrated_body_too_long_is_refused(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(template=order_update("A" * 1000, "#1"))
    error = assert_error(response, 422, "template_text_too_long")
    assert error["details"]["max"] == 1024


async def test_templates_cannot_be_sent_on_sms(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    response = await tenant.send(channel_id=tenant.sms, template=order_update("Ada", "#1"))
    assert_error(response, 422, "channel_type_unsupported")


async def test_template_of_one_channel_is_unknown_on_another(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    second = (
        await tenant.test.post(
            "/v1/channels", json={"type": "whatsapp", "name": "Two", "provider": "sandbox"}
        )
    ).json()
    assert_error(
        await tenant.send(channel_id=second["id"], template=order_update("Ada", "#1")),
        404,
        "template_not_found",
    )


IMAGE_HEADER = {
    "type": "HEADER",
    "format": "IMAGE",
    "example": {"header_handle": ["https://example.com/h.jpg"]},
}


async def test_media_header_takes_media_of_the_approved_type(tenant: Tenant) -> None:
    await tenant.approved_template("photo_receipt", components=[IMAGE_HEADER, POSITIONAL_BODY])

    def send(header: Any) -> dict[str, Any]:
        return {
            "name": "photo_receipt",
            "language": "en",
            "parameters": {"header": header, "body": ["Ada", "#1"]},
        }

    video = await tenant.send(template=send({"type": "video", "link": "https://example.com/a.mp4"}))
    error = assert_error(video, 422, "template_parameters_mismatch", param="template.parameters.header")
    assert (error["details"]["expected"], error["details"]["got"]) == ("IMAGE", "VIDEO")
    metas_shape = await tenant.send(template=send({"video": {"link": "https://example.com/a.mp4"}}))
    assert_error(metas_shape, 422, "template_parameters_mismatch")
    assert_error(await tenant.send(template=send(None)), 422, "template_parameters_mismatch")

    image = await tenant.send(template=send({"type": "image", "link": "https://example.com/a.jpg"}))
    assert image.status_code == 202, image.text
    await tenant.wait_for(image.json()["id"], "read")


async def test_copy_code_button_needs_its_code(tenant: Tenant) -> None:
    components = [
        {**POSITIONAL_BODY, "text": "Hi {{1}}, use the code for order {{2}} at checkout today."},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
    ]
    await tenant.approved_template("coupon", components=components, category="MARKETING")
    coupon = {"name": "coupon", "language": "en", "parameters": {"body": ["Ada", "#1"]}}
    error = assert_error(await tenant.send(template=coupon), 422, "template_parameters_mismatch")
    assert (error["details"]["expected"], error["details"]["got"]) == (1, 0)
    with_code = await tenant.send(
        template={**coupon, "parameters": {"body": ["Ada", "#1"], "buttons": ["SAVE10"]}}
    )
    assert with_code.status_code == 202, with_code.text


async def test_currency_and_date_time_parameters_in_metas_shape(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    currency = {
        "type": "currency",
        "currency": {"fallback_value": "$10.99", "code": "USD", "amount_1000": 10990},
    }
    date_time = {"type": "date_time", "date_time": {"fallback_value": "May 1, 2026"}}
    response = await tenant.send(template=order_update(currency, date_time))
    assert response.status_code == 202, response.text
    assert response.json()["template"]["parameters"]["body"] == [currency, date_time]
    await tenant.wait_for(response.json()["id"], "read")

    without_code = {"type": "currency", "currency": {"fallback_value": "$10.99", "amount_1000": 10990}}
    error = assert_error(
        await tenant.send(template=order_update(without_code, "#1")), 422, "template_parameters_mismatch"
    )
    assert "currency" in error["message"]
    unknown_kind = {"type": "location", "location": {"fallback_value": "x"}}
    assert_error(
        await tenant.send(template=order_update(unknown_kind, "#1")), 422, "template_parameters_mismatch"
    )


async def test_a_paused_template_is_refused_saying_until_when(tenant: Tenant, db: Database) -> None:
    approved = await tenant.approved_template("order_update")
    await review(db, tenant, approved, "PAUSED")
    paused_until = (await fetch(tenant, approved["id"]))["paused_until"]
    error = assert_error(await tenant.send(template=order_update("Ada", "#1")), 409, "template_not_approved")
    assert error["details"]["status"] == "PAUSED"
    assert error["details"]["paused_until"] == paused_until
    assert paused_until in error["message"]
    assert "3 h" in error["message"]

    await tenant.advance_clock(3 * 3600 + 1)
    await eventually(lambda: fetch(tenant, approved["id"]), lambda t: t["status"] == "APPROVED")
    assert (await tenant.send(template=order_update("Ada", "#1"))).status_code == 202


async def test_the_second_pause_is_refused_for_six_hours(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "order_update", TemplateStatus.APPROVED)
    for status in ("PAUSED", "REINSTATED", "PAUSED"):
        await review(db, tenant, template, status)
    error = assert_error(await tenant.send(template=order_update("Ada", "#1")), 409, "template_not_approved")
    assert "6 h" in error["message"]
    assert error["details"]["paused_until"] in error["message"]


async def test_a_disabled_template_is_refused_saying_why(tenant: Tenant, db: Database) -> None:
    template = await insert_template(db, tenant, "order_update", TemplateStatus.APPROVED)
    for status in ("PAUSED", "REINSTATED", "PAUSED", "REINSTATED", "PAUSED"):
        await review(db, tenant, template, status)
    error = assert_error(await tenant.send(template=order_update("Ada", "#1")), 409, "template_not_approved")
    assert error["details"]["status"] == "DISABLED"
    assert error["details"]["paused_until"] is None
    assert error["details"]["reason"] in error["message"]
    assert "quality" in error["details"]["reason"]


async def test_a_template_paused_after_acceptance_fails_the_queued_message(
    tenant: Tenant, db: Database
) -> None:
    approved = await tenant.approved_template("order_update")
    paused_at = await clock(tenant)
    template_provider_id = await provider_id(db, approved["id"])
    async with db.transaction() as session:
        message = await accept_in(session, tenant, template=order_update("Ada", "#1"))
        channel = await session.get(Channel, tenant.whatsapp)
        assert channel is not None
        await apply_event(
            session,
            channel,
            TemplateReview(
                provider_template_id=template_provider_id,
                name="order_update",
                language="en",
                status="PAUSED",
                timestamp=paused_at,
            ),
        )
        message_id = message.id
    failed = await tenant.wait_for(message_id, "failed")
    assert failed["error"]["code"] == "template_not_approved"
    assert "paused" in failed["error"]["message"].lower()
