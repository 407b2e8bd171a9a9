"""Count the SQL statements one ``POST /v1/messages`` runs, through the real app on a fresh
SQLite file (a ``before_cursor_execute`` hook on the app's engine, counting what runs in
the request's own task): the first send to a new recipient, then two more to the same
one. The request log's batched write (a task of its own) is left out.

    .venv/bin/python benchmarks/statements_per_send.py
"""

import asyncio
import tempfile
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import event

from omniroute.app import create_app
from omniroute.config import Settings
from omniroute.core.db import Database
from omniroute.core.tenancy import Mode
from omniroute.migrations.runner import upgrade
from omniroute.workspaces import service as workspaces

counting: ContextVar[bool] = ContextVar("counting", default=False)
"""Set in the client's task: httpx's ASGI transport runs the app in it."""


def _label(statement: str) -> str:
    words = statement.split()
    return " ".join(words[:3] if words[0] == "INSERT" else words[:2])


async def count(url: str) -> None:
    settings = Settings(database_url=url, secret_key=Fernet.generate_key().decode())
    db = Database(url)
    async with db.transaction() as session:
        workspace = await workspaces.create_workspace(session, "statements")
        token = await workspaces.create_api_key(session, workspace, Mode.TEST)
    await db.dispose()
    app = create_app(settings, run_workers=False)
    async with app.router.lifespan_context(app):
        seen: list[str] = []

        def record(*args: Any) -> None:
            if counting.get():
                seen.append(_label(args[2]))

        event.listen(app.state.services.db.engine.sync_engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://omniroute", headers=headers
        ) as api:
            channels = (await api.get("/v1/channels")).json()["data"]
            sms = next(channel["id"] for channel in channels if channel["type"] == "sms")
            for attempt in ("new recipient", "known recipient", "known recipient"):
                seen.clear()
                counting.set(True)
                response = await api.post(
                    "/v1/messages", json={"channel_id": sms, "to": "+2348012345678", "text": {"body": "Hi"}}
                )
                counting.set(False)
                print(f"{attempt}: {response.status_code}, {len(seen)} statements: {', '.join(seen)}")


def main() -> None:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'statements.db'}"
    upgrade(url)
    asyncio.run(count(url))


if __name__ == "__main__":
    main()
