"""boxoffice workers: `celery -A workers ...` finds the Celery app here.

The app is configured by the process's composition root (workers/bootstrap.py) when it
first loads its configuration, or earlier by ``api.create_app``.
"""
from workers import bootstrap  # noqa: F401  the root configures the app on first use
from workers.celery_app import app

celery = app
__all__ = ["app", "celery"]
