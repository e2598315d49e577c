"""The REST API, version 1: a FastAPI app served under /api/v1 beside Reflex's pages."""
