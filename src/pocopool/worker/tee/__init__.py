"""The worker's side of TEE tasks on tee-sim (docs/tee.md): the session at START and the three
enclave sandboxes at COMPUTE. The worker passes session ids and sealed boxes; it never holds a
dataset key, an app or requester secret, the enclave key or the beneficiary key."""
