"""Security headers on every HTTP response the app serves: pages, assets, files and probes.

The Content-Security-Policy is as strict as Reflex's frontend allows: its pages hydrate with inline
scripts, its components style themselves with inline styles ('unsafe-inline' for both), and the
client-side events a handler returns reach the browser as script text that Reflex's `applyEvent`
(.web/utils/state.js) runs with eval ('unsafe-eval'): every `rx.toast` a handler returns
(`_call_function`) and the `rx.call_script` that sets or clears the login cookie and reloads the
tab at log-in, sign-up and log-out (`_call_script`, `AuthState._switch_login`). The bundled
libraries need no eval; tests/unit/test_content_security_policy.py fails when a Reflex upgrade
stops evaluating those events. What the policy still holds: no plugins, no <base> rewriting, no
framing by other sites, forms post and sockets connect only here, and everything else is this
origin only, except images and lesson videos, which authors may link from any https:// address.
A response that sets its own policy (a receipt shown in a frame) keeps it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.settings import get_settings

HSTS_SECONDS = 365 * 24 * 3600


def content_security_policy() -> str:
    sockets = " ".join(origin.replace("http", "ws", 1) for origin in get_settings().origins)
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "media-src 'self' https:",
        "font-src 'self' data:",
        f"connect-src 'self' {sockets}",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def security_headers(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer`: wraps the whole app, so no route is left out."""
    settings = get_settings()
    headers = [
        (b"content-security-policy", content_security_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if settings.is_production:  # only over HTTPS, which production is
        headers.append((b"strict-transport-security",
                        f"max-age={HSTS_SECONDS}; includeSubDomains".encode()))

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(n, v) for n, v in headers if n not in present]]
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers
