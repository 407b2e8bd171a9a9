"""Database outages for tests.

- ``throwaway_postgres``: a PostgreSQL server of the test's own, to stop, crash and start
  at will: its own ``initdb`` cluster in a temporary directory on a free port, never the
  shared server. ``initdb`` refuses to run as root, so when the tests run as root the
  cluster belongs to the ``postgres`` OS user and every ``pg_ctl`` call runs as that user.
- ``SimulatedOutage``: makes one ``Database`` object fail every transaction as an
  unreachable server does, for tests that need an outage at an exact moment.
"""

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from omniroute.core.db import Database

CLUSTER_USER = "postgres"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    def __init__(self, bin_dir: Path, directory: Path, port: int, as_user: list[str]) -> None:
        self.bin_dir = bin_dir
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.as_user = as_user

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{CLUSTER_USER}@127.0.0.1:{self.port}/postgres"

    async def _run(self, tool: str, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *self.as_user,
            str(self.bin_dir / tool),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {output.decode(errors='replace')}")

    async def init(self) -> None:
        await self._run("initdb", "-D", str(self.data), "-U", CLUSTER_USER, "-A", "trust", "--no-sync")

    async def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        await self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options, "-w", "start"
        )

    async def stop(self, mode: str = "fast") -> None:
        """``fast`` rolls back and disconnects every session; ``immediate`` is a crash
        (no shutdown checkpoint; the next start recovers from the WAL)."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[ThrowawayPostgres]:
    """A started cluster, stopped and deleted afterwards; skips the test without PostgreSQL."""
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: initdb cannot run")
        as_user = ["runuser", "-u", CLUSTER_USER, "--"]
    directory = Path(tempfile.mkdtemp(prefix="omniroute-pg-"))
    if as_user:
        shutil.chown(directory, user=CLUSTER_USER)
    cluster = ThrowawayPostgres(bin_dir, directory, _free_port(), as_user)
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped
            await cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


class SimulatedOutage:
    """While ``down``, every transaction of ``db`` fails as with an unreachable server."""

    def __init__(self, db: Database) -> None:
        self.down = False
        self.refused = 0
        original = db.transaction

        @asynccontextmanager
        async def transaction() -> AsyncIterator[AsyncSession]:
            if self.down:
                self.refused += 1
                raise OperationalError("BEGIN", {}, ConnectionRefusedError(111, "Connection refused"))
            async with original() as session:
                yield session

        db.transaction = transaction  # type: ignore[method-assign]

    def for_seconds(self, seconds: float) -> None:
        """Go down now and come back after ``seconds``."""
        self.down = True
        asyncio.get_running_loop().call_later(seconds, setattr, self, "down", False)
