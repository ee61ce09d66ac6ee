"""The PoCo ledger: the Chain interface and its backends."""

from .base import *  # noqa: F401,F403
