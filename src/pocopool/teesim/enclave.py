"""tee-sim enclave (being written; see docs/tee.md)."""
