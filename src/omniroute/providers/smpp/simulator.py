"""An SMSC simulator speaking SMPP 3.4 over TCP, for tests and local runs
(``omniroute smsc``).

It accepts bind_transceiver with the configured system_id and password, answers
submit_sm with message ids, and sends delivery receipts as deliver_sm (esm_class 0x04,
with the ``receipted_message_id`` and ``message_state`` TLVs and the text form
``id:… sub:001 dlvrd:001 submit date:… done date:… stat:DELIVRD err:000 text:…``).
Faults on demand: receipts before the submit_sm_resp, ESME_RTHROTTLED, a dropped
connection after a number of submits (the last one read and never answered), and
mobile-originated messages. Every submit_sm it read is kept in ``submits`` so a test
can check that nothing was lost or sent twice.

The receipt's ``stat`` follows the recipient's last digits, like the sandbox's
scenarios: ...0001 UNDELIV, ...0002 REJECTD, ...0003 EXPIRED, anything else DELIVRD.
"""

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from omniroute.providers.smpp.pdu import (
    ESM_CLASS_DELIVERY_RECEIPT,
    Command,
    MessageState,
    Pdu,
    PduError,
    Status,
    Tag,
    encode,
    read_pdu,
    receipt_text,
    tlv,
)

log = logging.getLogger(__name__)

STAT_BY_SUFFIX = {"0001": "UNDELIV", "0002": "REJECTD", "0003": "EXPIRED"}
STATE_BY_STAT = {
    "DELIVRD": MessageState.DELIVERED,
    "UNDELIV": MessageState.UNDELIVERABLE,
    "REJECTD": MessageState.REJECTED,
    "EXPIRED": MessageState.EXPIRED,
}
ERROR_BY_STAT = {"DELIVRD": "000", "UNDELIV": "001", "REJECTD": "002", "EXPIRED": "003"}


@dataclass
class Submit:
    """One submit_sm as the simulator read it."""

    message_id: str
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    esm_class: int
    data_coding: int
    short_message: bytes
    registered_delivery: int
    tlvs: dict[int, bytes]


@dataclass
class SimulatorOptions:
    system_id: str = "omniroute"
    password: str = "secret"
    receipt_delay: float = 0.0
    receipts_before_response: bool = False
    """Send the receipt before the submit_sm_resp (it overtakes it)."""
    throttle_every: int = 0
    """Answer every n-th submit_sm with ESME_RTHROTTLED (0: never)."""
    drop_after_submits: int | None = None
    """Close the connection on reading this many submits in all (the last unanswered);
    once only."""
    enquire_link_answers: bool = True
    response_delay: float = 0.0
    """Answer each submit_sm this much later (submits pile up in the ESME's window)."""


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    system_id: str = ""
    bound: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class SmscSimulator:
    def __init__(self, options: SimulatorOptions | None = None) -> None:
        self.options = options or SimulatorOptions()
        self.submits: list[Submit] = []
        self.throttled = 0
        self.binds = 0
        self.refused_binds = 0
        self.enquire_links = 0
        self.outstanding = 0
        self.max_outstanding = 0
        """The most submits read and not yet answered at one time."""
        self.delivered_acks: list[Pdu] = []
        """deliver_sm_resp PDUs received (receipts and MO acknowledged by the ESME)."""
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._clients: list[_Client] = []
        self._server: asyncio.Server | None = None
        self._dropped = False
        self._submit_count = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for client in list(self._clients):
            client.writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop_connections(self) -> None:
        """Close every client connection now, without unbinding."""
        for client in list(self._clients):
            client.writer.close()

    @property
    def bound_clients(self) -> int:
        return sum(1 for client in self._clients if client.bound)

    async def send_mo(self, source: str, destination: str, text: bytes, data_coding: int = 0) -> None:
        """A mobile-originated message to every bound client."""
        for client in self._clients:
            if client.bound:
                await self._write(
                    client,
                    Pdu(
                        Command.DELIVER_SM,
                        next(self._sequence),
                        params={
                            "source_addr_ton": 1,
                            "source_addr_npi": 1,
                            "source_addr": source,
                            "destination_addr": destination,
                            "data_coding": data_coding,
                            "short_message": text,
                        },
                    ),
                )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.append(client)
        try:
            while True:
                try:
                    pdu = await read_pdu(reader)
                except PduError as exc:
                    if exc.sequence is not None:
                        await self._write(client, Pdu(Command.GENERIC_NACK, exc.sequence, exc.status))
                        continue
                    return
                except (asyncio.IncompleteReadError, ConnectionError, OSError):
                    return
                if not await self._handle(client, pdu):
                    return
        finally:
            self._clients.remove(client)
            for task in client.tasks:
                task.cancel()
            writer.close()

    async def _handle(self, client: _Client, pdu: Pdu) -> bool:
        """Answer one PDU; False closes the connection."""
        match pdu.command:
            case Command.BIND_TRANSCEIVER:
                if pdu["system_id"] != self.options.system_id or pdu["password"] != self.options.password:
                    self.refused_binds += 1
                    status = (
                        Status.RINVSYSID if pdu["system_id"] != self.options.system_id else Status.RINVPASWD
                    )
                    await self._write(client, pdu.response(status))
                    return False
                client.bound, client.system_id = True, pdu["system_id"]
                self.binds += 1
                await self._write(client, pdu.response(system_id="omniroute-smsc"))
            case Command.SUBMIT_SM:
                return await self._submit(client, pdu)
            case Command.ENQUIRE_LINK:
                self.enquire_links += 1
                if self.options.enquire_link_answers:
                    await self._write(client, pdu.response())
            case Command.UNBIND:
                await self._write(client, pdu.response())
                return False
            case Command.DELIVER_SM_RESP:
                self.delivered_acks.append(pdu)
            case _ if pdu.command.is_response:
                pass
            case _:
                await self._write(client, Pdu(Command.GENERIC_NACK, pdu.sequence, Status.RINVCMDID))
        return True

    async def _submit(self, client: _Client, pdu: Pdu) -> bool:
        if not client.bound:
            await self._write(client, pdu.response(Status.RINVBNDSTS))
            return True
        self._submit_count += 1
        if self.options.throttle_every and self._submit_count % self.options.throttle_every == 0:
            self.throttled += 1
            await self._write(client, pdu.response(Status.RTHROTTLED))
            return True
        submit = Submit(
            message_id=f"{next(self._ids):010X}",
            source_addr=pdu["source_addr"],
            source_addr_ton=pdu["source_addr_ton"],
            source_addr_npi=pdu["source_addr_npi"],
            destination_addr=pdu["destination_addr"],
            esm_class=pdu["esm_class"],
            data_coding=pdu["data_coding"],
            short_message=pdu["short_message"],
            registered_delivery=pdu["registered_delivery"],
            tlvs=dict(pdu.tlvs),
        )
        self.submits.append(submit)
        drop = self.options.drop_after_submits
        if drop is not None and not self._dropped and len(self.submits) >= drop:
            self._dropped = True
            return False  # read, kept, never answered: its outcome is unknown to the ESME
        self.outstanding += 1
        self.max_outstanding = max(self.max_outstanding, self.outstanding)
        task = asyncio.create_task(self._answer(client, pdu, submit))
        client.tasks.add(task)
        task.add_done_callback(client.tasks.discard)
        return True

    async def _answer(self, client: _Client, pdu: Pdu, submit: Submit) -> None:
        if self.options.response_delay:
            await asyncio.sleep(self.options.response_delay)
        self.outstanding -= 1
        if self.options.receipts_before_response:
            await self._receipt(client, submit)
            await self._write(client, pdu.response(message_id=submit.message_id))
        else:
            await self._write(client, pdu.response(message_id=submit.message_id))
            await self._receipt(client, submit, self.options.receipt_delay)

    async def _receipt(self, client: _Client, submit: Submit, delay: float = 0.0) -> None:
        if not submit.registered_delivery & 0x03:
            return
        if delay:
            await asyncio.sleep(delay)
        stat = STAT_BY_SUFFIX.get(submit.destination_addr[-4:], "DELIVRD")
        now = datetime.now(UTC).strftime("%y%m%d%H%M")
        text = receipt_text(
            {
                "id": submit.message_id,
                "sub": "001",
                "dlvrd": "001" if stat == "DELIVRD" else "000",
                "submit date": now,
                "done date": now,
                "stat": stat,
                "err": ERROR_BY_STAT[stat],
                "text": "",
            }
        )
        await self._write(
            client,
            Pdu(
                Command.DELIVER_SM,
                next(self._sequence),
                params={
                    "source_addr_ton": 1,
                    "source_addr_npi": 1,
                    "source_addr": submit.destination_addr,
                    "destination_addr": submit.source_addr,
                    "esm_class": ESM_CLASS_DELIVERY_RECEIPT,
                    "short_message": text.encode("ascii"),
                },
                tlvs=dict(
                    [
                        tlv(Tag.RECEIPTED_MESSAGE_ID, submit.message_id),
                        tlv(Tag.MESSAGE_STATE, STATE_BY_STAT[stat]),
                    ]
                ),
            ),
        )

    async def _write(self, client: _Client, pdu: Pdu) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            client.writer.write(encode(pdu))
            await client.writer.drain()
