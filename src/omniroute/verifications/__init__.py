"""One-time codes (OneOTP): send a code over WhatsApp, SMS or email with automatic
fallback to the next channel, and check it safely."""
