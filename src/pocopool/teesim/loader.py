"""tee-sim loader (being written; see docs/tee.md)."""
