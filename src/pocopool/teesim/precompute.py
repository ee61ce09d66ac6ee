"""tee-sim precompute (being written; see docs/tee.md)."""
