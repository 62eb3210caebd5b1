"""boxoffice workers: `celery -A workers ...` finds the Celery app here."""
from workers.celery_app import app

celery = app
__all__ = ["app", "celery"]
