"""/api/v1/followups and /api/v1/todo."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from kehu.core.api import Id, Page, paginate
from kehu.core.errors import NotFound
from kehu.core.registry import todo_lists
from kehu.customers.schemas import ErrorOut
from kehu.customers.selectors import customer_get
from kehu.org.authz import authorize

from . import selectors, services
from .models import FollowUp

router = Router(tags=["跟进与代办"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class FollowUpIn(Schema):
    customer_id: Id
    type: Id | None = Field(None, description="跟进类型 dictionary entry id")
    content: str
    followed_at: datetime | None = None
    next_followup_at: datetime | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None


class FollowUpPatch(Schema):
    """The fields to correct; the others keep their values (``null`` clears an optional one)."""

    type: Id | None = Field(None, description="跟进类型 dictionary entry id")
    content: str | None = None
    followed_at: datetime | None = None
    next_followup_at: datetime | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None


class FollowUpOut(Schema):
    id: int
    customer_id: int | None
    type: int | None = Field(None, alias="type_id")
    type_name: str | None
    content: str
    followed_at: datetime
    next_followup_at: datetime | None
    contact_id: int | None
    opportunity_id: int | None
    author_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_type_name(obj):
        return obj.type.name if obj.type_id else None


class TodoCustomer(Schema):
    id: int
    name: str
    next_followup_at: datetime | None
    pool_return_at: datetime | None


class TodoOut(Schema):
    followups_today: list[TodoCustomer]
    followups_overdue: list[TodoCustomer]
    payment_plans_due: list[dict]
    pool_returning: list[TodoCustomer]
    approvals: list[dict]
    maintenance_due: list[dict] = []  # 保养到期 (售后: the vehicles' next maintenance)
    inspection_due: list[dict] = []  # 年检到期


@router.get("/followups", response={200: Page[FollowUpOut], **ERRORS})
def list_followups(
    request,
    customer_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    authorize(request.user, "view", FollowUp)
    qs = selectors.followup_list(user=request.user)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return paginate(
        qs.order_by("-followed_at", "-id"),
        page,
        page_size,
        lambda f: f,
        cursor=cursor,
        walkable=True,
    )


@router.post("/followups", response={201: FollowUpOut, **ERRORS})
def create_followup(request, payload: FollowUpIn):
    authorize(request.user, "add", FollowUp)
    customer = customer_get(user=request.user, pk=payload.customer_id)
    data = payload.dict()
    data["type"] = str(data["type"]) if data.get("type") is not None else None
    data["contact"] = data.pop("contact_id")
    followup = services.followup_create(actor=request.user, customer=customer, data=data)
    return Status(201, followup)


@router.get("/followups/{int:followup_id}", response={200: FollowUpOut, **ERRORS})
def get_followup(request, followup_id: int):
    authorize(request.user, "view", FollowUp)
    followup = selectors.followup_list(user=request.user).filter(pk=followup_id).first()
    if followup is None:
        raise NotFound("跟进记录不存在或无权查看")
    return followup


@router.patch("/followups/{int:followup_id}", response={200: FollowUpOut, **ERRORS})
def update_followup(request, followup_id: int, payload: FollowUpPatch):
    """Correct a follow-up: its author (or an admin) only; the change is logged."""
    authorize(request.user, "change", FollowUp)
    followup = selectors.followup_list(user=request.user).filter(pk=followup_id).first()
    if followup is None:
        raise NotFound("跟进记录不存在或无权查看")
    data = {
        "type": str(followup.type_id) if followup.type_id else None,
        "content": followup.content,
        "followed_at": followup.followed_at,
        "next_followup_at": followup.next_followup_at,
        "contact": followup.contact_id,
        "opportunity_id": followup.opportunity_id,
    }
    changes = payload.dict(exclude_unset=True)
    if "type" in changes:
        data["type"] = str(changes["type"]) if changes["type"] is not None else None
    if "contact_id" in changes:
        data["contact"] = changes.pop("contact_id")
    for key in ("content", "followed_at", "next_followup_at", "opportunity_id"):
        if key in changes:
            data[key] = changes[key]
    if "content" in changes and changes["content"] is None:
        data["content"] = ""
    return services.followup_update(actor=request.user, followup=followup, data=data)


@router.delete("/followups/{int:followup_id}", response={204: None, **ERRORS})
def delete_followup(request, followup_id: int):
    authorize(request.user, "delete", FollowUp)
    followup = selectors.followup_list(user=request.user).filter(pk=followup_id).first()
    if followup is None:
        raise NotFound("跟进记录不存在或无权查看")
    services.followup_delete(actor=request.user, followup=followup)
    return Status(204, None)


@router.get("/todo", response={200: TodoOut, 401: ErrorOut})
def todo(request):
    """通知代办: what the badge counts, listed."""
    due = selectors.followups_due(user=request.user)
    extra = {key: source(request.user) for key, (_title, source) in todo_lists.items()}
    return {
        "followups_today": list(due["today"][:200]),
        "followups_overdue": list(due["overdue"][:200]),
        "pool_returning": list(selectors.pool_returning(user=request.user)[:200]),
        "payment_plans_due": extra.get("payment_plans_due", []),
        "approvals": extra.get("approvals", []),
        "maintenance_due": extra.get("maintenance_due", []),
        "inspection_due": extra.get("inspection_due", []),
    }
