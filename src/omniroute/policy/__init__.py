"""Every WhatsApp Business Platform rule and number omniroute enforces, in one place.

Meta changes these; when it does, this package (and its data files) is the only
place to edit. The source for each is ``shared/spec/whatsapp-policy.md``.
"""
