"""Infrastructure shared by every domain package: database, ids, time, errors, HTTP plumbing."""
