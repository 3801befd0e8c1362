"""/api/v1/opportunities (商机): list/create, /{id} retrieve/update/delete; list filter customer_id."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from kehu.core.api import Id, Page, paginate
from kehu.core.errors import ApplicationError
from kehu.core.money import money_json
from kehu.customers.schemas import ErrorOut
from kehu.org.authz import authorize

from . import selectors, services
from .models import Opportunity, OpportunityStatus

router = Router(tags=["商机"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
FIELDS = (
    "name",
    "budget",
    "product_price",
    "expected_close_at",
    "next_followup_at",
    "status",
    "remark",
)


class OpportunityIn(Schema):
    customer_id: Id
    name: str = Field(max_length=200)
    budget: Decimal | None = Field(None, description='money: "500000.00" or a number')
    product_price: Decimal | None = None
    expected_close_at: date | None = None
    next_followup_at: datetime | None = None
    status: str = Field("open", description="open 未成交 / won 已成交 / lost 输单")
    remark: str = Field("", max_length=1000)


class OpportunityPatch(Schema):
    name: str | None = Field(None, max_length=200)
    budget: Decimal | None = None
    product_price: Decimal | None = None
    expected_close_at: date | None = None
    next_followup_at: datetime | None = None
    status: str | None = None
    remark: str | None = Field(None, max_length=1000)


class OpportunityOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    name: str
    budget: str
    product_price: str
    expected_close_at: date | None
    next_followup_at: datetime | None
    status: str
    remark: str
    creator_id: int | None
    created_at: datetime
    updated_at: datetime


def opportunity_out(o: Opportunity) -> dict:
    return {
        "id": o.pk,
        "customer_id": o.customer_id,
        "customer_name": o.customer.name,
        "name": o.name,
        "budget": money_json(o.budget),
        "product_price": money_json(o.product_price),
        "expected_close_at": o.expected_close_at,
        "next_followup_at": o.next_followup_at,
        "status": o.status,
        "remark": o.remark,
        "creator_id": o.creator_id,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }


@router.get("/opportunities", response={200: Page[OpportunityOut], **ERRORS})
def list_opportunities(
    request,
    customer_id: Id | None = None,
    status: str | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    authorize(request.user, "view", Opportunity)
    if status and status not in OpportunityStatus.values:
        raise ApplicationError("状态无效", errors={"status": ["可选：open、won、lost"]})
    qs = selectors.opportunity_list(user=request.user, customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    if q.strip():
        qs = qs.filter(name__icontains=q.strip())
    return paginate(
        qs.order_by("-updated_at", "-id"),
        page,
        page_size,
        opportunity_out,
        cursor=cursor,
        walkable=True,
    )


@router.post("/opportunities", response={201: OpportunityOut, **ERRORS})
def create_opportunity(request, payload: OpportunityIn):
    authorize(request.user, "add", Opportunity)
    data = payload.dict()
    data["customer"] = data.pop("customer_id")
    opportunity = services.opportunity_save(actor=request.user, instance=None, data=data)
    return Status(201, opportunity_out(opportunity))


@router.get("/opportunities/{int:opportunity_id}", response={200: OpportunityOut, **ERRORS})
def get_opportunity(request, opportunity_id: int):
    authorize(request.user, "view", Opportunity)
    return opportunity_out(selectors.opportunity_get(user=request.user, pk=opportunity_id))


@router.patch("/opportunities/{int:opportunity_id}", response={200: OpportunityOut, **ERRORS})
def update_opportunity(request, opportunity_id: int, payload: OpportunityPatch):
    authorize(request.user, "change", Opportunity)
    opportunity = selectors.opportunity_get(user=request.user, pk=opportunity_id)
    data = {field: getattr(opportunity, field) for field in FIELDS}
    data.update(payload.dict(exclude_unset=True))
    saved = services.opportunity_save(actor=request.user, instance=opportunity, data=data)
    return opportunity_out(saved)


@router.delete("/opportunities/{int:opportunity_id}", response={204: None, **ERRORS})
def delete_opportunity(request, opportunity_id: int):
    authorize(request.user, "delete", Opportunity)
    services.opportunity_delete(
        actor=request.user, instance=selectors.opportunity_get(user=request.user, pk=opportunity_id)
    )
    return Status(204, None)
