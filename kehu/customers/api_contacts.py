"""/api/v1/contacts (SPEC §5.3): the same selectors, services and masking as the pages."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Router, Schema
from ninja.responses import Status

from kehu.core.api import Id, Page, paginate
from kehu.core.errors import NotFound
from kehu.org.authz import authorize

from . import masking, selectors, services
from .models import Contact
from .schemas import ErrorOut

router = Router(tags=["联系人"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ContactIn(Schema):
    customer_id: Id
    name: str
    mobile: str = ""
    phone: str = ""
    email: str = ""
    position: str = ""
    gender: str = "unknown"
    is_decision_maker: bool = False
    birthday: date | None = None
    remark: str = ""


class ContactPatch(Schema):
    name: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    position: str | None = None
    gender: str | None = None
    is_decision_maker: bool | None = None
    birthday: date | None = None
    remark: str | None = None


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    mobile: str
    phone: str
    email: str
    position: str
    gender: str
    is_decision_maker: bool
    is_primary: bool
    birthday: date | None
    remark: str
    created_at: datetime


def contact_out(contact) -> dict:
    data = {
        f: getattr(contact, f)
        for f in (
            "id",
            "customer_id",
            "name",
            "position",
            "gender",
            "is_decision_maker",
            "is_primary",
            "birthday",
            "remark",
            "created_at",
        )
    }
    data.update(masking.contact_fields(contact.customer, contact))
    return data


def _get(request, contact_id):
    contact = selectors.contact_list(user=request.user).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound("联系人不存在或无权查看")
    return contact


@router.get("/contacts", response={200: Page[ContactOut], **ERRORS})
def list_contacts(
    request,
    customer_id: int | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    authorize(request.user, "view", Contact)
    qs = selectors.contact_list(user=request.user)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if q:
        qs = qs.filter(name__icontains=q)
    return paginate(qs.order_by("-id"), page, page_size, contact_out, cursor=cursor, walkable=True)


@router.post("/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request, payload: ContactIn):
    authorize(request.user, "add", Contact)
    data = payload.dict()
    data["customer"] = data.pop("customer_id")
    contact = services.contact_save(actor=request.user, instance=None, data=data)
    return Status(201, contact_out(contact))


@router.get("/contacts/{int:contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request, contact_id: int):
    authorize(request.user, "view", Contact)
    return contact_out(_get(request, contact_id))


@router.patch("/contacts/{int:contact_id}", response={200: ContactOut, **ERRORS})
def update_contact(request, contact_id: int, payload: ContactPatch):
    authorize(request.user, "change", Contact)
    contact = _get(request, contact_id)
    data = {f: getattr(contact, f) for f in services.CONTACT_FIELDS} | payload.dict(
        exclude_unset=True
    )
    return contact_out(services.contact_save(actor=request.user, instance=contact, data=data))


@router.delete("/contacts/{int:contact_id}", response={204: None, **ERRORS})
def delete_contact(request, contact_id: int):
    authorize(request.user, "delete", Contact)
    services.contact_delete(actor=request.user, instance=_get(request, contact_id))
    return Status(204, None)
