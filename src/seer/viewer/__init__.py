"""`seer view`: watch runs in the browser as they happen, from their run directories alone."""

from .app import create_app

__all__ = ["create_app"]
