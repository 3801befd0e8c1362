"""Follow-up writes (SPEC §5.1): adding one moves the customer's last/next follow-up times and
restarts the pool countdown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.basics.models import DictKind
from kehu.core.attachments import attach_files
from kehu.core.errors import ApplicationError, Forbidden, NotFound
from kehu.customers.models import Contact, Customer
from kehu.customers.validation import FieldError, clean_dict_entry, strip_control_characters
from kehu.org.authz import authorize
from kehu.pool.rules import refresh_return_due

from .models import FollowUp

MAX_CONTENT = 5000


def _clean(data: dict[str, Any], customer: Customer) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    content = strip_control_characters(data.get("content")).strip()
    if not content:
        errors["content"] = ["请填写跟进内容"]
    elif len(content) > MAX_CONTENT:
        errors["content"] = [f"跟进内容不能超过{MAX_CONTENT}个字符"]
    try:
        kind = clean_dict_entry(data.get("type"), DictKind.FOLLOWUP_TYPE, "跟进类型")
    except FieldError as exc:
        errors["type"] = [str(exc)]
        kind = None
    followed_at = data.get("followed_at") or timezone.now()
    next_at = data.get("next_followup_at")
    if next_at and next_at <= followed_at:
        errors["next_followup_at"] = ["下次跟进时间应晚于本次跟进时间"]
    if followed_at > timezone.now() + timedelta(minutes=5):
        errors["followed_at"] = ["本次跟进时间不能晚于现在"]
    contact = data.get("contact")
    if contact is not None:
        if not isinstance(contact, Contact):
            contact = Contact.objects.filter(pk=contact).first()
        if contact is None or contact.customer_id != customer.pk:
            errors["contact"] = ["联系人不属于该客户"]
    opportunity_id = data.get("opportunity_id")
    if opportunity_id is not None:
        from kehu.sales.models import Opportunity

        if not Opportunity.objects.filter(pk=opportunity_id, customer_id=customer.pk).exists():
            errors["opportunity_id"] = ["商机不属于该客户"]
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return {
        "content": content,
        "type": kind,
        "followed_at": followed_at,
        "next_followup_at": next_at,
        "contact": contact,
        "opportunity_id": data.get("opportunity_id"),
    }


@transaction.atomic
def followup_create(*, actor, customer: Customer, data: dict[str, Any], files=()) -> FollowUp:
    """Record a follow-up on a customer the actor manages (owner, scope over owner, admin)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    authorize(actor, "add", FollowUp(customer=customer))
    cleaned = _clean(data, customer)
    followup = FollowUp.objects.create(customer=customer, author=actor, **cleaned)
    attach_files(actor=actor, obj=followup, files=files)
    updates: dict[str, Any] = {"version": F("version") + 1}
    if customer.last_followup_at is None or cleaned["followed_at"] >= customer.last_followup_at:
        updates["last_followup_at"] = cleaned["followed_at"]
        updates["next_followup_at"] = cleaned["next_followup_at"]
    Customer.objects.filter(pk=customer.pk).update(**updates)
    refresh_return_due([customer.pk])
    record_change(
        actor=actor,
        action=Action.CREATE,
        obj=followup,
        after=snapshot(followup),
        message=f"跟进客户「{customer.name}」",
    )
    return followup


@transaction.atomic
def followup_delete(*, actor, followup: FollowUp) -> None:
    authorize(actor, "delete", FollowUp)
    if followup.author_id != actor.pk and not actor.is_admin:
        raise Forbidden("只能删除自己的跟进记录")
    record_change(actor=actor, action=Action.DELETE, obj=followup, before=snapshot(followup))
    from kehu.recyclebin.services import recycle

    customer_id = followup.customer_id  # None for a lead's follow-up
    if customer_id is not None:
        Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk").first()
    recycle(actor=actor, obj=followup)  # 回收站, with its attachments (SPEC §13)
    if customer_id is not None:
        refresh_followup_times(customer_id)


def refresh_followup_times(customer_id: int) -> None:
    """最后跟进 / 下次跟进 of a customer from its remaining follow-ups (SPEC §5.1): the latest
    one's time and its next time — after a delete (or a restore) as after an add."""
    latest = (
        FollowUp.objects.filter(customer_id=customer_id)
        .order_by("-followed_at", "-id")
        .values("followed_at", "next_followup_at")
        .first()
    )
    Customer.objects.filter(pk=customer_id).update(
        last_followup_at=latest["followed_at"] if latest else None,
        next_followup_at=latest["next_followup_at"] if latest else None,
        version=F("version") + 1,
    )
    refresh_return_due([customer_id])


@transaction.atomic
def followup_update(*, actor, followup: FollowUp, data: dict[str, Any]) -> FollowUp:
    """Correct a follow-up (issue 14.15): only its author (or an admin), with the same checks
    as adding one; the change is logged field by field and the customer's 最后跟进 / 下次跟进
    follow the corrected times (SPEC §5.1). ``data`` holds the whole follow-up (the API merges
    a PATCH into the stored values first)."""
    authorize(actor, "change", FollowUp)
    current = FollowUp.objects.select_for_update().filter(pk=followup.pk).first()
    if current is None:
        raise NotFound("跟进记录不存在或无权查看")
    if current.author_id != actor.pk and not actor.is_admin:
        raise Forbidden("只能修改自己的跟进记录")
    customer = (
        Customer.objects.select_for_update().filter(pk=current.customer_id).first()
        if current.customer_id is not None
        else None
    )
    if customer is None:  # a lead's follow-up (before conversion) is not corrected here
        raise ApplicationError("只能修改客户的跟进记录", code="not_a_customer_followup")
    cleaned = _clean(data, customer)
    before = snapshot(current)
    for field, value in cleaned.items():
        setattr(current, field, value)
    current.save()
    after = snapshot(current)
    if after != before:
        refresh_followup_times(customer.pk)
        record_change(
            actor=actor,
            action=Action.UPDATE,
            obj=current,
            before=before,
            after=after,
            message=f"修改客户「{customer.name}」的跟进记录",
        )
    return current
