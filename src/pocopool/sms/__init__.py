"""The Secret Management Service (SMS) of pocopool's simulated TEE flow (docs/tee.md).

It keeps every secret encrypted at rest, holds each task's enclave challenge key, creates the
sessions workers ask for and provisions each attested enclave with only its own stage's secrets,
sealed to that enclave. Run it with `python -m pocopool.sms`.
"""
