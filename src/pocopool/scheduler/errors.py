"""What the scheduler adds to the service's typed refusals (service/errors.py).

The scheduler raises the service's kinds (`NotFound`, `Conflict` …); they know nothing of HTTP and
are mapped once, with the one error body, by `http/errors.py`. A refusal that tells a worker what
to do next carries it as the `nextAction` field (e.g. `Conflict(message, nextAction="PLEASE_ABORT")`).
Only the worker's credential is the scheduler's own: a bearer token, named in `WWW-Authenticate`.
"""

from __future__ import annotations

from ..service import errors


class Unauthorized(errors.Unauthorized):
    """The worker did not prove its wallet: no, a malformed or an expired bearer token (JWT), or a
    login signature of someone else."""

    scheme = "Bearer"
