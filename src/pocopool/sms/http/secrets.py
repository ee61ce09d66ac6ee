"""`/secrets/{kind}/{address}/{name}`: push a secret (PUT, signed by its owner on chain) and ask
whether one is present (HEAD). No route ever answers a secret value."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ...chain.base import Chain
from ...logs import get_logger
from ...protocol.crypto import same_address
from ...protocol.tee import MAX_SECRET_BYTES, recover_secret_push
from ...service.bodies import read_bounded
from ...service.errors import BadRequest, Forbidden, Unauthorized
from .. import secret_pushes
from ..store import SmsStore

log = get_logger("pocopool.sms")


def router(chain: Chain, store: SmsStore) -> APIRouter:
    api = APIRouter(tags=["secrets"])

    @api.head("/secrets/{kind}/{address}/{name}")
    async def secret_exists(kind: str, address: str, name: str) -> Response:
        secret_kind, address = secret_pushes.secret_path(kind, address, name)
        present = await store.has_secret(secret_kind.value, address, name)
        return Response(status_code=200 if present else 404)

    @api.put("/secrets/{kind}/{address}/{name}")
    async def push_secret(kind: str, address: str, name: str, request: Request) -> JSONResponse:
        secret_kind, address = secret_pushes.secret_path(kind, address, name)
        raw = await read_bounded(request, MAX_SECRET_BYTES, "the value")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the value is not UTF-8 text") from None
        if not value:
            raise BadRequest("the value is empty")
        signature = request.headers.get("authorization", "").strip()
        if not signature:
            raise Unauthorized("the Authorization header (the owner's signature) is missing")
        signer = recover_secret_push(secret_kind, address, name, value, signature)
        if signer is None:
            raise Unauthorized("the Authorization header is not a valid signature")
        owner = await secret_pushes.secret_owner(chain, secret_kind, address)
        if not same_address(signer, owner):
            raise Forbidden(f"{signer} may not push {kind}/{address}/{name}: only {owner} may")
        created = await store.put_secret(secret_kind.value, address, name, value)
        log.info("secret-pushed", kind=kind, address=address, name=name, signer=signer, created=created)
        return JSONResponse({"kind": kind, "address": address, "name": name}, status_code=201 if created else 200)

    return api
