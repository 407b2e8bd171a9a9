"""One bound SMPP transceiver session to an SMSC, kept up in the background.

``SmppSession.run`` connects, binds (bind_transceiver), and then serves the connection
until it drops: it answers the SMSC's requests (deliver_sm after the handler stored
it, enquire_link, unbind), sends enquire_link every ``enquire_link_interval`` seconds
(a missing answer counts as a dead link), and matches responses to requests by sequence
number. When the connection drops it reconnects with back-off (doubling up to
``reconnect_max_seconds``); a bind the SMSC refuses is retried at that slowest pace.

``submit`` sends one submit_sm within a bounded window of outstanding requests, paced to
the channel's throughput, and waits for its response. It says precisely how a submit
ended, because a resend could deliver twice:

- ``NotSent``: it never left (not bound, or the connection was gone before it was
  written): safe to send again.
- ``Unanswered``: it was written but no submit_sm_resp came (the connection dropped or
  the response timed out): its outcome is unknown.
"""

import asyncio
import contextlib
import itertools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omniroute.providers.smpp.pdu import (
    INTERFACE_VERSION,
    Command,
    Pdu,
    PduError,
    Status,
    encode,
    read_pdu,
    status_name,
)

log = logging.getLogger(__name__)

Connector = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
DeliverHandler = Callable[[Pdu], Awaitable[int]]
"""Stores a deliver_sm (receipt or inbound message) and returns the command_status to
answer with: ``ROK`` once it is stored; an error makes the SMSC deliver it again."""


class NotSent(Exception):
    """The submit_sm never left this process."""


class Unanswered(Exception):
    """The submit_sm was written, and no response came: its outcome is unknown."""


class BindRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"bind_transceiver refused: {status_name(status)}")
        self.status = status


@dataclass(frozen=True)
class Credentials:
    system_id: str
    password: str
    system_type: str = ""


@dataclass(frozen=True)
class Timing:
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 10.0
    reconnect_initial_seconds: float = 0.5
    reconnect_max_seconds: float = 30.0
    bind_wait_seconds: float = 3.0
    """How long a submit waits for a session that is (re)connecting before ``NotSent``."""


def tls_connector(host: str, port: int, context: ssl.SSLContext | None) -> Connector:
    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host if context else None
        )

    return connect


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future[Pdu]] = {}
        self.handlers: set[asyncio.Task[None]] = set()
        """deliver_sm being stored, each answered when done."""
        self.closed = False

    async def write(self, pdu: Pdu) -> None:
        self.writer.write(encode(pdu))
        await self.writer.drain()

    def close(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(Unanswered(why))
        self.pending.clear()
        self.writer.close()


class SmppSession:
    def __init__(
        self,
        connect: Connector,
        credentials: Credentials,
        on_deliver: DeliverHandler,
        *,
        window: int = 10,
        throughput_per_second: float = 10.0,
        timing: Timing = Timing(),
    ) -> None:
        self._connect = connect
        self._credentials = credentials
        self._on_deliver = on_deliver
        self._window = asyncio.Semaphore(window)
        self._interval = 1.0 / throughput_per_second if throughput_per_second > 0 else 0.0
        self._timing = timing
        self._next_slot = 0.0
        self._sequence = itertools.count(1)
        self._connection: _Connection | None = None
        self._bound = asyncio.Event()
        self._stopping = False
        self.last_error: str | None = None
        self.bind_refused: BindRefused | None = None
        self.binds = 0
        """How many times this session bound (reconnects included)."""

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    def _next_sequence(self) -> int:
        return (next(self._sequence) - 1) % 0x7FFFFFFF + 1

    # --- sending ---------------------------------------------------------------

    async def submit(self, pdu: Pdu) -> Pdu:
        """Send one submit_sm and return its submit_sm_resp (whatever its status)."""
        async with self._window:
            connection = await self._bound_connection()
            await self._pace()
            return await self._request(connection, pdu)

    def slow_down(self, seconds: float) -> None:
        """The SMSC said ESME_RTHROTTLED: send nothing for a while."""
        self._next_slot = max(self._next_slot, time.monotonic() + seconds)

    async def wait_bound(self) -> None:
        """Return once bound; ``NotSent`` if not bound within ``bind_wait_seconds``."""
        await self._bound_connection()

    async def _bound_connection(self) -> _Connection:
        try:
            await asyncio.wait_for(self._bound.wait(), self._timing.bind_wait_seconds)
        except TimeoutError:
            raise NotSent(f"not bound to the SMSC ({self.last_error or 'connecting'})") from None
        connection = self._connection
        if connection is None or connection.closed:
            raise NotSent("the connection to the SMSC dropped")
        return connection

    async def _pace(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _request(self, connection: _Connection, pdu: Pdu) -> Pdu:
        if connection.closed:
            raise NotSent("the connection to the SMSC dropped")
        pdu.sequence = self._next_sequence()
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        connection.pending[pdu.sequence] = future
        try:
            await connection.write(pdu)
        except (ConnectionError, OSError) as exc:
            connection.close(f"write failed: {exc!r}")
            # Part of it may have reached the SMSC before the connection failed.
            raise Unanswered(f"the connection failed while writing: {exc!r}") from exc
        try:
            return await asyncio.wait_for(future, self._timing.response_timeout)
        except TimeoutError:
            connection.pending.pop(pdu.sequence, None)
            raise Unanswered(
                f"no {pdu.command.name.lower()}_resp within {self._timing.response_timeout:g}s"
            ) from None

    # --- the connection --------------------------------------------------------

    async def run(self) -> None:
        """Keep a bound session up until ``stop`` (it may run again after a ``stop``: a
        lease lost and later taken back)."""
        self._stopping = False
        delay = self._timing.reconnect_initial_seconds
        while not self._stopping:
            try:
                connection = await self._open()
            except BindRefused as refused:
                self.bind_refused = refused
                self.last_error = str(refused)
                log.warning(
                    "SMPP bind refused (%s); retrying in %ss", refused, self._timing.reconnect_max_seconds
                )
                await asyncio.sleep(self._timing.reconnect_max_seconds)
                continue
            except (OSError, TimeoutError, PduError, asyncio.IncompleteReadError) as exc:
                self.last_error = f"connect failed: {exc!r}"
                log.info("SMPP connect failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._timing.reconnect_max_seconds)
                continue
            delay = self._timing.reconnect_initial_seconds
            self.bind_refused = None
            self.binds += 1
            self._connection = connection
            self._bound.set()
            try:
                await self._serve(connection)
            finally:
                self._bound.clear()
                connection.close("the connection to the SMSC dropped")
                self._connection = None
            if not self._stopping:
                log.info("SMPP connection lost (%s); reconnecting", self.last_error)

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.wait_for(self._connect(), self._timing.connect_timeout)
        connection = _Connection(reader, writer)
        try:
            bind = Pdu(
                Command.BIND_TRANSCEIVER,
                self._next_sequence(),
                params={
                    "system_id": self._credentials.system_id,
                    "password": self._credentials.password,
                    "system_type": self._credentials.system_type,
                    "interface_version": INTERFACE_VERSION,
                },
            )
            await connection.write(bind)
            response = await asyncio.wait_for(read_pdu(reader), self._timing.response_timeout)
            if response.command is not Command.BIND_TRANSCEIVER_RESP or response.sequence != bind.sequence:
                raise PduError(f"expected bind_transceiver_resp, got {response.command.name}")
            if response.status != Status.ROK:
                raise BindRefused(response.status)
        except BaseException:
            connection.close("bind failed")
            raise
        return connection

    async def _serve(self, connection: _Connection) -> None:
        keepalive = asyncio.create_task(self._keep_alive(connection))
        try:
            while True:
                try:
                    pdu = await read_pdu(connection.reader)
                except PduError as exc:
                    if exc.status == Status.RINVCMDID and exc.sequence is not None:
                        await connection.write(Pdu(Command.GENERIC_NACK, exc.sequence, exc.status))
                        continue
                    self.last_error = f"unreadable PDU: {exc}"
                    return
                except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
                    self.last_error = f"connection lost: {exc!r}"
                    return
                if pdu.command.is_response:
                    future = connection.pending.pop(pdu.sequence, None)
                    if future is not None and not future.done():
                        future.set_result(pdu)
                elif pdu.command is Command.DELIVER_SM:
                    task = asyncio.create_task(self._deliver(connection, pdu))
                    connection.handlers.add(task)
                    task.add_done_callback(connection.handlers.discard)
                elif pdu.command is Command.ENQUIRE_LINK:
                    await connection.write(pdu.response())
                elif pdu.command is Command.UNBIND:
                    await connection.write(pdu.response())
                    self.last_error = "the SMSC unbound"
                    return
                else:
                    await connection.write(Pdu(Command.GENERIC_NACK, pdu.sequence, Status.RINVCMDID))
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    async def _deliver(self, connection: _Connection, pdu: Pdu) -> None:
        try:
            status = await self._on_deliver(pdu)
        except Exception:
            log.exception("deliver_sm handler failed; the SMSC will deliver it again")
            status = Status.RSYSERR
        if not connection.closed:
            with contextlib.suppress(ConnectionError, OSError):
                await connection.write(pdu.response(status))

    async def _keep_alive(self, connection: _Connection) -> None:
        while not connection.closed:
            await asyncio.sleep(self._timing.enquire_link_interval)
            try:
                await self._request(connection, Pdu(Command.ENQUIRE_LINK, 0))
            except (NotSent, Unanswered) as exc:
                self.last_error = f"enquire_link failed: {exc}"
                connection.close(self.last_error)
                return

    async def stop(self) -> None:
        """Unbind politely (if bound) and stop reconnecting."""
        self._stopping = True
        connection = self._connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(NotSent, Unanswered, ConnectionError, OSError, TimeoutError):
                await asyncio.wait_for(self._request(connection, Pdu(Command.UNBIND, 0)), 2.0)
            connection.close("unbound")
