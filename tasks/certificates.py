"""Drawing a certificate's PDF, then telling its learner, then signing its Open Badges credential:
safe to run twice, and retried on a full or failing disk."""

from __future__ import annotations

from academy_app.db import session_scope
from academy_app.infra.pdf import render_certificate
from academy_app.infra.queue import app
from academy_app.infra.storage import write_atomically
from academy_app.services import certificates, credentials


@app.task(name=certificates.DRAW_CERTIFICATE_TASK, autoretry_for=(OSError,), max_retries=5,
          retry_backoff=10, retry_backoff_max=600, retry_jitter=True)
def draw_certificate(certificate_id: int) -> str:
    with session_scope() as session:
        found = certificates.text_for(session, certificate_id)
    if found is None:
        return "gone"  # deleted with its learner or course before the task ran
    code, text = found
    # Drawn again even when a run before this one got as far: the same certificate, written whole.
    write_atomically(certificates.pdf_path(code), render_certificate(text))
    with session_scope() as session:
        first = certificates.mark_ready(session, certificate_id)
    with session_scope() as session:  # after the PDF: a credential is also signed on demand
        credentials.ensure_signed(session, certificate_id)
    return "drawn" if first else "drawn again"
