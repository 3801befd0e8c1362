"""/api/v1/leads and POST /api/v1/leads/{id}/convert."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from kehu.core.api import Id, Page, paginate
from kehu.core.errors import ApplicationError
from kehu.customers.api import customer_out
from kehu.customers.models import Customer
from kehu.customers.schemas import CustomerOut, ErrorOut
from kehu.customers.selectors import customer_get
from kehu.org.authz import authorize
from kehu.org.models import User

from . import selectors, services
from .models import Lead

router = Router(tags=["线索"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class LeadIn(Schema):
    name: str
    contact_name: str
    contact_phone: str
    source: Id | None = None
    owner_id: Id | None = None
    address: str = ""
    remark: str = ""


class LeadPatch(Schema):
    name: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    source: Id | None = None
    address: str | None = None
    remark: str | None = None
    status: str | None = Field(
        None, description="`invalid` (with invalid_reason) marks the lead invalid"
    )
    invalid_reason: str | None = None


class LeadOut(Schema):
    id: int
    name: str
    contact_name: str
    contact_phone: str
    source: int | None = Field(None, alias="source_id")
    owner_id: int | None
    status: str
    invalid_reason: str
    customer_id: int | None
    address: str
    remark: str
    created_at: datetime


class ConvertIn(Schema):
    credit_code: str | None = None
    legal_person: str | None = None
    confirm_duplicates: bool = False


@router.get("/leads", response={200: Page[LeadOut], **ERRORS})
def list_leads(
    request,
    tab: str = "all",
    status: str | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    authorize(request.user, "view", Lead)
    if tab not in selectors.TABS:
        raise ApplicationError(
            "未知的标签页", errors={"tab": [f"可选：{', '.join(selectors.TABS)}"]}
        )
    qs = selectors.lead_list(user=request.user, tab=tab)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q)
    return paginate(
        qs.order_by("-created_at", "-id"),
        page,
        page_size,
        lambda lead: lead,
        cursor=cursor,
        walkable=True,
    )


@router.post("/leads", response={201: LeadOut, **ERRORS})
def create_lead(request, payload: LeadIn):
    authorize(request.user, "add", Lead)
    data = payload.dict()
    data["source"] = str(data["source"]) if data.get("source") else None
    owner_id = data.pop("owner_id")
    if owner_id:
        data["owner"] = User.objects.filter(pk=owner_id, is_active=True).first()
        if data["owner"] is None:
            raise ApplicationError("负责人不存在", errors={"owner_id": ["负责人不存在或已停用"]})
    return Status(201, services.lead_save(actor=request.user, instance=None, data=data))


@router.get("/leads/{int:lead_id}", response={200: LeadOut, **ERRORS})
def get_lead(request, lead_id: int):
    authorize(request.user, "view", Lead)
    return selectors.lead_get(user=request.user, pk=lead_id)


@router.patch("/leads/{int:lead_id}", response={200: LeadOut, **ERRORS})
def update_lead(request, lead_id: int, payload: LeadPatch):
    authorize(request.user, "change", Lead)
    lead = selectors.lead_get(user=request.user, pk=lead_id)
    changes = payload.dict(exclude_unset=True)
    if changes.pop("status", None) == "invalid":
        return services.lead_mark_invalid(
            actor=request.user, lead=lead, reason=changes.pop("invalid_reason", "") or ""
        )
    changes.pop("invalid_reason", None)
    data = {
        f: getattr(lead, f) for f in ("name", "contact_name", "contact_phone", "address", "remark")
    }
    data["source"] = str(lead.source_id) if lead.source_id else None
    data.update({k: (str(v) if k == "source" and v else v) for k, v in changes.items()})
    return services.lead_save(actor=request.user, instance=lead, data=data)


@router.delete("/leads/{int:lead_id}", response={204: None, **ERRORS})
def delete_lead(request, lead_id: int):
    authorize(request.user, "delete", Lead)
    services.lead_delete(
        actor=request.user, instance=selectors.lead_get(user=request.user, pk=lead_id)
    )
    return Status(204, None)


@router.post("/leads/{int:lead_id}/convert", response={201: CustomerOut, 409: ErrorOut, **ERRORS})
def convert_lead(request, lead_id: int, payload: ConvertIn | None = None):
    """转客户: the new customer (its follow-ups come along). Every field is optional, so is the
    body: an empty POST converts with the lead's own data (SPEC §10.1)."""
    payload = payload or ConvertIn()
    authorize(request.user, "change", Lead)
    authorize(request.user, "add", Customer)
    lead = selectors.lead_get(user=request.user, pk=lead_id)
    customer = services.lead_convert(
        actor=request.user,
        lead=lead,
        extra={"credit_code": payload.credit_code, "legal_person": payload.legal_person},
        confirm_duplicates=payload.confirm_duplicates,
    )
    return Status(201, customer_out(customer_get(user=request.user, pk=customer.pk)))
