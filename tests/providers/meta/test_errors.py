"""Graph API errors and transport failures become our provider errors, classified by
Meta's ``code`` (never its message text); the code reaches the message as ``provider_code``."""

from typing import Any

import aiohttp
import pytest

from omniroute.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTransientError,
)
from omniroute.providers.meta import wire


def graph_error(
    code: int, details: str = "", *, subcode: int | None = None, message: str = "(#x) y"
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "code", "cls", "ours"),
    [
        (400, 131047, ProviderRejected, "window_closed"),
        (400, 131026, ProviderRejected, "undeliverable"),
        (400, 132000, ProviderRejected, "template_parameters_mismatch"),
        (404, 132001, ProviderRejected, "template_not_approved"),
        (400, 132015, ProviderRejected, "template_paused"),
        (400, 100, ProviderRejected, "provider_rejected"),
        (400, 368, ProviderRejected, "channel_unavailable"),
        (401, 190, ProviderAuthError, "channel_unavailable"),
        (403, 10, ProviderAuthError, "channel_unavailable"),
        (429, 130429, ProviderRateLimited, "throughput_limited"),
        (400, 131056, ProviderRateLimited, "pair_rate_limited"),
        (400, 4, ProviderRateLimited, "provider_rate_limited"),
        (400, 80007, ProviderRateLimited, "provider_rate_limited"),
        (400, 131049, ProviderRateLimited, "marketing_limited"),
        (503, 131057, ProviderTransientError, "provider_maintenance"),
        (500, 131000, ProviderTransientError, "provider_unavailable"),
        (500, 2, ProviderTransientError, "provider_unavailable"),
    ],
)
def test_graph_errors_are_classified_by_code(
    status: int, code: int, cls: type[ProviderError], ours: str
) -> None:
    error = wire.error_from_response(status, graph_error(code, "Some detail"))
    assert type(error) is cls
    assert (error.code, error.provider_code) == (ours, code)
    assert "Some detail" in error.message


def test_the_message_text_never_decides_the_class() -> None:
    misleading = graph_error(131047, message="Rate limit hit, please retry (temporary)")
    assert type(wire.error_from_response(400, misleading)) is ProviderRejected


def test_rate_limits_carry_a_pause() -> None:
    pair = wire.error_from_response(400, graph_error(131056))
    assert pair.retry_after is not None and pair.retry_after >= 6
    later = wire.error_from_response(400, graph_error(131049))
    assert later.retry_after is not None and later.retry_after >= 60


def test_unknown_code_on_a_client_error_is_final() -> None:
    error = wire.error_from_response(400, graph_error(999001))
    assert type(error) is ProviderRejected
    assert (error.code, error.provider_code) == ("provider_error", 999001)


def test_unknown_code_on_a_server_error_is_retried() -> None:
    error = wire.error_from_response(502, graph_error(999002))
    assert type(error) is ProviderTransientError
    assert error.provider_code == 999002


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, ProviderTransientError),
        (503, ProviderTransientError),
        (429, ProviderRateLimited),
        (401, ProviderAuthError),
        (400, ProviderRejected),
    ],
)
def test_http_status_decides_when_there_is_no_code(status: int, cls: type[ProviderError]) -> None:
    error = wire.error_from_response(status, "<html>Bad gateway</html>")
    assert type(error) is cls
    assert error.provider_code == status


CONNECTION = aiohttp.client_reqrep.ConnectionKey("graph.facebook.com", 443, True, True, None, None, None)


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectorError(CONNECTION, ConnectionRefusedError(111, "Connection refused")),
        aiohttp.ClientConnectorDNSError(CONNECTION, OSError(-2, "Name or service not known")),
        aiohttp.ConnectionTimeoutError("Connection timeout to host https://graph.facebook.com"),
    ],
)
def test_failures_before_the_request_left_are_retried(exc: Exception) -> None:
    error = wire.error_from_transport(exc)
    assert type(error) is ProviderTransientError
    assert error.code == "provider_unreachable"


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
        TimeoutError(),  # the whole request's time ran out
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        aiohttp.ClientPayloadError("Response payload is not completed"),
    ],
)
def test_failures_after_the_request_left_are_an_unknown_outcome(exc: Exception) -> None:
    error = wire.error_from_transport(exc)
    assert type(error) is ProviderOutcomeUnknown
    assert error.code == "send_outcome_unknown"


@pytest.mark.parametrize(
    "exc",
    [aiohttp.SocketTimeoutError("Timeout on reading data from socket"), aiohttp.ServerDisconnectedError()],
)
def test_any_failure_before_the_request_was_completely_written_is_retried(exc: Exception) -> None:
    error = wire.error_from_transport(exc, request_written=False)
    assert type(error) is ProviderTransientError
    assert error.code == "provider_unreachable"
