"""/api/v1/user/tokens: the caller's API tokens (list, create, revoke). A token is shown once,
at creation; lists carry only what it is (scope, dates, last use)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from registry.access import Actor
from registry.container import Container
from registry.meta.records import Token
from registry.services import users

from ..deps import RowNumber, get_actor, get_container, get_signed_in
from ..models.tokens import CreatedToken, NewToken, TokenInfo
from ..openapi import WRITE

router = APIRouter(prefix="/api/v1/user/tokens", tags=["tokens"])


def _info(token: Token) -> TokenInfo:
    return TokenInfo(id=token.id, scope=token.scope, created_at=token.created_at,  # type: ignore[arg-type]
                     expires_at=token.expires_at, last_used_at=token.last_used_at, revoked=token.revoked)


@router.get("")
def list_tokens(actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[TokenInfo]:
    return [_info(t) for t in users.my_tokens(c, actor)]


@router.post("", status_code=201, responses=WRITE)
def create_token(body: NewToken, actor: Actor = Depends(get_signed_in),
                 c: Container = Depends(get_container)) -> CreatedToken:
    token, record = users.create_my_token(c, actor, body.scope, body.expires_days)
    return CreatedToken(token=token, **_info(record).model_dump())


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: RowNumber, actor: Actor = Depends(get_signed_in),
                 c: Container = Depends(get_container)) -> Response:
    users.revoke_my_token(c, actor, token_id)
    return Response(status_code=204)
