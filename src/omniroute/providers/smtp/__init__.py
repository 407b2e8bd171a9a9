"""The ``smtp`` email provider: MIME built with the standard library, sent with
aiosmtplib through a small per-channel pool of authenticated connections."""
