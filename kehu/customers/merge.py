"""合并客户 (SPEC §3): merge duplicates into one kept customer, field by field, in one transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from kehu.audit.models import Action
from kehu.audit.services import record_change
from kehu.core.errors import ApplicationError, Forbidden
from kehu.core.models import Attachment
from kehu.org.scope import can_manage_owner

from .models import RECEIVABLE_KINDS, Contact, Customer, CustomerShare
from .selectors import visible_customers

MERGE_FIELDS = [
    ("name", "客户名称"),
    ("legal_person", "法人/经营者"),
    ("credit_code", "统一社会信用代码"),
    ("bank_name", "开户银行"),
    ("bank_account", "收款账号"),
    ("industry", "行业类型"),
    ("products", "生产产品"),
    ("raw_materials", "原材料类型"),
    ("province", "省"),
    ("city", "市"),
    ("district", "区"),
    ("address", "详细地址"),
    ("contact_name", "联系人"),
    ("contact_phone", "联系电话"),
    ("level", "客户等级"),
    ("source", "客户来源"),
    ("owner", "负责人"),
    ("next_followup_at", "下次跟进时间"),
    ("remark", "备注"),
]


def merge_candidates(*, actor, ids: list[int]) -> list[Customer]:
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        raise ApplicationError("请至少选择两个客户进行合并", code="too_few")
    customers = list(
        visible_customers(actor)
        .filter(pk__in=ids)
        .select_related("owner", "level", "industry", "source")
    )
    if len(customers) != len(ids):
        raise ApplicationError("所选客户不存在或无权查看", code="not_visible")
    if not actor.has_perm("customers.merge_customer"):
        raise Forbidden("没有合并客户的权限")
    for customer in customers:
        if not can_manage_owner(actor, customer.owner_id):
            raise Forbidden(f"无权合并客户「{customer.name}」")
    customers.sort(key=lambda c: ids.index(c.pk))
    return customers


def merge_preview(customers: list[Customer]) -> list[dict[str, Any]]:
    """Per field: every customer's value and the default winner (the kept one's, or the first
    non-empty one)."""
    rows = []
    for field, label in MERGE_FIELDS:
        values = [(c.pk, getattr(c, field)) for c in customers]
        winner = next((pk for pk, value in values if value not in (None, "")), customers[0].pk)
        if values[0][1] not in (None, ""):
            winner = customers[0].pk
        rows.append(
            {
                "field": field,
                "label": label,
                "values": values,
                "winner": winner,
                "same": len({str(v) for _, v in values}) == 1,
            }
        )
    return rows


@transaction.atomic
def merge_customers(
    *, actor, ids: list[int], keep_id: int, choices: dict[str, int] | None = None
) -> Customer:
    """Every related row moves to the kept customer; the others are removed; receivables add up."""
    customers = merge_candidates(actor=actor, ids=ids)
    by_id = {c.pk: c for c in customers}
    if keep_id not in by_id:
        raise ApplicationError(
            "保留的客户必须是所选客户之一", errors={"keep_id": ["保留的客户必须是所选客户之一"]}
        )
    kept = Customer.objects.select_for_update().get(pk=keep_id)
    others = [c for c in customers if c.pk != keep_id]
    other_ids = [c.pk for c in others]
    list(Customer.objects.select_for_update().filter(pk__in=other_ids).values_list("pk", flat=True))
    before = {c.pk: c.name for c in customers}
    winners = {row["field"]: row["winner"] for row in merge_preview([by_id[keep_id], *others])}
    for field, pk in (choices or {}).items():
        if field in winners and pk in by_id:
            winners[field] = pk
    for field, pk in winners.items():
        setattr(kept, field, getattr(by_id[pk], field))
    if kept.credit_code:
        Customer.objects.filter(pk__in=other_ids, credit_code=kept.credit_code).update(
            credit_code=""
        )
    Contact.objects.filter(customer_id__in=other_ids).update(is_primary=False)  # one primary stays
    # Every row of any model pointing at a customer moves (documents registered later included).
    for relation in Customer._meta.related_objects:
        if (
            relation.many_to_many
            or not relation.field.concrete
            or relation.related_model is CustomerShare
        ):
            continue
        relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": other_ids}
        ).update(**{relation.field.name: kept})
    shared = set(CustomerShare.objects.filter(customer=kept).values_list("user_id", flat=True))
    for share in CustomerShare.objects.filter(customer_id__in=other_ids):
        if share.user_id not in shared and share.user_id != kept.owner_id:
            CustomerShare.objects.create(
                customer=kept, user_id=share.user_id, shared_by_id=share.shared_by_id
            )
            shared.add(share.user_id)
    Attachment.objects.filter(
        content_type__model="customer", content_type__app_label="customers", object_id__in=other_ids
    ).update(object_id=kept.pk)
    for kind in [*RECEIVABLE_KINDS, "total"]:
        name = f"receivable_{kind}"
        setattr(
            kept,
            name,
            getattr(kept, name) + sum((getattr(c, name) for c in others), Decimal("0.00")),
        )
    if any(c.status == "won" for c in customers):
        kept.status = "won"
    tags = {t.pk for c in customers for t in c.tags.all()}
    from .dedupe import normalize_name

    kept.name_normalized = normalize_name(kept.name)
    kept.version = F("version") + 1
    kept.save()
    kept.refresh_from_db()
    kept.tags.set(tags)
    Customer.objects.filter(pk__in=other_ids).delete()
    record_change(
        actor=actor,
        action=Action.MERGE,
        obj=kept,
        before={"merged": before},
        after={"kept": kept.pk},
        message=f"合并了{len(others)}个客户：" + "、".join(c.name for c in others),
    )
    for c in others:
        record_change(
            actor=actor,
            action=Action.MERGE,
            obj=c,
            before={"name": c.name},
            after={"merged_into": kept.pk},
            message=f"并入客户「{kept.name}」",
        )
    return kept
