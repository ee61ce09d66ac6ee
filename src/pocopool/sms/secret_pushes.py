"""Who may push which secret (docs/tee.md "SMS HTTP API"): names per kind and owners on chain."""

from __future__ import annotations

from ..chain.aio import chain_read
from ..chain.base import Chain
from ..protocol.crypto import InvalidHex, normalize_address
from ..protocol.tee import APP_SECRET_NAME, DATASET_KEY_NAME, SECRET_NAME, WEB2_NAMES, SecretKind
from ..service.errors import BadRequest, NotFound


def secret_path(kind: str, address: str, name: str) -> tuple[SecretKind, str]:
    """The kind and checksummed address of `/secrets/{kind}/{address}/{name}`; 400 for any other."""
    try:
        secret_kind = SecretKind(kind)
    except ValueError:
        raise BadRequest(f"unknown secret kind {kind!r} (expected dataset, app, requester or web2)") from None
    try:
        normalize_address(address)
    except InvalidHex:
        raise BadRequest(f"{address!r} is not an address (0x followed by 40 hex digits)") from None
    allowed = {
        SecretKind.DATASET: (DATASET_KEY_NAME,),
        SecretKind.APP: (APP_SECRET_NAME,),
        SecretKind.WEB2: WEB2_NAMES,
    }.get(secret_kind)
    if allowed is not None and name not in allowed:
        raise BadRequest(f"a {kind} secret is named {' or '.join(allowed)}, not {name!r}")
    if not SECRET_NAME.match(name):
        raise BadRequest(f"{name!r} is not a valid secret name (letters, digits, _ . -, at most 64)")
    return secret_kind, normalize_address(address)


async def secret_owner(chain: Chain, kind: SecretKind, address: str) -> str:
    """The one account that may push this secret: the asset's owner on chain, or the address itself."""
    if kind == SecretKind.DATASET:
        dataset = await chain_read(chain, chain.view_dataset, address)
        if dataset is None:
            raise NotFound(f"dataset {address} is not on chain")
        return dataset.owner
    if kind == SecretKind.APP:
        app = await chain_read(chain, chain.view_app, address)
        if app is None:
            raise NotFound(f"app {address} is not on chain")
        return app.owner
    return address
