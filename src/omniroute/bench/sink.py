"""A minimal Graph API sink: answers sends as Meta does when it accepts them, answers the
phone number object a channel check reads, and records what it received. No window, no
limits, no webhooks: nothing between the gateway and the wire but a few microseconds.

It speaks the emulator's control API for what the benchmark reads: ``GET
/_emulator/health``, ``GET /_emulator/stats`` ({"sends", "distinct", "duplicates",
"callback_data"}) and ``POST /_emulator/stats/reset``. Run it with
``python -m omniroute.bench.sink --port P --phone-number-id ID --access-token T``."""

import argparse
import contextlib
import itertools
import re
from typing import Any

from omniroute.bench import http

GRAPH_OBJECT = re.compile(r"^/v\d+\.\d+/(?P<object>[^/]+)(?P<messages>/messages)?$")


def graph_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "sink"}}


class Sink:
    def __init__(self, phone_number_id: str, access_token: str, display_phone_number: str) -> None:
        self.phone_number_id = phone_number_id
        self.authorization = f"Bearer {access_token}"
        self.display_phone_number = display_phone_number
        self.wamids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        self.sends = 0
        self.duplicates = 0
        self.callback_data: dict[str, None] = {}
        """Every distinct ``biz_opaque_callback_data`` received, in order (a dict as an ordered set)."""

    def stats(self) -> dict[str, Any]:
        return {
            "sends": self.sends,
            "distinct": self.sends - self.duplicates,
            "duplicates": self.duplicates,
            "callback_data": list(self.callback_data),
        }

    def handle(self, request: http.Request) -> tuple[int, Any]:
        if request.path == "/_emulator/health":
            return 200, {"status": "ok", "phone_number_id": self.phone_number_id}
        if request.path == "/_emulator/stats":
            return 200, self.stats()
        if request.path == "/_emulator/stats/reset" and request.method == "POST":
            self.reset()
            return 200, {"status": "reset"}
        match = GRAPH_OBJECT.match(request.path)
        if match is None or match["object"] != self.phone_number_id:
            return 404, graph_error(100, f"Unknown path components: {request.path}")
        if request.headers.get("authorization") != self.authorization:
            return 401, graph_error(190, "Invalid OAuth access token.")
        if match["messages"] and request.method == "POST":
            return 200, self.send(http.json_body(request))
        if not match["messages"] and request.method == "GET":
            return 200, self.phone_number()
        return 400, graph_error(100, "Unsupported request.")

    def send(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("status") == "read":
            return {"success": True}
        self.sends += 1
        reference = body.get("biz_opaque_callback_data")
        if isinstance(reference, str):
            if reference in self.callback_data:
                self.duplicates += 1
            self.callback_data[reference] = None
        recipient = str(body.get("to", ""))
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient.lstrip("+")}],
            "messages": [{"id": f"wamid.SINK{next(self.wamids):016d}", "message_status": "accepted"}],
        }

    def phone_number(self) -> dict[str, Any]:
        return {
            "verified_name": "omniroute bench sink",
            "display_phone_number": self.display_phone_number,
            "quality_rating": "GREEN",
            "throughput": {"level": "HIGH"},
            "whatsapp_business_manager_messaging_limit": "TIER_UNLIMITED",
            "id": self.phone_number_id,
        }


async def serve_forever(sink: Sink, host: str, port: int) -> None:
    server = await http.serve(sink.handle, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--phone-number-id", required=True)
    parser.add_argument("--access-token", required=True)
    parser.add_argument("--display-phone-number", default="15550001234")
    args = parser.parse_args()
    sink = Sink(args.phone_number_id, args.access_token, args.display_phone_number)
    with contextlib.suppress(KeyboardInterrupt):
        http.run(serve_forever(sink, args.host, args.port))


if __name__ == "__main__":
    main()
