"""Templates through the HTTP API: submission in Meta's component shape, lint, review
by the sandbox, listing, fetching and deletion."""

from typing import Any

from tests.conftest import NAMED_BODY, POSITIONAL_BODY, Tenant, assert_error, eventually


async def test_valid_template_is_created_pending_then_approved_by_the_sandbox(tenant: Tenant) -> None:
    created = await tenant.create_template("order_update")
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["id"].startswith("tpl_")
    assert template["status"] == "PENDING"
    assert (template["name"], template["language"], template["category"]) == ("order_update", "en", "UTILITY")
    assert template["channel_id"] == tenant.whatsapp
    assert template["rejection_reason"] is None
    assert template["components"][0]["text"] == POSITIONAL_BODY["text"]
    assert template["components"][0]["example"] == POSITIONAL_BODY["example"]

    async def fetch() -> dict[str, Any]:
        return dict((await tenant.test.get(f"/v1/templates/{template['id']}")).json())

    approved = await eventually(fetch, lambda t: t["status"] == "APPROVED")
    assert [h["status"] for h in approved["status_history"]] == ["PENDING", "APPROVED"]


async def test_template_lists_its_expected_variables(tenant: Tenant) -> None:
    template = (await tenant.create_template("order_update")).json()
    assert template["variables"]["format"] == "positional"
    assert template["variables"]["body"] == ["1", "2"]

    named = (await tenant.create_template("appointment", components=[NAMED_BODY])).json()
    assert named["variables"]["format"] == "named"
    assert named["variables"]["body"] == ["first_name", "day"]


async def test_component_and_category_names_are_accepted_in_any_case(tenant: Tenant) -> None:
    created = await tenant.create_template(
        "lowercase_shape", components=[{**POSITIONAL_BODY, "type": "body"}], category="utility"
    )
    assert created.status_code == 201, created.text
    assert created.json()["category"] == "UTILITY"


async def test_malformed_template_is_refused_with_the_lint_issues(tenant: Tenant) -> None:
    response = await tenant.create_template(
        "Order Update!",
        components=[{"type": "BODY", "text": "Hi {{1}}, your order {{3}} has shipped today, thank you."}],
    )
    error = assert_error(response, 422, "template_invalid", error_type="invalid_request_error")
    codes = {issue["code"] for issue in error["details"]["issues"]}
    assert {"name_invalid", "variables_not_sequential", "example_missing"} <= codes
    for issue in error["details"]["issues"]:
        assert issue["severity"] in ("error", "warning")
        assert issue["component"]
        assert issue["message"]
    listed = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates")).json()
    assert listed["data"] == []


async def test_template_without_example_values_is_refused(tenant: Tenant) -> None:
    response = await tenant.create_template(
        components=[{"type": "BODY", "text": "Hi {{1}}, your order has shipped and will arrive soon."}]
    )
    error = assert_error(response, 422, "template_invalid")
    assert [i["code"] for i in error["details"]["issues"]] == ["example_missing"]


async def test_template_mixing_named_and_numbered_variables_is_refused(tenant: Tenant) -> None:
    response = await tenant.create_template(
        components=[
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, your order {{1}} has shipped and will arrive soon.",
                "example": {"body_text": [["Ada", "#4582"]]},
            }
        ]
    )
    error = assert_error(response, 422, "template_invalid")
    assert "variables_mixed" in {i["code"] for i in error["details"]["issues"]}


async def test_template_with_unsupported_language_or_missing_body_is_refused(tenant: Tenant) -> None:
    error = assert_error(await tenant.create_template(language="xx_YY"), 422, "template_invalid")
    assert "language_unsupported" in {i["code"] for i in error["details"]["issues"]}
    no_body = await tenant.create_template(components=[{"type": "FOOTER", "text": "Reply STOP to opt out"}])
    error = assert_error(no_body, 422, "template_invalid")
    assert "body_missing" in {i["code"] for i in error["details"]["issues"]}


async def test_header_and_footer_rules_are_linted(tenant: Tenant) -> None:
    response = await tenant.create_template(
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} for {{2}}"},
            POSITIONAL_BODY,
            {"type": "FOOTER", "text": "Sent to {{1}}"},
        ]
    )
    error = assert_error(response, 422, "template_invalid")
    codes = {i["code"] for i in error["details"]["issues"]}
    assert {"header_too_many_variables", "footer_has_variables"} <= codes


async def test_unknown_component_type_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.create_template(components=[{"type": "SIDEBAR", "text": "x"}])
    assert_error(response, 422, "parameter_invalid", param="components[0].type")


async def test_same_name_and_language_twice_on_a_channel_is_a_conflict(tenant: Tenant) -> None:
    assert (await tenant.create_template("order_update")).status_code == 201
    assert_error(await tenant.create_template("order_update"), 409, "template_exists", param="name")
    other_language = await tenant.create_template("order_update", language="fr")
    assert other_language.status_code == 201


async def test_templates_exist_only_on_whatsapp_channels(tenant: Tenant) -> None:
    response = await tenant.create_template(channel_id=tenant.sms)
    assert_error(response, 422, "channel_type_unsupported")


async def test_template_on_unknown_channel_is_not_found(tenant: Tenant) -> None:
    response = await tenant.create_template(channel_id="ch_doesnotexist")
    assert_error(response, 404, "resource_not_found", error_type="not_found_error")


async def test_channel_templates_can_be_filtered_by_status(tenant: Tenant) -> None:
    approved = await tenant.approved_template("order_update")
    pending = (await tenant.create_template("second_template")).json()

    everything = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates")).json()
    assert {t["id"] for t in everything["data"]} == {approved["id"], pending["id"]}
    only_approved = (
        await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates", params={"status": "APPROVED"})
    ).json()
    assert [t["id"] for t in only_approved["data"]] == [approved["id"]]
    bogus = await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates", params={"status": "GREAT"})
    assert_error(bogus, 422, "parameter_invalid", param="status")


async def test_deleting_a_template_makes_it_unsendable(tenant: Tenant) -> None:
    template = await tenant.approved_template("order_update")
    deleted = await tenant.test.delete(f"/v1/templates/{template['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["status"] in ("PENDING_DELETION", "DELETED")

    async def fetch() -> dict[str, Any]:
        return dict((await tenant.test.get(f"/v1/templates/{template['id']}")).json())

    await eventually(fetch, lambda t: t["status"] == "DELETED")
    response = await tenant.send(
        template={"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#1"]}}
    )
    error = assert_error(response, 409, "template_not_approved")
    assert error["details"]["status"] == "DELETED"


async def test_unknown_template_id_is_not_found(tenant: Tenant) -> None:
    assert_error(await tenant.test.get("/v1/templates/tpl_nope"), 404, "resource_not_found")
    assert_error(await tenant.test.delete("/v1/templates/tpl_nope"), 404, "resource_not_found")


async def test_lint_reports_a_valid_template(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/templates/lint",
        json={
            "name": "order_update",
            "language": "en",
            "category": "UTILITY",
            "components": [POSITIONAL_BODY],
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["valid"] is True
    assert [i for i in result["issues"] if i["severity"] == "error"] == []
    assert "suggested_category" in result


async def test_lint_reports_issues_without_creating_anything(tenant: Tenant) -> None:
    response = await tenant.test.post(
        "/v1/templates/lint",
        json={
            "name": "bad name",
            "language": "en",
            "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Hi {{1}} and {{ 3 }}, a deal for you today only."}],
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["valid"] is False
    codes = {i["code"] for i in result["issues"]}
    assert {"name_invalid", "variables_not_sequential", "example_missing"} <= codes
    assert all(set(i) == {"code", "severity", "component", "message"} for i in result["issues"])
    listed = (await tenant.test.get(f"/v1/channels/{tenant.whatsapp}/templates")).json()
    assert listed["data"] == []


async def test_lint_with_a_malformed_body_is_a_validation_error(tenant: Tenant) -> None:
    response = await tenant.test.post("/v1/templates/lint", json={"name": "x", "language": "en"})
    assert_error(response, 422, "parameter_missing")


async def test_template_with_a_variable_at_the_edge_or_adjacent_variables_is_refused(tenant: Tenant) -> None:
    response = await tenant.create_template(
        components=[
            {"type": "BODY", "text": "{{1}} {{2}} has shipped", "example": {"body_text": [["Ada", "#1"]]}}
        ]
    )
    error = assert_error(response, 422, "template_invalid")
    assert {"variable_at_edge", "variables_adjacent"} <= {i["code"] for i in error["details"]["issues"]}


async def test_a_time_to_live_is_kept_and_shown_and_out_of_range_is_refused_by_lint(tenant: Tenant) -> None:
    body = {"name": "otp_ttl", "language": "en", "category": "UTILITY", "components": [POSITIONAL_BODY]}
    created = await tenant.test.post(
        f"/v1/channels/{tenant.whatsapp}/templates", json={**body, "message_send_ttl_seconds": 3600}
    )
    assert created.status_code == 201, created.text
    assert created.json()["message_send_ttl_seconds"] == 3600
    fetched = (await tenant.test.get(f"/v1/templates/{created.json()['id']}")).json()
    assert fetched["message_send_ttl_seconds"] == 3600
    without = (await tenant.create_template("no_ttl")).json()
    assert without["message_send_ttl_seconds"] is None

    too_long = await tenant.test.post(
        f"/v1/channels/{tenant.whatsapp}/templates",
        json={**body, "name": "otp_ttl_long", "message_send_ttl_seconds": 43_201},
    )
    error = assert_error(too_long, 422, "template_invalid")
    assert [i["code"] for i in error["details"]["issues"]] == ["message_send_ttl_invalid"]
    assert error["details"]["issues"][0]["component"] == "message_send_ttl_seconds"
