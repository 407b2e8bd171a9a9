"""The customer service window, end to end through the HTTP API on the sandbox."""

from datetime import timedelta

from tests.conftest import CUSTOMER, Tenant, assert_error, ts

DAY = timedelta(hours=24)


async def test_free_form_to_a_customer_who_never_wrote_is_refused(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/messages", json={"channel_id": tenant.whatsapp, "to": CUSTOMER, "text": {"body": "Hi"}}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "window_closed"
    assert "template" in error["message"]
    assert error["details"] == {"last_inbound_at": None, "expired_at": None}


async def test_window_closed_refusal_is_a_policy_error_naming_the_content_field(tenant: Tenant) -> None:
    error = assert_error(await tenant.send(), 409, "window_closed", param="text", error_type="policy_error")
    assert "template" in error["message"].lower()


async def test_refused_free_form_stores_no_message(tenant: Tenant) -> None:
    await tenant.send(reference="refused-1")
    listed = (await tenant.test.get("/v1/messages", params={"reference": "refused-1"})).json()
    assert listed["data"] == []


async def test_customer_message_opens_the_window_and_the_send_goes_to_read(tenant: Tenant) -> None:
    inbound = await tenant.test.post(
        "/v1/sandbox/inbound",
        json={"channel_id": tenant.whatsapp, "from": CUSTOMER, "text": {"body": "Hello"}},
    )
    assert inbound.status_code == 201
    window = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/window", params={"to": CUSTOMER})).json()
    assert window["state"] == "open"

    sent = await tenant.test.post(
        "/v1/messages", json={"channel_id": tenant.whatsapp, "to": CUSTOMER, "text": {"body": "Hi Ada"}}
    )
    assert sent.status_code == 202, sent.text
    message = sent.json()
    assert (message["kind"], message["status"]) == ("session", "queued")

    final = await tenant.wait_for(message["id"], "read")
    history = [h["status"] for h in final["status_history"]]
    assert history == ["queued", "sending", "sent", "delivered", "read"]


async def test_accepted_session_message_describes_what_will_be_sent(tenant: Tenant) -> None:
    await tenant.inbound()
    accepted = await tenant.send(
        CUSTOMER,
        text={"body": "Your package has shipped"},
        metadata={"order": "4582"},
        reference="order-4582",
    )
    assert accepted.status_code == 202, accepted.text
    message = accepted.json()
    assert message["id"].startswith("msg_")
    assert message["channel_id"] == tenant.whatsapp
    assert message["to"] == CUSTOMER
    assert message["direction"] == "outbound"
    assert message["kind"] == "session"
    assert message["status"] == "queued"
    assert message["text"]["body"] == "Your package has shipped"
    assert message["fallback_used"] is None
    assert message["metadata"] == {"order": "4582"}
    assert message["reference"] == "order-4582"
    assert message["error"] is None
    assert ts(message["created_at"]).tzinfo is not None
    assert [h["status"] for h in message["status_history"]] == ["queued"]


async def test_status_history_records_each_change_with_a_time_in_order(tenant: Tenant) -> None:
    await tenant.inbound()
    message = (await tenant.send()).json()
    final = await tenant.wait_for(message["id"], "read")
    times = [ts(h["at"]) for h in final["status_history"]]
    assert times == sorted(times)
    assert times[0] == ts(message["created_at"])
    assert final["provider_message_id"]
    assert final["attempts"] == 1


async def test_window_expires_after_24_hours_on_the_test_clock(tenant: Tenant) -> None:
    opened = (await tenant.inbound()).json()
    last_inbound_at = ts(opened["window"]["last_inbound_at"])
    assert (await tenant.send()).status_code == 202

    await tenant.advance_clock(90000)

    window = await tenant.window()
    assert window["state"] == "closed"
    assert ts(window["last_inbound_at"]) == last_inbound_at
    assert ts(window["expires_at"]) == last_inbound_at + DAY
    error = assert_error(await tenant.send(), 409, "window_closed")
    assert ts(error["details"]["last_inbound_at"]) == last_inbound_at
    assert ts(error["details"]["expired_at"]) == last_inbound_at + DAY


async def test_window_still_open_just_before_24_hours(tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.advance_clock(24 * 3600 - 60)
    assert (await tenant.window())["state"] == "open"
    assert (await tenant.send()).status_code == 202


async def test_a_new_customer_message_reopens_an_expired_window(tenant: Tenant) -> None:
    await tenant.inbound()
    await tenant.advance_clock(90000)
    assert_error(await tenant.send(), 409, "window_closed")

    again = (await tenant.inbound(body="Are you there?")).json()
    assert again["window"]["state"] == "open"
    accepted = await tenant.send()
    assert accepted.status_code == 202
    await tenant.wait_for(accepted.json()["id"], "read")


async def test_window_is_per_customer(tenant: Tenant) -> None:
    await tenant.inbound(CUSTOMER)
    assert (await tenant.send(CUSTOMER)).status_code == 202
    assert_error(await tenant.send("+2348012345699"), 409, "window_closed")


async def test_window_is_per_business_number(tenant: Tenant) -> None:
    second = await tenant.test.post(
        "/v1/channels", json={"type": "whatsapp", "name": "Second number", "provider": "sandbox"}
    )
    assert second.status_code == 201, second.text
    await tenant.inbound(CUSTOMER)
    assert (await tenant.send(CUSTOMER)).status_code == 202
    assert_error(await tenant.send(CUSTOMER, channel_id=second.json()["id"]), 409, "window_closed")


async def test_phone_numbers_in_any_common_form_reach_the_same_window(tenant: Tenant) -> None:
    await tenant.inbound("+234 801 234 5678")
    for written in ("+2348012345678", "002348012345678", "234-801-234-5678", "+234 (801) 234 5678"):
        response = await tenant.send(written)
        assert response.status_code == 202, (written, response.text)
        assert response.json()["to"] == CUSTOMER


async def test_sms_and_email_have_no_window(tenant: Tenant) -> None:
    sms = await tenant.send(channel_id=tenant.sms)
    assert sms.status_code == 202, sms.text
    assert sms.json()["kind"] == "session"
    email = await tenant.send("ada@example.com", channel_id=tenant.email)
    assert email.status_code == 202, email.text
    await tenant.wait_for(sms.json()["id"], "delivered")
    await tenant.wait_for(email.json()["id"], "delivered")


async def test_other_free_form_kinds_are_accepted_in_the_window(tenant: Tenant) -> None:
    await tenant.inbound()
    bodies = [
        {"image": {"link": "https://example.com/a.png", "caption": "Your receipt"}},
        {"document": {"media_id": "12345", "filename": "invoice.pdf"}},
        {"location": {"latitude": 6.5, "longitude": 3.4, "name": "Lagos"}},
        {
            "interactive": {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
            }
        },
    ]
    for body in bodies:
        response = await tenant.send(**body)
        assert response.status_code == 202, response.text
        message = response.json()
        assert message["kind"] == "session"
        assert message["type"] == next(iter(body))
        await tenant.wait_for(message["id"], "read")


async def test_other_free_form_kinds_are_refused_outside_the_window(tenant: Tenant) -> None:
    response = await tenant.send(image={"link": "https://example.com/a.png"})
    assert_error(response, 409, "window_closed", param="image")
