"""The result store's HTTP layer: one router per concept, the error mapping, and `create_app`."""

from .app import create_app

__all__ = ["create_app"]
