"""The one exception tree every provider raises. Adapters map their low-level errors
(HTTP status, Meta's ``code``, SMPP command status, SMTP reply) into it with
``raise ... from``; the dispatcher decides retries from the class alone::

    ProviderError
    ├── ProviderRejected            final: the provider refused this message (bad input, policy)
    ├── ProviderAuthError           final: credentials rejected; the channel needs operator action
    ├── ProviderTransientError      retryable: nothing was delivered, try again later
    │   └── ProviderRateLimited     retryable after ``retry_after`` (throughput, pair rate)
    │       └── ProviderElsewhere   another worker process sends for this channel (its
    │                               SMPP bind): handed back without costing an attempt
    └── ProviderOutcomeUnknown      the request may have reached the provider: never resend blindly
"""


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str = "provider_error",
        provider_code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        """Our error code, reported on the message (e.g. ``undeliverable``)."""
        self.provider_code = provider_code
        """The provider's own code, kept verbatim (e.g. Meta's 131026)."""
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    pass


class ProviderAuthError(ProviderError):
    pass


class ProviderTransientError(ProviderError):
    pass


class ProviderRateLimited(ProviderTransientError):
    pass


class ProviderElsewhere(ProviderRateLimited):
    pass


class ProviderOutcomeUnknown(ProviderError):
    pass
