"""The Celery worker and beat: ``create_celery(settings)`` builds the app with every task."""

from callcenter.worker.app import create_celery

__all__ = ["create_celery"]
