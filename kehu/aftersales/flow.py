"""The ONE way a repair or maintenance order changes state (SPEC §6.2, §6.3, §10.1 transition).

    待派工 ──派工──▶ 维修中/保养中 ──完工──▶ 待验收 ──验收──▶ 待支付 ──付清（完成）──▶ 已完成
                      ▲   └─改派─┘            │
                      └──────────返工─────────┘
    any state before 已完成 ──取消──▶ 已取消

:func:`transition` is called by the page's modals, the API (``POST …/{id}/transition {to,
assignee_id?}``), demo data and tests. It locks the order's row, finds the step from the current
state and the target (:data:`STEPS`; anything else is a 409 in Chinese), checks the step's
permission, writes the state and its timestamp, logs who and when in the change log, and — in
the same transaction — posts to the ledger: reaching 待支付 bills the order's kind (维修订单 /
保养订单), 取消 after that reverses it exactly (refused while 回款 or 挂账订单 stand against it).

Permissions: 派工, 改派, 完工, 返工, 完成 and 取消 need ``aftersales.change_<model>``; 验收 needs
``aftersales.accept_<model>`` and either the change permission too (the after-sales team) or the
customer's management (its owner, the owner's superiors: SPEC §1 data scope) — a colleague the
customer is only shared with may not accept for it.

Paying is not a step: 回款 (kehu.sales, ``repair_order_id`` / ``maintenance_order_id``) and
挂账订单 against the order are paid in the ledger when approved, and :func:`settle` then moves the
order to 已完成 once their approved total covers its amount (and back to 待支付 if one of them is
voided). 完成 by hand is only possible when it is paid in full (e.g. an order of 0.00).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError, Conflict, Forbidden
from kehu.customers.validation import clean_text
from kehu.documents.types import DocumentType
from kehu.ledger import services as ledger
from kehu.org.authz import authorize, has_permission
from kehu.org.scope import can_manage_owner

from .models import BILLED_STATUSES, ServiceStatus
from .services import lock_order, order_paid, refresh_vehicles

S = ServiceStatus


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # 派工 … (buttons, log, refusals)
    sources: tuple[str, ...]
    target: str
    permission: str  # "change" or "accept"
    assignee: bool = False  # picks the technician (default: the actor)
    reason_required: bool = False
    style: str = ""  # the button's Tabler class


STEPS: tuple[Step, ...] = (
    Step(
        "dispatch",
        "派工",
        (S.AWAITING_DISPATCH,),
        S.IN_PROGRESS,
        "change",
        True,
        False,
        "btn-primary",
    ),
    Step("reassign", "改派", (S.IN_PROGRESS,), S.IN_PROGRESS, "change", True),
    Step("finish", "完工", (S.IN_PROGRESS,), S.AWAITING_ACCEPTANCE, "change", style="btn-primary"),
    Step("rework", "返工", (S.AWAITING_ACCEPTANCE,), S.IN_PROGRESS, "change", reason_required=True),
    Step(
        "accept",
        "验收",
        (S.AWAITING_ACCEPTANCE,),
        S.AWAITING_PAYMENT,
        "accept",
        style="btn-primary",
    ),
    Step("complete", "完成", (S.AWAITING_PAYMENT,), S.COMPLETED, "change"),
    Step(
        "cancel",
        "取消",
        (S.AWAITING_DISPATCH, S.IN_PROGRESS, S.AWAITING_ACCEPTANCE, S.AWAITING_PAYMENT),
        S.CANCELLED,
        "change",
        reason_required=True,
        style="btn-outline-danger",
    ),
)

# The refusal names what the target would have done: "当前状态为「待派工」，不能直接验收".
TARGET_VERBS = {
    S.AWAITING_DISPATCH: "退回待派工",
    S.IN_PROGRESS: "派工",
    S.AWAITING_ACCEPTANCE: "完工",
    S.AWAITING_PAYMENT: "验收",
    S.COMPLETED: "完成",
    S.CANCELLED: "取消",
}
TIMESTAMPS = {
    "dispatch": "dispatched_at",
    "reassign": "dispatched_at",
    "finish": "finished_at",
    "accept": "billed_at",
    "complete": "completed_at",
    "cancel": "cancelled_at",
}
LOGGED_FIELDS = (
    "status",
    "assignee",
    "dispatched_at",
    "finished_at",
    "billed_at",
    "completed_at",
    "cancelled_at",
    "cancel_reason",
)


def step_for(source: str, target: str) -> Step | None:
    return next((s for s in STEPS if source in s.sources and s.target == target), None)


def permission_for_target(decl: DocumentType, target: str) -> str:
    """The permission a request for ``target`` needs before the order is even read (验收:
    accept, everything else: change)."""
    meta = decl.model._meta
    verb = "accept" if target == S.AWAITING_PAYMENT else "change"
    return f"{meta.app_label}.{verb}_{meta.model_name}"


def status_label(decl: DocumentType, status: str) -> str:
    return str(dict(decl.model._meta.get_field("status").choices).get(status, status))


def clean_target(decl: DocumentType, to: Any) -> str:
    targets = [value for value, _label in decl.model._meta.get_field("status").choices]
    if to not in targets:
        raise ApplicationError(
            "目标状态无效",
            code="invalid_status",
            errors={"to": ["可选：" + "、".join(targets)]},
        )
    return to


def may(user, decl: DocumentType, order, step: Step) -> bool:
    """Whether ``user`` may take ``step`` on ``order`` (an order the user sees), states aside."""
    try:
        check_permission(user, decl, order, step)
    except ApplicationError:
        return False
    return True


def check_permission(user, decl: DocumentType, order, step: Step) -> None:
    authorize(user, "view", order)
    if step.permission == "change":
        authorize(user, "change", order, message=f"没有处理{decl.label}的权限")
        return
    meta = decl.model._meta
    accept = f"{meta.app_label}.accept_{meta.model_name}"
    if not (user.is_active and (user.is_admin or user.has_perm(accept))):
        raise Forbidden(f"没有验收{decl.label}的权限")
    if has_permission(user, "change", order):
        return  # the after-sales team
    if not can_manage_owner(user, order.customer.owner_id):
        raise Forbidden(f"只有客户的负责人、其上级或售后人员可以验收{decl.label}")


def available_steps(user, decl: DocumentType, order, keys=None) -> list[Step]:
    """The steps ``user`` may take on ``order`` now (buttons; the service checks again), of
    ``keys`` only when given (a list row's buttons). 完成 shows only once the order is paid in
    full (its payments complete it on their own anyway: the button is for an order of 0.00)."""
    steps = [
        s
        for s in STEPS
        if (keys is None or s.key in keys)
        and order.status in s.sources
        and may(user, decl, order, s)
    ]
    complete = any(s.key == "complete" for s in steps)
    if complete and order_paid(order, states=("approved",)) < order.amount:
        steps = [s for s in steps if s.key != "complete"]
    return steps


def technicians(decl: DocumentType, order):
    """Who may be dispatched: active users holding the change permission who see the order's
    customer (the technician must be able to open the order)."""
    from django.db.models import Q

    from kehu.customers.selectors import visible_customers
    from kehu.org.models import User

    meta = decl.model._meta
    candidates = (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(roles__is_admin=True)
            | Q(
                roles__permissions__content_type__app_label=meta.app_label,
                roles__permissions__codename=f"change_{meta.model_name}",
            )
        )
        .distinct()
        .order_by("username")
    )
    return [u for u in candidates if visible_customers(u).filter(pk=order.customer_id).exists()]


def _assignee(decl: DocumentType, order, actor, assignee_id):
    from kehu.customers.selectors import visible_customers
    from kehu.org.models import User

    if assignee_id in (None, ""):
        user = actor
    else:
        pk = getattr(assignee_id, "pk", assignee_id)
        user = (
            User.objects.filter(pk=pk, is_active=True).first()
            if str(pk).isdigit() and len(str(pk)) < 19
            else None
        )
        if user is None:
            raise ApplicationError(
                "技术员不存在或已停用", errors={"assignee_id": ["技术员不存在或已停用"]}
            )
    if not has_permission(user, "change", order):
        message = f"「{user}」没有处理{decl.label}的权限，不能派工给他"
        raise ApplicationError(message, errors={"assignee_id": [message]})
    if not visible_customers(user).filter(pk=order.customer_id).exists():
        message = f"「{user}」看不到客户「{order.customer.name}」，请先把客户分享给他再派工"
        raise ApplicationError(message, errors={"assignee_id": [message]})
    return user


def _text(value: Any, label: str, limit: int, *, required: bool) -> str:
    text = clean_text(value, "document_text", required=False, label=label)
    if required and not text:
        raise ApplicationError(f"请填写{label}", errors={"reason": [f"请填写{label}"]})
    if len(text) > limit:
        raise ApplicationError(
            f"{label}不能超过{limit}个字符", errors={"reason": [f"{label}不能超过{limit}个字符"]}
        )
    return text


@transaction.atomic
def transition(
    decl: DocumentType,
    *,
    actor,
    order,
    to: str,
    assignee_id: Any = None,
    reason: str = "",
    from_status: str | None = None,
):
    """Move ``order`` (one ``actor`` sees) to ``to``; returns the order as stored.

    ``from_status``: the state the request was made in (a modal opened earlier); if the order
    has moved on meanwhile, a 409 instead of a different step (派工 turning into 改派)."""
    target = clean_target(decl, to)
    # the order's row only (the ledger locks the customer's after it, as an approval does)
    order = (
        decl.model.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=order.pk)
    )
    current = order.status
    if from_status not in (None, "") and from_status != current:
        raise Conflict(
            f"{decl.label}「{order.number}」的状态已变为「{status_label(decl, current)}」，请刷新后重试",
            code="stale_status",
        )
    step = step_for(current, target)
    if step is None:
        if current == target:
            message = f"当前状态已是「{status_label(decl, current)}」"
        else:
            message = f"当前状态为「{status_label(decl, current)}」，不能直接{TARGET_VERBS[target]}"
        raise Conflict(message, code="invalid_transition")
    check_permission(actor, decl, order, step)
    if step.key == "complete":
        _check_paid(decl, order)
    if step.key == "cancel" and current in BILLED_STATUSES:
        _check_nothing_paid(decl, order)
    if assignee_id not in (None, "") and not step.assignee:
        raise ApplicationError(
            "只有派工或改派时可以指定技术员",
            errors={"assignee_id": ["只有派工或改派时可以指定技术员"]},
        )
    label = "取消原因" if step.key == "cancel" else "返工原因" if step.key == "rework" else "说明"
    note = _text(reason, label, 200, required=step.reason_required)
    before = snapshot(order, LOGGED_FIELDS)
    now = timezone.now()
    message = f"{decl.label}「{order.number}」{step.label}"
    if step.assignee:
        technician = _assignee(decl, order, actor, assignee_id)
        if step.key == "reassign" and technician.pk == order.assignee_id:
            raise ApplicationError(
                f"该{decl.label}已派给「{technician}」",
                errors={"assignee_id": ["请选择另一位技术员"]},
            )
        order.assignee = technician
        message += f"给「{technician}」"
    if step.key == "rework":
        order.finished_at = None
    if step.key == "cancel":
        order.cancel_reason = note
    stamp = TIMESTAMPS.get(step.key)
    if stamp:
        setattr(order, stamp, now)
    was_billed = current in BILLED_STATUSES
    order.status = target
    order.save()
    kind = decl.ledger_kind
    if step.key == "accept":
        if ledger.post(customer_id=order.customer_id, kind=kind, billed=order.amount):
            from kehu.pool import rules as pool_rules

            pool_rules.refresh_return_due([order.customer_id])  # 已成交客户不回收
        message += f"，计入{decl.label}待收款 {order.amount:,.2f}"
    elif step.key == "cancel" and was_billed:
        ledger.post(customer_id=order.customer_id, kind=kind, billed=-order.amount)
        message += f"，冲销待收款 {order.amount:,.2f}"
    if note:
        message += f"：{note}"
    if step.key in ("accept", "cancel") and order.vehicle_id:
        refresh_vehicles([order.vehicle_id])
    if target in (S.COMPLETED, S.CANCELLED):
        _refresh_pool_countdown(order)
    _log_step(actor, order, before, message)
    return order


def _check_paid(decl: DocumentType, order) -> None:
    paid = order_paid(order, states=("approved",))
    if paid < order.amount:
        raise Conflict(
            f"{decl.label}「{order.number}」尚未付清：订单金额 {order.amount:,.2f}，"
            f"已回款 {paid:,.2f}；请先登记回款或挂账并审批通过",
            code="not_paid",
        )


def _check_nothing_paid(decl: DocumentType, order) -> None:
    if order_paid(order) > 0:
        raise Conflict(
            f"{decl.label}「{order.number}」已有回款或挂账订单，请先撤回、取消或作废它们再取消订单",
            code="has_payments",
        )


def settle(model, order_id: int, *, actor) -> None:
    """After a 回款 or 挂账订单 against the order was approved or voided (in its transaction):
    paid in full → 已完成; no longer paid in full → back to 待支付. Logged like a step."""
    from kehu.documents.types import for_model

    decl = for_model(model)
    order = lock_order(model, order_id)
    paid = order_paid(order, states=("approved",))
    before = snapshot(order, LOGGED_FIELDS)
    if order.status == S.AWAITING_PAYMENT and paid >= order.amount:
        order.status, order.completed_at = S.COMPLETED, timezone.now()
        message = f"{decl.label}「{order.number}」已付清 {paid:,.2f}，完成"
    elif order.status == S.COMPLETED and paid < order.amount:
        order.status, order.completed_at = S.AWAITING_PAYMENT, None
        message = f"{decl.label}「{order.number}」回款作废，已付 {paid:,.2f}，退回待支付"
    else:
        return
    order.save(update_fields=["status", "completed_at", "updated_at"])
    _refresh_pool_countdown(order)
    _log_step(actor, order, before, message)


def _log_step(actor, order, before: dict, message: str) -> None:
    """The order's change log entry of a step (by hand or settled by a payment's approval)."""
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=order,
        before=before,
        after=snapshot(order, LOGGED_FIELDS),
        message=message,
    )


def _refresh_pool_countdown(order) -> None:
    """An open order keeps its customer out of the automatic pool return
    (kehu/aftersales/hooks.py): its countdown follows when the order opens or closes."""
    from kehu.pool import rules as pool_rules

    pool_rules.refresh_return_due([order.customer_id])
