"""``POST /api/v1/{repair-orders|maintenance-orders}/{id}/transition`` (SPEC §10.1, §13):
``{to, assignee_id?, reason?}`` → the order. The other routes of the three after-sales types
(list/create/get/patch/delete) come from the document layer (kehu.documents.api)."""

# No ``from __future__ import annotations``: django-ninja reads the payload annotations.

from django.db.models import prefetch_related_objects
from ninja import Router, Schema
from pydantic import Field

from kehu.core.api import Id
from kehu.documents import selectors
from kehu.documents.api import ERRORS, out_schema
from kehu.documents.types import DocumentType, registry
from kehu.org.authz import authorize

from . import flow

router = Router(tags=["售后"])


class TransitionIn(Schema):
    to: str = Field(
        ...,
        description="目标状态：in_progress 派工/改派（返工）、awaiting_acceptance 完工、"
        "awaiting_payment 验收、completed 完成（须已付清：回款/挂账审批通过后自动完成）、cancelled 取消",
    )
    assignee_id: Id | None = Field(None, description="派工/改派的技术员，默认为操作人")
    reason: str = Field("", max_length=200, description="取消原因、返工原因（必填）或说明")
    from_status: str | None = Field(
        None, description="发起时的状态：订单已变为其他状态则 409（防止派工变成改派）"
    )


def _transition_route(decl: DocumentType) -> None:
    @router.post(
        f"/{decl.api_path}/{{int:doc_id}}/transition",
        response={200: out_schema(decl), **ERRORS},
        operation_id=f"transition_{decl.key}",
        summary=f"{decl.label}状态流转",
    )
    def transition(request, doc_id: int, payload: TransitionIn):
        # The view permission and the step's own (by its target) before the order is read.
        authorize(request.user, "view", decl.model)
        target = flow.clean_target(decl, payload.to)
        if not request.user.has_perm(flow.permission_for_target(decl, target)):
            from kehu.core.errors import Forbidden

            verb = "验收" if target == "awaiting_payment" else "处理"
            raise Forbidden(f"没有{verb}{decl.label}的权限")
        selectors.document_check(decl, user=request.user, pk=doc_id)
        order = flow.transition(
            decl,
            actor=request.user,
            order=decl.model(pk=doc_id),  # read and locked by the flow itself
            to=target,
            assignee_id=payload.assignee_id,
            reason=payload.reason,
            from_status=payload.from_status,
        )
        # The answer from the order as saved (its customer read with it), not read again.
        prefetch_related_objects([order], *decl.read_by_key(), "items")
        return decl.serialize(order)


for _key in ("repairorder", "maintenanceorder"):
    _transition_route(registry[_key])


class CancelIn(Schema):
    reason: str = Field(..., max_length=200, description="取消原因（必填）")


@router.post(
    "/on-account-orders/{int:doc_id}/cancel",
    response={200: out_schema(registry["onaccount"]), **ERRORS},
    operation_id="cancel_onaccount",
    summary="取消挂账订单（挂账中）",
)
def cancel_on_account(request, doc_id: int, payload: CancelIn):
    from .documents import cancel_on_account as cancel

    decl = registry["onaccount"]
    authorize(request.user, "view", decl.model)
    authorize(request.user, "change", decl.model)
    doc = selectors.document_get(decl, user=request.user, pk=doc_id)
    cancel(actor=request.user, doc=doc, reason=payload.reason)
    return decl.serialize(decl.base_queryset().get(pk=doc.pk))


class VehicleUnitIn(Schema):
    item_id: Id = Field(..., description="合同明细（整车/租赁的车辆行）")
    serial_number: str = Field("", max_length=50, description="出厂编号（选填）")


class VehiclesFromContractIn(Schema):
    units: list[VehicleUnitIn] | None = Field(
        None,
        max_length=200,
        description="每台车辆一项（同一明细可出现多次，不超过其数量）；省略则为全部未生成的车辆",
    )


@router.post(
    "/contracts/{int:doc_id}/vehicles",
    response={201: list[out_schema(registry["vehicle"])], **ERRORS},
    operation_id="vehicles_from_contract",
    summary="由合同生成车辆（审批通过的整车/租赁合同，每台一辆）",
)
def vehicles_from_contract(request, doc_id: int, payload: VehiclesFromContractIn):
    from kehu.core.errors import Forbidden

    from .services import vehicles_from_contract as create

    for perm in ("sales.view_contract", "aftersales.add_vehicle"):
        if not request.user.has_perm(perm):
            raise Forbidden("没有由合同生成车辆的权限")
    contract = selectors.document_get(registry["contract"], user=request.user, pk=doc_id)
    vehicle = registry["vehicle"]
    authorize(request.user, "add", vehicle.model(customer=contract.customer))
    units = None if payload.units is None else [u.dict() for u in payload.units]
    made = create(actor=request.user, contract=contract, units=units)
    return 201, [
        vehicle.serialize(v)
        for v in vehicle.base_queryset().filter(pk__in=[m.pk for m in made]).order_by("pk")
    ]
