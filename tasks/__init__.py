"""Background work: `celery -A tasks worker` and `celery -A tasks beat` (make worker / make beat)."""

from tasks.celery_app import app

__all__ = ["app"]
