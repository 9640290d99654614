"""Webhooks of a template (maintainers and above): create, list, read, change, delete; each
hook's delivery log and redelivery. Deliveries themselves are the queue's work."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request, Response

from registry.access import Actor
from registry.container import Container
from registry.meta.records_events import Delivery, Hook
from registry.services import hooks
from registry.services.hooks import HookChange as Change

from ..deps import PAGE, PER_PAGE, RowNumber, get_container, get_signed_in
from ..models.events import DeliveryOut, HookChange, HookOut, NewHook
from ..openapi import PAGED, WRITE
from ..pagination import link_header

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/hooks", tags=["hooks"])
DeliveryId = Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")


def hook_out(hook: Hook) -> HookOut:
    return HookOut(id=hook.id, url=hook.url, events=list(hook.events), active=hook.active,
                   has_secret=bool(hook.secret), created_by=hook.created_by, created_at=hook.created_at,
                   updated_at=hook.updated_at)


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(id=d.id, event=d.event, status=d.status, attempts=d.attempts,  # type: ignore[arg-type]
                       response_code=d.response_code, error=d.error, duration_ms=d.duration_ms,
                       created_at=d.created_at, updated_at=d.updated_at,
                       next_attempt_at=d.next_attempt_at if d.status == "pending" else None)


@router.post("", status_code=201, responses=WRITE)
def create(owner: str, name: str, body: NewHook, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> HookOut:
    return hook_out(hooks.create(c, actor, owner, name, Change(body.url, list(body.events), body.secret, body.active)))


@router.get("")
def index(owner: str, name: str, actor: Actor = Depends(get_signed_in),
          c: Container = Depends(get_container)) -> list[HookOut]:
    return [hook_out(h) for h in hooks.list_hooks(c, actor, owner, name)]


@router.get("/{hook_id}")
def show(owner: str, name: str, hook_id: RowNumber, actor: Actor = Depends(get_signed_in),
         c: Container = Depends(get_container)) -> HookOut:
    return hook_out(hooks.get(c, actor, owner, name, hook_id))


@router.patch("/{hook_id}", responses=WRITE)
def update(owner: str, name: str, hook_id: RowNumber, body: HookChange, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> HookOut:
    change = Change(body.url, list(body.events) if body.events is not None else None, body.secret, body.active)
    return hook_out(hooks.update(c, actor, owner, name, hook_id, change))


@router.delete("/{hook_id}", status_code=204, responses=WRITE)
def delete(owner: str, name: str, hook_id: RowNumber, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> Response:
    hooks.delete(c, actor, owner, name, hook_id)
    return Response(status_code=204)


@router.get("/{hook_id}/deliveries", responses=PAGED)
def deliveries(owner: str, name: str, hook_id: RowNumber, request: Request, response: Response, page: int = PAGE,
               per_page: int = PER_PAGE, actor: Actor = Depends(get_signed_in),
               c: Container = Depends(get_container)) -> list[DeliveryOut]:
    """Newest first."""
    items, total = hooks.deliveries(c, actor, owner, name, hook_id, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [delivery_out(d) for d in items]


@router.post("/{hook_id}/deliveries/{delivery}/redeliver", status_code=202, responses=WRITE)
def redeliver(owner: str, name: str, hook_id: RowNumber, delivery: str = DeliveryId,
              actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> DeliveryOut:
    """The same body again, as a new delivery."""
    return delivery_out(hooks.redeliver(c, actor, owner, name, hook_id, delivery))
