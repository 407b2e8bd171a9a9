"""What a verification tells and shows: verification.approved / verification.failed
events, the texts per channel and locale (built in, or the workspace's own), the WhatsApp
authentication template in Meta's fixed shape, and the conversion report per channel."""

from typing import Any

from tests.conftest import Tenant, assert_error
from tests.verifications.support import NOT_REACHABLE, PHONE, check, send_code, settled_attempts


async def events_of(tenant: Tenant, type: str) -> list[dict[str, Any]]:
    response = await tenant.test.get("/v1/logs", params={"kind": "event"})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["data"] if e["type"] == type]


async def test_approval_and_lock_out_are_events_without_the_code(tenant: Tenant) -> None:
    approved = await send_code(tenant.test)
    await check(tenant.test, approved["id"], approved["test_code"])
    [event] = await events_of(tenant, "verification.approved")
    assert (event["data"]["id"], event["data"]["status"]) == (approved["id"], "approved")
    assert event["data"]["test_code"] is None

    locked = await send_code(tenant.test, to="+2348012345679")
    for _ in range(5):
        await check(tenant.test, locked["id"], "0" * 7)
    [failed] = await events_of(tenant, "verification.failed")
    assert (failed["data"]["id"], failed["data"]["reason"]) == (locked["id"], "max_attempts_reached")


async def test_every_channel_failing_fails_the_verification(tenant: Tenant) -> None:
    created = await send_code(tenant.test, to=NOT_REACHABLE, channels=["sms"])
    await settled_attempts(tenant.test, created["id"], ["failed"])
    [failed] = await events_of(tenant, "verification.failed")
    assert (failed["data"]["status"], failed["data"]["reason"]) == ("failed", "undeliverable")


async def test_built_in_texts_in_five_languages(tenant: Tenant) -> None:
    response = await tenant.test.get("/v1/verifications/templates")
    assert response.status_code == 200, response.text
    texts = {(t["channel"], t["locale"]): t for t in response.json()["data"]}
    assert {locale for channel, locale in texts if channel == "sms"} == {"en", "fr", "pt", "es", "ar"}
    for entry in texts.values():
        assert entry["source"] == "built_in"
        carrier = entry["text"]["body"] if entry["channel"] == "sms" else entry["text"]["text"]
        assert {"{{code}}", "{{minutes}}", "{{brand}}"} <= {
            p for p in ("{{code}}", "{{minutes}}", "{{brand}}") if p in carrier
        }


async def test_the_sms_is_in_the_locale_with_the_code_masked(tenant: Tenant) -> None:
    created = await send_code(tenant.test, locale="fr", brand="Boutique Ada", ttl_seconds=300)
    message = await tenant.message(created["attempts"][0]["message_id"])
    assert message["text"]["body"] == (
        "****** est votre code de vérification Boutique Ada. Il expire dans 5 minutes. Ne le partagez jamais."
    )
    assert created["test_code"] not in message["text"]["body"]
    assert message["sms"]["encoding"] == "GSM-7"


async def test_a_workspace_text_replaces_the_built_in_one(tenant: Tenant) -> None:
    own = {"sms": {"en": {"body": "{{brand}}: use {{code}} to sign in ({{minutes}} min)."}}}
    patched = await tenant.test.patch("/v1/verifications/settings", json={"templates": own})
    assert patched.status_code == 200, patched.text
    listed = (await tenant.test.get("/v1/verifications/templates")).json()["data"]
    assert {"channel": "sms", "locale": "en", "source": "workspace", "text": own["sms"]["en"]} in listed

    created = await send_code(tenant.test, brand="Ada", code_length=4)
    message = await tenant.message(created["attempts"][0]["message_id"])
    assert message["text"]["body"] == "Ada: use **** to sign in (10 min)."


async def test_a_workspace_text_must_carry_the_code(tenant: Tenant) -> None:
    no_code = {"sms": {"en": {"body": "Sign in to {{brand}}."}}}
    response = await tenant.test.patch("/v1/verifications/settings", json={"templates": no_code})
    assert_error(response, 422, "parameter_invalid", param="templates.sms.en.body")
    unknown = {"sms": {"en": {"body": "{{code}} for {{name}}"}}}
    response = await tenant.test.patch("/v1/verifications/settings", json={"templates": unknown})
    assert_error(response, 422, "parameter_invalid", param="templates.sms.en.body")


async def test_the_whatsapp_template_has_metas_fixed_authentication_shape(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/verifications/templates/whatsapp",
        json={"channel_id": tenant.whatsapp, "locale": "pt_BR", "code_expiration_minutes": 5},
    )
    assert response.status_code == 201, response.text
    template = response.json()
    assert (template["category"], template["language"], template["status"]) == (
        "AUTHENTICATION",
        "pt_BR",
        "PENDING",
    )
    assert template["components"] == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ]
    listed = (await tenant.test.get("/v1/verifications/templates")).json()["whatsapp"]
    assert [t["template_id"] for t in listed] == [template["id"]]

    one_tap = await tenant.test.post(
        "/v1/verifications/templates/whatsapp",
        json={"channel_id": tenant.whatsapp, "locale": "en", "otp_type": "ONE_TAP", "name": "one_tap_code"},
    )
    error = assert_error(one_tap, 422, "template_invalid")  # lint: one-tap needs the Android app
    assert "auth_supported_apps_missing" in {i["code"] for i in error["details"]["issues"]}
    on_sms = await tenant.test.post("/v1/verifications/templates/whatsapp", json={"channel_id": tenant.sms})
    assert_error(on_sms, 422, "channel_type_unsupported", param="channel_id")


async def test_conversion_rate_per_channel(tenant: Tenant) -> None:
    approved = await send_code(tenant.test)
    await check(tenant.test, approved["id"], approved["test_code"])
    await send_code(tenant.test, to="+2348012345679")
    await send_code(tenant.test, to=PHONE.replace("678", "677"), channels=["email"], email="ada@example.com")
    response = await tenant.test.get("/v1/verifications/report")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [
        {"channel": "email", "verifications": 1, "approved": 0, "conversion_rate": 0.0},
        {"channel": "sms", "verifications": 2, "approved": 1, "conversion_rate": 0.5},
    ]
