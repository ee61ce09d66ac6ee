"""tee-sim postcompute (being written; see docs/tee.md)."""
