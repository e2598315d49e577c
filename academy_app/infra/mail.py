"""Rendering and delivering email: Jinja2 templates (HTML and plain text), SMTP or an outbox folder.

Without `SMTP_HOST` (the embedded default) each message is written as an `.eml` file to the outbox
folder, named after its email-log id, so writing it twice leaves one file.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from academy_app.infra import signing
from academy_app.infra.storage import write_atomically
from academy_app.models import EmailLog
from academy_app.settings import get_settings

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"
SMTP_TIMEOUT_SECONDS = 20


@lru_cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       keep_trailing_newline=True)


def build_message(email: EmailLog) -> EmailMessage:
    settings = get_settings()
    context = json.loads(email.context)
    link = context.get("link") or ""
    if secret := context.get("link_secret"):  # a token kept nowhere, made again now (signing.derive)
        link += signing.derive(secret["purpose"], secret["value"])
    token = context.get("unsubscribe_token", "")
    values = {"name": context.get("name", ""), "title": context.get("title", email.subject),
              "body": context.get("body", ""), "home_url": settings.absolute_url("/"),
              "action": context.get("action", ""),
              "url": settings.absolute_url(link) if link.startswith("/") else "",
              "unsubscribe_url": settings.absolute_url(f"/unsubscribe/{token}") if token else ""}
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Date"] = formatdate(localtime=False)
    # The same id on every attempt: a receiver can tell a resend after a crash from a new message.
    message["Message-ID"] = f"<email-{email.id}.{email.dedupe_key.replace(':', '.')}@academy>"
    if token:  # RFC 8058: mail clients offer a one-click "Unsubscribe" that POSTs here
        message["List-Unsubscribe"] = f"<{settings.absolute_url(f'/email/unsubscribe/{token}')}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_templates().get_template("notification.txt").render(values))
    message.add_alternative(_templates().get_template("notification.html").render(values),
                            subtype="html")
    return message


def deliver(message: EmailMessage, email_id: int) -> None:
    """Send over SMTP, or write to the outbox. Raises smtplib.SMTPException or OSError on failure."""
    settings = get_settings()
    if settings.smtp_host is None:
        write_atomically(settings.outbox_dir / f"{email_id:08d}.eml", bytes(message))
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)

