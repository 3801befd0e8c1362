"""``/api/v1/<documents>`` for every declared type (SPEC §10.1, §13): list (the page's own
FilterSet, ``customer_id``, ``q``, ``ordering``), create, get, patch, delete, and the approval
actions ``submit|withdraw|approve|reject|void``. Schemas are derived from the declaration."""

# No ``from __future__ import annotations``: the payload annotations of ``build_router`` name
# schemas created at run time (``create_in``, ``patch_in``), which django-ninja must see as
# classes, not as strings it cannot resolve from the module's globals.

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field, create_model

from kehu.core.api import Id, paginate
from kehu.core.errors import ApplicationError
from kehu.customers.schemas import ErrorOut
from kehu.org.authz import authorize

from . import approval, selectors, services
from .types import DocumentType, registry

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class ItemIn(Schema):
    product_id: Id | None = None
    name: str = Field("", max_length=100)
    spec: str = Field("", max_length=100)
    unit: str = Field("", max_length=10)
    quantity: Decimal | str = Field(..., description='"2" or 2')
    unit_price: Decimal | str | None = Field(None, description="defaults to the product's price")
    discount: Decimal | str | None = None


class ItemOut(Schema):
    product_id: int | None
    name: str
    spec: str
    unit: str
    quantity: str
    unit_price: str
    discount: str
    amount: str


class ActionIn(Schema):
    comment: str = Field("", max_length=200, description="审批意见 / 驳回原因 / 作废原因")


class ApprovalRecordOut(Schema):
    step: int
    action: str
    actor_id: int | None
    actor_name: str
    comment: str
    created_at: datetime


@cache
def _schemas(decl: DocumentType):
    """(create, patch, out) schemas of ``decl``: one set per type (a type's own routes, e.g. a
    service order's transition, answer the same out schema — :func:`out_schema`)."""
    name = decl.model.__name__
    fields_in: dict[str, Any] = dict(decl.api_fields)
    fields_in["remark"] = (str, Field("", max_length=500))
    if decl.item_model is not None:
        fields_in["items"] = (list[ItemIn] | None, Field(None, max_length=200))
    create_in = create_model(f"{name}In", __base__=Schema, **fields_in)
    patch_fields = {
        k: (v[0] | None, None) for k, v in fields_in.items() if k not in decl.create_only_fields
    }
    patch_in = create_model(f"{name}Patch", __base__=Schema, **patch_fields)
    out: dict[str, Any] = {
        "id": (int, ...),
        "number": (str, ...),
        "customer_id": (int, ...),
        "customer_name": (str, ...),
        "approval_status": (str, ...),
        "approval_step": (int, ...),
        "remark": (str, ...),
        "creator_id": (int | None, ...),
        "created_at": (datetime, ...),
        "updated_at": (datetime, ...),
    }
    for field_name in decl.out_fields:
        field = decl.model._meta.get_field(field_name)
        key = field.attname if field.is_relation else field_name
        out[key] = (Any, None)
    for key, kind in decl.out_extra.items():
        out[key] = (kind, None)
    if decl.item_model is not None:
        out["items"] = (list[ItemOut], [])
    out_schema = create_model(f"{name}Out", __base__=Schema, **out)
    return create_in, patch_in, out_schema


def out_schema(decl: DocumentType):
    return _schemas(decl)[2]


def _data(decl: DocumentType, payload: dict[str, Any]) -> dict[str, Any]:
    """API names → the service's (``customer_id`` → ``customer``, items' ``product_id``)."""
    data = {}
    for key, value in payload.items():
        data[key[:-3] if key.endswith("_id") and key != "customer_id" else key] = value
    if "customer_id" in data:
        data["customer"] = data.pop("customer_id")
    if data.get("items") is not None:
        data["items"] = [
            {
                **{k: v for k, v in item.items() if k != "product_id"},
                "product": item.get("product_id"),
            }
            for item in data["items"]
        ]
    elif "items" in data:
        data.pop("items")
    return data


def build_router(decl: DocumentType) -> Router:
    router = Router(tags=[decl.label])
    create_in, patch_in, out_schema = _schemas(decl)
    base = f"/{decl.api_path}"
    from kehu.core.api import Page

    def serialize(doc):
        return decl.serialize(doc)

    @router.get(base, response={200: Page[out_schema], **ERRORS}, operation_id=f"list_{decl.key}")
    def list_documents(
        request,
        customer_id: Id | None = None,
        q: str = "",
        approval_status: str | None = None,
        ordering: str = "",
        page: int = 1,
        page_size: int = 20,
        cursor: str | None = None,
    ):
        authorize(request.user, "view", decl.model)
        if approval_status and approval_status not in dict(
            decl.model._meta.get_field("approval_status").choices
        ):
            raise ApplicationError(
                "审批状态无效",
                errors={"approval_status": ["可选：draft、pending、approved、rejected、void"]},
            )
        qs = selectors.document_list(decl, user=request.user, customer_id=customer_id, q=q)
        params = {k: v for k, v in request.GET.items() if k in decl.filterset_class.base_filters}
        filterset = decl.filterset_class(params, queryset=qs, request=request)
        if not filterset.is_valid():
            raise ApplicationError("筛选条件有误", errors=dict(filterset.errors))
        qs = filterset.qs
        allowed = {o.lstrip("-") for o in decl.api_orderings}
        if ordering:
            if ordering.lstrip("-") not in allowed:
                raise ApplicationError(
                    "排序字段无效", errors={"ordering": ["可选：" + "、".join(sorted(allowed))]}
                )
            qs = qs.order_by(ordering, "-id")
        else:
            qs = qs.order_by(*decl.default_ordering)
        if decl.item_model is not None:
            qs = qs.prefetch_related("items")
        return paginate(qs, page, page_size, serialize, cursor=cursor, walkable=True)

    @router.post(base, response={201: out_schema, **ERRORS}, operation_id=f"create_{decl.key}")
    def create_document(request, payload: create_in):  # type: ignore[valid-type]
        authorize(request.user, "add", decl.model)
        doc = services.document_save(
            decl, actor=request.user, instance=None, data=_data(decl, payload.dict())
        )
        return Status(201, serialize(doc))

    @router.get(
        base + "/{int:doc_id}", response={200: out_schema, **ERRORS}, operation_id=f"get_{decl.key}"
    )
    def get_document(request, doc_id: int):
        authorize(request.user, "view", decl.model)
        return serialize(selectors.document_get(decl, user=request.user, pk=doc_id))

    @router.patch(
        base + "/{int:doc_id}",
        response={200: out_schema, **ERRORS},
        operation_id=f"update_{decl.key}",
    )
    def update_document(request, doc_id: int, payload: patch_in):  # type: ignore[valid-type]
        authorize(request.user, "change", decl.model)
        doc = selectors.document_get(decl, user=request.user, pk=doc_id)
        data = decl.current_data(doc)
        data.update(_data(decl, payload.dict(exclude_unset=True)))
        saved = services.document_save(decl, actor=request.user, instance=doc, data=data)
        return serialize(decl.model.objects.get(pk=saved.pk))

    @router.delete(
        base + "/{int:doc_id}", response={204: None, **ERRORS}, operation_id=f"delete_{decl.key}"
    )
    def delete_document(request, doc_id: int):
        authorize(request.user, "delete", decl.model)
        doc = selectors.document_get(decl, user=request.user, pk=doc_id)
        services.document_delete(decl, actor=request.user, instance=doc)
        return Status(204, None)

    if decl.approval:
        for action in ("submit", "withdraw", "approve", "reject", "void"):
            _approval_route(router, decl, base, action, out_schema)

        @router.get(
            base + "/{int:doc_id}/approvals",
            response={200: list[ApprovalRecordOut], **ERRORS},
            operation_id=f"approvals_{decl.key}",
        )
        def approval_history(request, doc_id: int):
            authorize(request.user, "view", decl.model)
            doc = selectors.document_get(decl, user=request.user, pk=doc_id)
            return [
                {
                    "step": r.step,
                    "action": r.action,
                    "actor_id": r.actor_id,
                    "actor_name": (r.actor.get_full_name() or r.actor.username) if r.actor else "",
                    "comment": r.comment,
                    "created_at": r.created_at,
                }
                for r in approval.history(decl, doc)
            ]

    return router


def _approval_route(router: Router, decl: DocumentType, base: str, action: str, out_schema):
    @router.post(
        f"{base}/{{int:doc_id}}/{action}",
        response={200: out_schema, **ERRORS},
        operation_id=f"{action}_{decl.key}",
    )
    def act(request, doc_id: int, payload: ActionIn | None = None):
        # The view permission and the action's own, before the document is read (a refusal that
        # reveals nothing); the engine checks the rest.
        authorize(request.user, "view", decl.model)
        authorize(request.user, approval.ACTION_PERMISSIONS[action], decl.model)
        doc = selectors.document_get(decl, user=request.user, pk=doc_id)
        approval.run(
            decl, action, actor=request.user, doc=doc, comment=payload.comment if payload else ""
        )
        return decl.serialize(decl.model.objects.get(pk=doc.pk))


def routers() -> list[Router]:
    return [build_router(decl) for decl in registry.values()]
