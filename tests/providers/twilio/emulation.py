"""A small emulation of Twilio's Messages API over real HTTP, for the twilio provider's
tests: the REST wire format (form-encoded POST, basic auth, Twilio's error bodies), and
status callbacks posted to the ``StatusCallback`` URL signed with the auth token, as
Twilio posts them (queued is not sent back; sent, then delivered or undelivered).

Recipients: ``+15005550001`` is invalid (21211, as Twilio's magic test number); one
ending ``0003`` is unreachable (undelivered, 30003)."""

import asyncio
import base64
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from omniroute.providers.twilio import signature

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0423"
INVALID_NUMBER = "+15005550001"


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


@dataclass
class TwilioEmulation:
    status_interval: float = 0.05
    rate_limited: int = 0
    """How many of the next sends answer 429 (20429) before sends are accepted again."""
    requests: list[dict[str, str]] = field(default_factory=list)
    """Every accepted send's form."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
        async def create_message(account_sid: str, request: Request) -> JSONResponse:
            expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            if account_sid != ACCOUNT_SID or request.headers.get("authorization") != expected:
                return twilio_error(401, 20003, "Authenticate")
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            if self.rate_limited > 0:
                self.rate_limited -= 1
                return twilio_error(429, 20429, "Too Many Requests")
            to = form.get("To", "")
            if to == INVALID_NUMBER or not to.startswith("+"):
                return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            self.requests.append(form)
            sid = "SM" + secrets.token_hex(16)
            if form.get("StatusCallback"):
                task = asyncio.create_task(self._callbacks(form, sid))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return JSONResponse(
                {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": to,
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "error_code": None,
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                },
                status_code=201,
            )

        return app

    async def _callbacks(self, form: dict[str, str], sid: str) -> None:
        final = (
            {"MessageStatus": "undelivered", "ErrorCode": "30003"}
            if form["To"].endswith("0003")
            else {"MessageStatus": "delivered"}
        )
        for status in ({"MessageStatus": "sent"}, final):
            await asyncio.sleep(self.status_interval)
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": form["From"],
                "To": form["To"],
                "ApiVersion": "2010-04-01",
                **status,
            }
            await post_signed(form["StatusCallback"], params)


async def post_signed(
    url: str, params: dict[str, str], *, token: str = AUTH_TOKEN, signed_url: str | None = None
) -> httpx.Response:
    """POST a form as Twilio does, signed over ``signed_url`` (the URL itself unless given)."""
    header = signature.compute(token, signed_url or url, params.items())
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, data=params, headers={"X-Twilio-Signature": header})
