"""pocopool: a Python workerpool for verifiable off-chain computing on the PoCo protocol."""

__version__ = "0.1.0"
