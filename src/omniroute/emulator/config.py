from dataclasses import dataclass

from omniroute.policy.limits import DEFAULT_THROUGHPUT_PER_SECOND, MessagingTier, QualityRating


@dataclass(frozen=True)
class EmulatorConfig:
    """One emulated business phone number in one WhatsApp Business Account."""

    phone_number_id: str
    waba_id: str
    app_secret: str
    access_token: str
    webhook_url: str
    throughput: int = DEFAULT_THROUGHPUT_PER_SECOND
    unlimited: bool = False
    """Lift the simulated limits for benchmarks: no throughput or pair rate refusals, and
    the phone number reports HIGH throughput and an unlimited messaging tier."""
    status_webhooks: bool = True
    """Play sent/delivered/read (or failed) status webhooks after each accepted send."""
    status_interval: float = 1.0
    """Seconds between the simulated statuses of a message (sent, delivered, read)."""
    review_seconds: float = 2.0
    """Seconds before a submitted or edited template gets its automatic verdict."""
    webhook_time_scale: float = 1.0
    """Multiplies the webhook retry schedule (``webhooks.retry_delays``): 1.0 is Meta's
    pace, retrying a refused webhook with back-off for up to 7 days; 0.001 plays those
    7 days in 10 minutes (for tests)."""
    display_phone_number: str = "15550001234"
    verified_name: str = "Omniroute Emulator"
    quality_rating: str = QualityRating.GREEN.value
    messaging_limit: str = MessagingTier.TIER_250.value
    """The business portfolio's messaging limit, as ``whatsapp_business_manager_messaging_limit``."""
