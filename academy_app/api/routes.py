"""The HTTP routes Academy serves beside Reflex's pages (mounted with Reflex's api_transformer)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from academy_app.api.credentials import badge, credential, issuer, key, status_list
from academy_app.api.files import certificate_pdf, course_cover, lesson_captions, receipt
from academy_app.api.health import healthz, readyz
from academy_app.api.metrics import metrics_endpoint
from academy_app.api.served_html import robots_txt, sitemap
from academy_app.api.session import end_browser_session, start_browser_session
from academy_app.api.test_clock import move_clock
from academy_app.api.unsubscribe import one_click_unsubscribe
from academy_app.settings import get_settings

routes = Starlette(routes=[
    Route("/receipts/{payment_id:int}", receipt, methods=["GET"]),
    Route("/downloads/certificates/{code}.pdf", certificate_pdf, methods=["GET"]),
    Route("/lessons/{lesson_id:int}/captions.vtt", lesson_captions, methods=["GET"]),
    Route("/covers/{name}", course_cover, methods=["GET", "HEAD"]),
    Route("/credentials/issuer", issuer, methods=["GET"]),
    Route("/credentials/keys/{key}", key, methods=["GET"]),
    Route("/credentials/status/{number:int}", status_list, methods=["GET"]),
    Route("/credentials/{code}.json", credential, methods=["GET"]),
    Route("/credentials/{code}.png", badge, methods=["GET"]),
    Route("/email/unsubscribe/{token}", one_click_unsubscribe, methods=["POST"]),
    Route("/auth/session", start_browser_session, methods=["POST"]),
    Route("/auth/session", end_browser_session, methods=["DELETE"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
    Route("/robots.txt", robots_txt, methods=["GET"]),
    Route("/sitemap.xml", sitemap, methods=["GET"]),
])
if get_settings().test_clock_file is not None:  # tests only; refused in production (settings)
    routes.routes.append(Route("/_test/clock", move_clock, methods=["POST"]))
