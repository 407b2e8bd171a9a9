"""In live mode the code is never in clear anywhere omniroute keeps or shows things: not
in a response, a log line, an event, a webhook, the request log or any table. It
reaches the customer only (here a real SMTP relay), after a first relay refused it."""

import logging
import re
from typing import Any

import pytest
from sqlalchemy import text

from omniroute.config import Settings
from omniroute.core.db import Base, Database
from tests.conftest import Tenant, eventually
from tests.providers.smtp.conftest import StartRelay
from tests.webhooks.conftest import Receiver

ADDRESS = "ada@example.com"


async def dump(db: Database) -> str:
    """Every row of every table, as text."""
    rows: list[str] = []
    async with db.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            rows.extend(f"{table.name}: {row!r}" for row in result)
    return "\n".join(rows)


async def test_no_code_in_clear_in_live_mode(
    tenant: Tenant,
    start_relay: StartRelay,
    receiver: Receiver,
    db: Database,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="omniroute")
    monkeypatch.setattr(settings, "webhook_allow_http", True)
    hooks = await tenant.live.post(
        "/v1/webhook-endpoints", json={"url": receiver.url, "events": ["verification.*", "message.*"]}
    )
    assert hooks.status_code == 201, hooks.text
    refusing, accepting = await start_relay(), await start_relay()
    refusing.relay.handler.rcpt_replies[ADDRESS] = "550 5.1.1 <ada@example.com>: Recipient address rejected"
    shown: list[str] = []

    async def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await tenant.live.request(method, path, **kwargs)
        shown.append(response.text)
        assert response.status_code < 300, response.text
        return dict(response.json())

    created = await call(
        "POST",
        "/v1/verifications",
        json={"to": ADDRESS, "channels": [refusing.id, accepting.id], "code_length": 10, "brand": "Shop"},
    )
    assert created["test_code"] is None

    [email] = await eventually(lambda: _received(accepting.relay), lambda got: len(got) == 1, 15)
    body = email.message.get_body(("plain",)).get_content()
    [code] = re.findall(r"\b\d{10}\b", body)
    assert "Shop" in body and "10 minutes" in body

    done = await eventually(
        lambda: call("GET", f"/v1/verifications/{created['id']}"),
        lambda v: [a["status"] for a in v["attempts"]] == ["failed", "sent"],
        15,
    )
    assert done["attempts"][0]["error"]["code"] == "email_rejected"
    for attempt in done["attempts"]:
        message = await call("GET", f"/v1/messages/{attempt['message_id']}")
        assert message["email"]["text"].count("*" * 10) == 1
        assert message["priority"] == "high"
    checked = await call("POST", f"/v1/verifications/{created['id']}/check", json={"code": code})
    assert checked["status"] == "approved"
    await call("GET", "/v1/logs", params={"kind": "request"})
    await call("GET", "/v1/logs", params={"kind": "event"})
    await eventually(lambda: _received_types(receiver), lambda types: "verification.approved" in types, 15)

    assert refusing.relay.received == []
    assert not [r for r in shown if code in r], "a response showed the code"
    assert not [r.body for r in receiver.received if code in r.body], "a webhook carried the code"
    assert code not in caplog.text, "a log line carried the code"
    assert code not in await dump(db), "a table holds the code in clear"


async def _received(relay: Any) -> list[Any]:
    return list(relay.received)


async def _received_types(receiver: Receiver) -> set[str]:
    return {r.json["type"] for r in receiver.received}
