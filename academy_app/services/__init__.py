"""Business rules, one module per domain. Every function takes a DB session and the acting user."""

# The flush hook that keeps cached reads truthful must be listening before any service writes.
from academy_app.services import cache_scopes as _cache_scopes  # noqa: F401
