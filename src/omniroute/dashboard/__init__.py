"""The web dashboard at ``/dashboard``: server-rendered pages over the domain services."""
