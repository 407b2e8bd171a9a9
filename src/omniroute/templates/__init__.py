"""Message templates: definitions, lint, provider review and the parameters a send needs."""
