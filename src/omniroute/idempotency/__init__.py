"""``Idempotency-Key``: the first response to a key is stored in the same transaction
as the work it describes, so a retry replays it and the work is never done twice."""
