"""The API's error hierarchy. Every error a client sees is one of these, rendered as

``{"error": {"type", "code", "message", "param", "details", "request_id"}}``.
Services raise them; the HTTP layer renders them. Nothing else becomes a 4xx.
"""

from typing import Any, ClassVar


class APIError(Exception):
    status_code: ClassVar[int] = 400
    type: ClassVar[str] = "invalid_request_error"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        details: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]

    @property
    def headers(self) -> dict[str, str]:
        """Response headers that belong to this error (none unless a subclass says so)."""
        return {}

    def body(self, request_id: str | None) -> dict[str, Any]:
        return {
            "error": {
                "type": self.type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "details": self.details,
                "request_id": request_id,
            }
        }


class AuthenticationError(APIError):
    status_code = 401
    type = "authentication_error"


class PermissionDeniedError(APIError):
    status_code = 403
    type = "invalid_request_error"


class InvalidRequestError(APIError):
    status_code = 422
    type = "invalid_request_error"


class NotFoundError(APIError):
    status_code = 404
    type = "not_found_error"


class ConflictError(APIError):
    status_code = 409
    type = "conflict_error"


class PolicyError(APIError):
    """A request that is well formed but breaks a messaging rule (HTTP 409 unless noted)."""

    status_code = 409
    type = "policy_error"


class RateLimitError(APIError):
    status_code = 429
    type = "rate_limit_error"


class ProviderFailure(APIError):
    status_code = 502
    type = "provider_error"


class InternalError(APIError):
    status_code = 500
    type = "api_error"


class ServiceUnavailableError(APIError):
    """The database (or another dependency) cannot be reached for now: retry later."""

    status_code = 503
    type = "api_error"

    def __init__(self, code: str, message: str, *, retry_after: int) -> None:
        super().__init__(code, message, details={"retry_after_seconds": retry_after})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def not_found(resource: str, identifier: str, *, param: str | None = None) -> NotFoundError:
    return NotFoundError(
        "resource_not_found",
        f"No {resource} with id '{identifier}' exists for this API key's mode.",
        param=param,
    )
