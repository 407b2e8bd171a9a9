"""Message webhooks are batched as Meta batches them under load: the statuses that queue
up while the receiver is busy go together in one body (``value.statuses[]``), every one
delivered once, each message's in the order they happened."""

from typing import Any

from tests.conftest import eventually
from tests.emulator.conftest import Emulator

from omniroute.emulator.webhooks import merged

STATUSES = ["sent", "delivered", "read"]


async def test_statuses_queued_while_the_receiver_is_busy_arrive_together_in_one_body(
    emulator: Emulator,
) -> None:
    await emulator.customer_writes()
    await emulator.receiver.wait_for("messages", lambda v: "messages" in v)
    emulator.receiver.answering.clear()  # the next webhook waits; what follows queues behind it
    message_ids = [(await emulator.send()).json()["messages"][0]["id"] for _ in range(5)]

    async def outbound() -> list[dict[str, Any]]:
        return list((await emulator.control.get("/_emulator/messages")).json()["outbound"])

    await eventually(outbound, lambda messages: all(m["statuses"] == STATUSES for m in messages))
    emulator.receiver.answering.set()

    for message_id in message_ids:
        await emulator.receiver.wait_for_statuses(message_id, STATUSES)
    first, rest = emulator.receiver.statuses_per_body()
    assert len(first) + len(rest) == 15
    assert len(rest) > 1
    assert emulator.receiver.bad_signatures == 0


def test_a_batch_holds_every_status_and_message_once_with_each_customer_named_once() -> None:
    header = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}}
    ada = {"profile": {"name": "Ada"}, "wa_id": "234"}
    values = [
        {**header, "statuses": [{"id": "wamid.A", "status": "sent"}]},
        {**header, "contacts": [ada], "messages": [{"id": "wamid.1"}]},
        {**header, "statuses": [{"id": "wamid.A", "status": "delivered"}]},
        {**header, "contacts": [ada], "messages": [{"id": "wamid.2"}]},
    ]
    assert merged(values) == {
        **header,
        "statuses": [{"id": "wamid.A", "status": "sent"}, {"id": "wamid.A", "status": "delivered"}],
        "contacts": [ada],
        "messages": [{"id": "wamid.1"}, {"id": "wamid.2"}],
    }
    assert values[0]["statuses"] == [{"id": "wamid.A", "status": "sent"}]  # inputs untouched
