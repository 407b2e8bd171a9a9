"""SMPP 3.4: the PDU codec, an ESME client session, the provider, and an SMSC simulator."""
