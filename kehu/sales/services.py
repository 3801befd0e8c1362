"""Lead writes (SPEC §6.1): create/edit/delete, follow-ups, mark invalid, convert to a customer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.basics.models import DictEntry, DictKind
from kehu.core.errors import ApplicationError, Conflict
from kehu.core.money import MONEY_LIMIT, clean_money  # noqa: F401  (importable from here too)
from kehu.core.services import BatchResult, run_batch
from kehu.customers.selectors import document_customer
from kehu.customers.services import customer_create, warn_duplicates
from kehu.customers.validation import (
    FieldError,
    clean_dict_entry,
    clean_phone,
    clean_text,
    strip_control_characters,
)
from kehu.followups.models import FollowUp
from kehu.org.authz import authorize
from kehu.org.models import User
from kehu.pool import rules

from .models import Lead, LeadStatus, Opportunity, OpportunityStatus
from .selectors import lead_get


def _clean_lead(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, label, required in (
        ("name", "客户名称", True),
        ("contact_name", "联系人", True),
        ("address", "详细地址", False),
        ("remark", "备注", False),
    ):
        try:
            cleaned[field] = clean_text(data.get(field), field, required=required, label=label)
        except FieldError as exc:
            errors[field] = [str(exc)]
    try:
        cleaned["contact_phone"] = clean_phone(data.get("contact_phone"), required=True)
    except FieldError as exc:
        errors["contact_phone"] = [str(exc)]
    try:
        cleaned["source"] = clean_dict_entry(data.get("source"), DictKind.SOURCE, "来源")
    except FieldError as exc:
        errors["source"] = [str(exc)]
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return cleaned


@transaction.atomic
def lead_save(*, actor: User, instance: Lead | None, data: dict[str, Any]) -> Lead:
    if instance is not None:
        authorize(actor, "change", instance)
        if instance.status == LeadStatus.CONVERTED:
            raise ApplicationError("线索已转为客户，不能再修改", code="converted")
    else:
        authorize(actor, "add", Lead)
    cleaned = _clean_lead(data)
    lead = instance or Lead(creator=actor, owner=data.get("owner") or actor)
    if instance is None:
        authorize(actor, "add", lead, message="只能把线索分配给自己或数据范围内的员工")
    before = snapshot(lead) if instance else None
    for field, value in cleaned.items():
        setattr(lead, field, value)
    lead.save()
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=lead,
        before=before,
        after=snapshot(lead),
    )
    return lead


@transaction.atomic
def lead_delete(*, actor: User, instance: Lead) -> None:
    authorize(actor, "delete", instance)
    if instance.status == LeadStatus.CONVERTED:
        raise ApplicationError("已转客户的线索不能删除", code="converted")
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=snapshot(instance))
    from kehu.recyclebin.services import recycle

    recycle(actor=actor, obj=instance)  # 回收站, with its follow-ups (SPEC §13)


def leads_batch_delete(*, actor: User, ids: list[int]) -> BatchResult:
    authorize(actor, "delete", Lead)
    return run_batch(ids, lambda pk: lead_delete(actor=actor, instance=lead_get(user=actor, pk=pk)))


@transaction.atomic
def lead_mark_invalid(*, actor: User, lead: Lead, reason: str) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    authorize(actor, "change", lead)
    reason = strip_control_characters(reason, multiline=False).strip()
    if not reason:
        raise ApplicationError("请填写无效原因", errors={"reason": ["请填写无效原因"]})
    if lead.status == LeadStatus.CONVERTED:
        raise ApplicationError("线索已转为客户", code="converted")
    lead.status, lead.invalid_reason = LeadStatus.INVALID, reason[:200]
    lead.save(update_fields=["status", "invalid_reason", "updated_at"])
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=lead,
        before={"status": "following"},
        after={"status": "invalid", "invalid_reason": lead.invalid_reason},
    )
    return lead


def lead_convert(
    *,
    actor: User,
    lead: Lead,
    extra: dict[str, Any] | None = None,
    confirm_duplicates: bool = False,
):
    """转客户: one customer carrying the lead's fields (plus optional extra fields such as the
    credit code), its follow-ups move to the customer, and the lead becomes 已转客户.

    The duplicate warning runs first, outside the conversion's transaction (its 查重 is counted
    and logged even when it stops the conversion)."""
    if not confirm_duplicates:
        lead = Lead.objects.get(pk=lead.pk)
        _check_convertible(actor, lead)
        warn_duplicates(actor=actor, data=_customer_data(lead, extra))
    return _convert(actor=actor, lead=lead, extra=extra)


def _check_convertible(actor: User, lead: Lead) -> None:
    authorize(actor, "change", lead)
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict("该线索已转为客户，不能重复转化", code="already_converted")
    if lead.status == LeadStatus.INVALID:
        raise ApplicationError("无效线索不能转为客户", code="invalid_lead")


def _customer_data(lead: Lead, extra: dict[str, Any] | None) -> dict[str, Any]:
    source = lead.source or DictEntry.objects.filter(kind=DictKind.SOURCE, name="线索转化").first()
    data = {
        "name": lead.name,
        "contact_name": lead.contact_name,
        "contact_phone": lead.contact_phone,
        "address": lead.address,
        "remark": lead.remark,
        "source": str(source.pk) if source else None,
    }
    data.update({k: v for k, v in (extra or {}).items() if v not in (None, "")})
    return data


@transaction.atomic
def _convert(*, actor: User, lead: Lead, extra: dict[str, Any] | None):
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _check_convertible(actor, lead)
    data = _customer_data(lead, extra)
    customer = customer_create(
        actor=actor, data=data, owner=lead.owner or actor, confirm_duplicates=True
    )
    moved = FollowUp.objects.filter(lead=lead).update(customer=customer)
    if moved:
        last = FollowUp.objects.filter(customer=customer).order_by("-followed_at").first()
        assert last is not None  # moved > 0
        from kehu.customers.models import Customer

        Customer.objects.filter(pk=customer.pk).update(
            last_followup_at=last.followed_at, next_followup_at=last.next_followup_at
        )
    lead.status, lead.customer, lead.converted_at = LeadStatus.CONVERTED, customer, timezone.now()
    lead.save(update_fields=["status", "customer", "converted_at", "updated_at"])
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=lead,
        before={"status": "following"},
        after={"status": "converted", "customer": customer.pk},
        message=f"转为客户「{customer.name}」",
    )
    return customer


@transaction.atomic
def lead_followup_create(*, actor: User, lead: Lead, data: dict[str, Any]) -> FollowUp:
    authorize(actor, "add", FollowUp(lead=lead))
    content = strip_control_characters(data.get("content")).strip()
    if not content:
        raise ApplicationError("请填写跟进内容", errors={"content": ["请填写跟进内容"]})
    try:
        kind = clean_dict_entry(data.get("type"), DictKind.FOLLOWUP_TYPE, "跟进类型")
    except FieldError as exc:
        raise ApplicationError("输入有误", errors={"type": [str(exc)]}) from exc
    followup = FollowUp.objects.create(
        lead=lead,
        author=actor,
        content=content[:5000],
        type=kind,
        followed_at=data.get("followed_at") or timezone.now(),
        next_followup_at=data.get("next_followup_at"),
    )
    record_change(
        actor=actor,
        action=Action.CREATE,
        obj=followup,
        after=snapshot(followup),
        message=f"跟进线索「{lead.name}」",
    )
    return followup


# --- 商机 (opportunities) -------------------------------------------------------------------


def _clean_opportunity(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned["name"] = clean_text(
            data.get("name"), "opportunity_name", required=True, label="商机名称"
        )
        if len(cleaned["name"]) > 100:
            raise FieldError("商机名称不能超过100个字符")
    except FieldError as exc:
        errors["name"] = [str(exc)]
    remark = strip_control_characters(data.get("remark")).strip()
    if len(remark) > 500:
        errors["remark"] = ["备注不能超过500个字符"]
    cleaned["remark"] = remark
    for field, label in (("budget", "客户预算"), ("product_price", "产品价格")):
        try:
            cleaned[field] = clean_money(data.get(field), label)
        except FieldError as exc:
            errors[field] = [str(exc)]
    status = data.get("status") or OpportunityStatus.OPEN
    if status not in OpportunityStatus.values:
        errors["status"] = ["状态无效（open 未成交 / won 已成交 / lost 输单）"]
    cleaned["status"] = status
    cleaned["expected_close_at"] = data.get("expected_close_at") or None
    cleaned["next_followup_at"] = data.get("next_followup_at") or None
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return cleaned


@transaction.atomic
def opportunity_save(
    *, actor: User, instance: Opportunity | None, data: dict[str, Any]
) -> Opportunity:
    """Create a 商机 for a visible customer the actor manages, or edit one."""
    customer = (
        document_customer(user=actor, customer=data.get("customer") or None)
        if instance is None
        else instance.customer
    )
    if instance is None:
        authorize(actor, "add", Opportunity(customer=customer))
    else:
        authorize(actor, "change", instance)
    cleaned = _clean_opportunity(data)
    opportunity = instance or Opportunity(customer=customer, creator=actor)
    before = snapshot(opportunity) if instance else None
    for field, value in cleaned.items():
        setattr(opportunity, field, value)
    opportunity.save()
    rules.refresh_return_due([customer.pk])  # an open 商机 may stop the countdown (pool rule)
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=opportunity,
        before=before,
        after=snapshot(opportunity),
        message=f"客户「{customer.name}」的商机",
    )
    return opportunity


@transaction.atomic
def opportunity_delete(*, actor: User, instance: Opportunity) -> None:
    authorize(actor, "delete", instance)
    if instance.status == OpportunityStatus.WON:
        raise ApplicationError("已成交的商机不能删除", code="won")
    record_change(
        actor=actor,
        action=Action.DELETE,
        obj=instance,
        before=snapshot(instance),
        message=f"客户「{instance.customer.name}」的商机",
    )
    from kehu.recyclebin.services import recycle

    recycle(actor=actor, obj=instance)  # 回收站 (SPEC §13)
    rules.refresh_return_due([instance.customer_id])


# --- 报价单转合同, 回款计划延期 ------------------------------------------------------------------


@transaction.atomic
def quote_to_contract(*, actor: User, quote, data: dict[str, Any] | None = None):
    """转合同: a new contract draft for the quote's customer, carrying its line items and amount."""
    from kehu.documents.models import ApprovalStatus
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    from .models import Contract, ContractKind

    authorize(actor, "add", Contract(customer=quote.customer))
    if quote.approval_status == ApprovalStatus.VOID:
        raise ApplicationError("报价单已作废，不能转合同", code="void")
    data = data or {}
    kind = data.get("kind") or ContractKind.VEHICLE
    items = [
        {
            "product": i.product_id if i.product is None or i.product.is_active else None,
            "name": i.name,
            "spec": i.spec,
            "unit": i.unit,
            "quantity": i.quantity,
            "unit_price": i.unit_price,
            "discount": i.discount,
        }
        for i in quote.items.select_related("product")
    ]
    contract = document_save(
        registry["contract"],
        actor=actor,
        instance=None,
        data={
            "customer": quote.customer,
            "name": data.get("name") or f"{quote.customer.name}{ContractKind(kind).label}合同",
            "kind": kind,
            "amount": quote.amount,
            "signed_at": timezone.now(),
            "signer": actor,
            "quote": quote.pk,
            "items": items,
            "remark": f"由报价单 {quote.number} 转入",
        },
    )
    return contract


@transaction.atomic
def plan_extend(*, actor: User, plan, due_at, remark: str = ""):
    """续费/延期: a new due date for an unpaid plan; 延期次数 + 1, logged."""
    from .models import PaymentPlan

    plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    authorize(actor, "change", plan)
    if plan.settled_at is not None:
        raise ApplicationError("该回款计划已回款，不能延期", code="settled", status=409)
    if not due_at:
        raise ApplicationError("请填写新的回款日期", errors={"due_at": ["请填写新的回款日期"]})
    if due_at <= plan.due_at:
        raise ApplicationError(
            "新的回款日期必须晚于原回款日期",
            errors={"due_at": [f"必须晚于原回款日期 {plan.due_at:%Y-%m-%d}"]},
        )
    before = {"due_at": plan.due_at.isoformat(), "extensions": plan.extensions}
    plan.due_at, plan.extensions = due_at, plan.extensions + 1
    plan.save(update_fields=["due_at", "extensions", "updated_at"])
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=plan,
        before=before,
        after={"due_at": plan.due_at.isoformat(), "extensions": plan.extensions, "remark": remark},
        message=f"回款计划第{plan.instalment}期延期至 {plan.due_at:%Y-%m-%d}"
        + (f"：{remark}" if remark else ""),
    )
    return plan
