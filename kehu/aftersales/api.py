"""``POST /api/v1/{repair-orders|maintenance-orders}/{id}/transition`` (SPEC §10.1, §13):
``{to, assignee_id?, reason?}`` → the order. The other routes of the three after-sales types
(list/create/get/patch/delete) come from the document layer (kehu.documents.api)."""

# No ``from __future__ import annotations``: django-ninja reads the payload annotations.

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
        "awaiting_payment 验收、completed 确认收款、cancelled 取消",
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
        order = selectors.document_get(decl, user=request.user, pk=doc_id)
        flow.transition(
            decl,
            actor=request.user,
            order=order,
            to=target,
            assignee_id=payload.assignee_id,
            reason=payload.reason,
            from_status=payload.from_status,
        )
        return decl.serialize(decl.base_queryset().prefetch_related("items").get(pk=order.pk))


for _key in ("repairorder", "maintenanceorder"):
    _transition_route(registry[_key])
