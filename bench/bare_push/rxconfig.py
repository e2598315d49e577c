"""A bare Reflex app for the real-time benchmark's floor: the same push, none of Academy."""

import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="bare_push",
    redis_url=os.environ.get("REFLEX_REDIS_URL"),
    telemetry_enabled=False,
    disable_plugins=[SitemapPlugin],
)
