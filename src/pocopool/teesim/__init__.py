"""tee-sim: a **simulated** enclave platform (no SGX/TDX hardware, no real attestation).

Pre-compute, the app and post-compute each run in their own sandbox; each proves what it runs with a
quote signed by the simulated platform key and receives from the SMS only its own secrets, sealed to
a key it generated. See docs/tee.md. Depends on `protocol` only; the worker launches it.
"""
