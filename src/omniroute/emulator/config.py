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
    status_interval: float = 1.0
    """Seconds between the simulated statuses of a message (sent, delivered, read)."""
    review_seconds: float = 2.0
    """Seconds before a submitted or edited template gets its automatic verdict."""
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0)
    """Seconds before each retry of a webhook the receiver did not answer with a 2xx."""
    display_phone_number: str = "15550001234"
    verified_name: str = "Omniroute Emulator"
    quality_rating: str = QualityRating.GREEN.value
    messaging_limit: str = MessagingTier.TIER_250.value
    """The business portfolio's messaging limit, as ``whatsapp_business_manager_messaging_limit``."""
