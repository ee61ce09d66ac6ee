"""tee-sim postcompute program: not built yet (issue 12, docs/tee.md). Its source is already measured
(measurements.py), so the SMS and the enclave will agree on what runs once it is written."""
