"""Reflex configuration. Every value comes from academy_app.settings, so the environment rules."""

import os
from importlib.util import find_spec

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from academy_app.settings import get_settings

settings = get_settings()

# The backend's server is Uvicorn (Reflex runs it as gunicorn with Uvicorn workers once both are
# installed and REFLEX_USE_GRANIAN is false), not Granian: Granian's WebSocket keeps a 128 KiB read
# buffer per connection, with no setting for it, and a learner's tab cost 2.5 times the memory there
# at the same CPU per event within the noise (docs/benchmarks.md, "Which server").
# REFLEX_USE_GRANIAN=true brings Granian back. A venv that predates requirements.txt's uvicorn and
# gunicorn keeps serving on Granian until `make install` rather than failing to start.
if find_spec("uvicorn") and find_spec("gunicorn"):
    os.environ.setdefault("REFLEX_USE_GRANIAN", "false")
# Uvicorn would take X-Forwarded-For and -Proto from a proxy on this host as the client's; Granian
# never does. The client's address stays Reflex's rule alone (REFLEX_TRUSTED_PROXY_HOPS).
os.environ.setdefault("FORWARDED_ALLOW_IPS", "")
# Academy's worker class (Reflex's, without the WebSocket compression that costs ~300 KiB a tab),
# ahead of whatever else GUNICORN_CMD_ARGS says unless it names a worker class itself.
WORKER_CLASS = "academy_app.infra.server.UvicornWorker"
if "--worker-class" not in (gunicorn_args := os.environ.get("GUNICORN_CMD_ARGS", "")):
    os.environ["GUNICORN_CMD_ARGS"] = f"--worker-class {WORKER_CLASS} {gunicorn_args}".strip()

# Backend workers when WEB_CONCURRENCY is unset: one per core. With Redis, Reflex would start
# 2 x cores + 1 under Granian (and one under gunicorn); measured here, one per core answered 200
# learners with a lower p95 and p99 at the same throughput (docs/operations.md, "How many workers").
# Without Redis it stays unset: the state lives on this process's disk, and Reflex runs one worker.
if settings.redis_url:
    workers = os.environ.setdefault("WEB_CONCURRENCY", str(os.cpu_count() or 1))
    os.environ.setdefault("GRANIAN_WORKERS", workers)

config = rx.Config(
    app_name="academy_app",
    db_url=settings.database_url,
    redis_url=settings.redis_url,
    # The port is given on the command line (`make run` passes PORT): a configured frontend port
    # would stop `reflex run --backend-only` from starting.
    # Governs CORS and the WebSocket origin check; Reflex's default is "*".
    cors_allowed_origins=settings.origins,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # No `appearance`: light or dark follows the colour mode, which is the system's preference
    # until the header's "Dark theme" toggle sets one (components/layout.py theme_toggle).
    plugins=[rx.plugins.RadixThemesPlugin(
        theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large")
    )],
    disable_plugins=[SitemapPlugin],
    # Brotli sidecars first (served to every browser that accepts br, which is every current one
    # over HTTPS), gzip for the rest: ~20% fewer bytes before the first paint (docs/benchmarks.md).
    frontend_compression_formats=["brotli", "gzip"],
    # Every page imported all of @radix-ui/themes up front, only so that a component evaluated at
    # run time (rx.dynamic) could use it; Academy has none, and each page now loads the Radix
    # components it renders (docs/benchmarks.md).
    frontend_lazy_bundled_libraries=True,
)
