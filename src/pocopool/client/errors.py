"""Errors the SDK raises: each carries one sentence a user can act on."""


class ClientError(Exception):
    """Something the user asked for cannot be done; the message says why."""


class BadInput(ClientError):
    """The user's input (a path, a bundle, an id, an option) is not acceptable."""


class NotFound(ClientError):
    """A deal, task, app or result that does not exist."""


class ServiceUnavailable(ClientError):
    """A pocopool service (scheduler, result store, chain) did not answer."""
