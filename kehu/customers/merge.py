"""合并客户 (SPEC §3): merge duplicates into one kept customer, field by field, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Q

from kehu.audit.models import Action
from kehu.audit.services import record_change, record_changes
from kehu.core import memo
from kehu.core.errors import ApplicationError
from kehu.core.models import Attachment
from kehu.org.authz import authorize
from kehu.pool import rules as pool_rules

from .models import Contact, Customer, CustomerShare
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
    authorize(actor, "merge", Customer, message="没有合并客户的权限")
    for customer in customers:
        authorize(actor, "merge", customer, message=f"无权合并客户「{customer.name}」")
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
    old_owner_id = kept.owner_id
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
    primaries = dict(
        Contact.objects.filter(customer_id__in=[keep_id, *other_ids], is_primary=True).values_list(
            "customer_id", "pk"
        )
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
    _primary_contact_in_step(kept, primaries.get(winners["contact_phone"]))
    share_log = _merge_shares(actor, kept, old_owner_id, others)
    Attachment.objects.filter(
        content_type__model="customer", content_type__app_label="customers", object_id__in=other_ids
    ).update(object_id=kept.pk)
    # The receivables and 状态 move through the ledger (the documents moved above).
    from kehu.ledger.services import merge_into

    merge_into(kept_id=kept.pk, other_ids=other_ids)
    tags = {t.pk for c in customers for t in c.tags.all()}
    from .dedupe import normalize_name

    kept.name_normalized = normalize_name(kept.name)
    kept.version = F("version") + 1
    kept.save()
    kept.refresh_from_db()
    kept.tags.set(tags)
    Customer.objects.filter(pk__in=other_ids).delete()
    memo.clear()  # the others' shares went with them
    pool_rules.refresh_return_due([kept.pk])  # its owner, and so its pool's rule, may differ
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
    record_changes(share_log)
    return kept


def _primary_contact_in_step(kept: Customer, source_primary_id: int | None) -> None:
    """The kept customer's 联系人/联系电话 may come from a merged-away customer: its primary
    contact becomes the contact carrying them (the phone's customer's primary first), or a new
    one when none does, so the primary contact always mirrors them (SPEC §5.3) and no contact's
    data is overwritten."""
    from .services import primary_contact_for

    name, phone = kept.contact_name, kept.contact_phone
    matches = Contact.objects.filter(customer=kept, name=name).filter(
        Q(mobile=phone) | Q(phone=phone)
    )
    chosen = (
        matches.filter(pk=source_primary_id).first() if source_primary_id is not None else None
    ) or matches.order_by("-is_primary", "id").first()
    demote = Contact.objects.filter(customer=kept, is_primary=True)
    if chosen is not None:
        demote = demote.exclude(pk=chosen.pk)
    demote.update(is_primary=False)
    if chosen is None:
        primary_contact_for(kept).save()
    elif not chosen.is_primary:
        Contact.objects.filter(pk=chosen.pk).update(is_primary=True)


def _merge_shares(actor, kept: Customer, old_owner_id: int | None, others: list[Customer]):
    """Shares follow ownership (SPEC §1): when the kept customer's owner changes, its shares end;
    a merged-away customer's shares move to the kept one only when it had the kept one's (new)
    owner, and end otherwise. Returns the change-log rows of the ended shares."""
    ended = {o.pk: o.name for o in others if o.owner_id != kept.owner_id}
    if kept.owner_id != old_owner_id:
        ended[kept.pk] = kept.name
    entries = pool_rules.end_shares(actor=actor, customers=ended)
    carried = [o.pk for o in others if o.pk not in ended]
    if carried:
        existing = set(
            CustomerShare.objects.filter(customer=kept).values_list("user_id", flat=True)
        )
        new = {}
        for share in CustomerShare.objects.filter(customer_id__in=carried).order_by("id"):
            if share.user_id not in existing and share.user_id != kept.owner_id:
                new.setdefault(share.user_id, share.shared_by_id)
        CustomerShare.objects.bulk_create(
            CustomerShare(customer=kept, user_id=user_id, shared_by_id=by)
            for user_id, by in new.items()
        )
        memo.clear()
    return entries
