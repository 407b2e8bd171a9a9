"""A reply (``reply_to``) or a reaction quotes a message of the same conversation; one that
does not exist there is refused naming the field, as Meta would fail it."""

from tests.conftest import CUSTOMER, Tenant, assert_error

OTHER_CUSTOMER = "+2348099990001"


async def test_a_reply_to_an_unknown_message_is_a_422_naming_reply_to(tenant: Tenant) -> None:
    await tenant.inbound()
    response = await tenant.send(
        text={"body": "Noted."}, reply_to="msg_doesnotexist", reference="ghost-reply"
    )
    assert_error(response, 422, "referenced_message_not_found", param="reply_to")
    listed = (await tenant.test.get("/v1/messages", params={"reference": "ghost-reply"})).json()
    assert listed["data"] == []


async def test_a_reaction_to_an_unknown_message_is_a_422_naming_its_message_id(tenant: Tenant) -> None:
    await tenant.inbound()
    response = await tenant.send(reaction={"message_id": "wamid.nothing-here", "emoji": "👍"})
    assert_error(response, 422, "referenced_message_not_found", param="reaction.message_id")


async def test_a_message_of_another_conversation_cannot_be_quoted(tenant: Tenant) -> None:
    other = (await tenant.inbound(OTHER_CUSTOMER)).json()["message"]
    await tenant.inbound(CUSTOMER)
    for reference in (other["id"], other["provider_message_id"]):
        response = await tenant.send(CUSTOMER, text={"body": "Noted."}, reply_to=reference)
        assert_error(response, 422, "referenced_message_not_found", param="reply_to")
    response = await tenant.send(CUSTOMER, reaction={"message_id": other["id"], "emoji": "👍"})
    assert_error(response, 422, "referenced_message_not_found", param="reaction.message_id")


async def test_messages_of_the_conversation_are_quoted_by_our_id_or_the_providers(tenant: Tenant) -> None:
    inbound = (await tenant.inbound()).json()["message"]
    ours = (await tenant.send(text={"body": "Yes: reply with the new address."})).json()
    for reference in (inbound["id"], inbound["provider_message_id"], ours["id"]):
        response = await tenant.send(text={"body": "Noted."}, reply_to=reference)
        assert response.status_code == 202, response.text
    reaction = await tenant.send(reaction={"message_id": inbound["id"], "emoji": "👍"})
    assert reaction.status_code == 202, reaction.text
