"""A durable job queue in the database (the transactional outbox every domain uses).

Jobs are rows written in the same transaction as the change that needs them, so a
job exists exactly when its cause was committed. Workers claim due jobs with a lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several worker processes never run
the same job at once, and a crashed worker's jobs become claimable when the lease ends.
"""
