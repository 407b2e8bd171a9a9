"""Runtime configuration, read from ``OMNIROUTE_*`` environment variables."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{Path('data') / 'omniroute.db'}",
        description="SQLAlchemy async URL. SQLite file by default; postgresql+asyncpg:// in production.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    worker_concurrency: int = Field(default=8, ge=1, le=256)
    dispatch_batch_size: int = Field(
        default=100, ge=1, le=1000, description="Messages a dispatcher claims, checks and records at a time."
    )
    dispatch_max_in_flight: int = Field(
        default=256, ge=1, le=4096, description="Messages a dispatcher has at the providers at once."
    )
    worker_poll_interval: float = Field(default=0.5, gt=0, description="Seconds between queue polls.")
    job_lease_seconds: float = Field(
        default=60.0, gt=0, description="A claimed job not finished within this is re-claimable."
    )
    provider_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Longest a provider call may take; keep it well under the job lease."
    )
    provider_max_connections: int = Field(
        default=256,
        ge=1,
        description="Most connections one process keeps open to a provider's API (all its channels together).",
    )
    send_max_attempts: int = Field(default=8, ge=1, description="Provider attempts per message.")
    campaign_failure_threshold: int = Field(
        default=50,
        ge=1,
        description="Campaign messages failed with 131048/131049/131050 (since start or resume) that pause it.",
    )
    marketing_frequency_cap_hours: int = Field(
        default=0,
        ge=0,
        le=720,
        description="Default marketing frequency cap: a campaign's marketing message skips a recipient "
        "who got a marketing message from the workspace within this many hours; 0: no cap (each "
        "workspace may set its own with PATCH /v1/workspace).",
    )
    unknown_outcome_grace_seconds: float = Field(
        default=900.0,
        ge=0,
        description="How long a send with an unknown outcome waits for a provider status before failing.",
    )

    sandbox_status_interval: float = Field(
        default=1.0, ge=0, description="Seconds between the sandbox's simulated status updates."
    )
    sandbox_template_review_seconds: float = Field(
        default=2.0, ge=0, description="Seconds the sandbox takes to review a template."
    )

    idempotency_ttl_hours: int = 24

    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^?#]+$",
        description="This server's URL as providers reach it (e.g. https://omniroute.example.com behind "
        "a proxy): Twilio's StatusCallback points there, and X-Twilio-Signature is checked over it. "
        "Unset, no status callbacks are asked for and signatures are checked over the URL the "
        "server sees.",
    )
    email_attachments_max_bytes: int = Field(
        default=10_000_000,
        ge=0,
        description="Most bytes (decoded) an email's attachments may add up to; relays commonly "
        "refuse messages over 10-25 MB, and base64 adds a third.",
    )
    smtp_pool_size: int = Field(
        default=4, ge=1, le=64, description="Most SMTP connections one process keeps per email channel."
    )
    smtp_idle_seconds: float = Field(
        default=30.0,
        gt=0,
        description="An idle pooled SMTP connection older than this is closed rather than reused "
        "(relays drop idle clients after a minute or more).",
    )
    smtp_ca_file: str | None = Field(
        default=None,
        description="PEM file of extra certificate authorities trusted for SMTP TLS (a private relay's "
        "CA); the system's and certifi's are always trusted.",
    )

    window_expiring_lead_seconds: int = Field(
        default=3600,
        ge=60,
        description="Default time before a window closes at which conversation.window_expiring fires "
        "(each workspace may override it with PATCH /v1/workspace).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest a webhook endpoint may take to answer one delivery."
    )
    webhook_allow_http: bool = Field(
        default=False, description="Allow http:// webhook URLs in live mode (test mode always may)."
    )
    allow_private_targets: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "OMNIROUTE_ALLOW_PRIVATE_TARGETS", "OMNIROUTE_WEBHOOK_ALLOW_PRIVATE_TARGETS"
        ),
        description="Allow live-mode webhooks and channel URLs (a meta channel's graph_base_url) to "
        "reach private, loopback and link-local addresses (SSRF guard off). "
        "OMNIROUTE_WEBHOOK_ALLOW_PRIVATE_TARGETS is the old name, still read.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Fernet key(s) that encrypt channel secrets at rest, comma-separated: the first "
        "encrypts, all decrypt (rotation). `omniroute serve` generates one under ./data/ when unset.",
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at GET /metrics (404 when false)."
    )
    metrics_token: str | None = Field(
        default=None,
        description="When set, GET /metrics requires `Authorization: Bearer <token>`; unset, it is open "
        "to whoever can reach the port (it shows counts per channel id, never content).",
    )
    verification_max_checks: int = Field(
        default=5, ge=1, le=20, description="Checks a one-time code allows before max_attempts_reached."
    )
    verification_sends_per_destination: int = Field(
        default=5, ge=1, description="Verifications one destination may be sent within the send window."
    )
    verification_send_window_seconds: int = Field(
        default=600, ge=1, description="The window verification_sends_per_destination counts over."
    )
    verification_resend_cooldown_seconds: int = Field(
        default=30, ge=0, description="Shortest time between two verifications to the same destination."
    )
    verification_delivery_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A code not reported delivered within this moves on to the next channel.",
    )
    verification_sms_prefix_digits: int = Field(
        default=6,
        ge=1,
        le=15,
        description="Digits of a number (after '+') that form the prefix the SMS pumping guard counts by.",
    )
    verification_sms_prefix_per_hour: int = Field(
        default=30,
        ge=1,
        description="Verifications per hour to the numbers of one prefix before SMS codes there are "
        "refused (SMS pumping guard).",
    )
    log_retention_days: int = Field(
        default=30, ge=1, description="Days that request logs, events and webhook deliveries are kept."
    )

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.idempotency_ttl_hours)


@lru_cache
def get_settings() -> Settings:
    return Settings()
