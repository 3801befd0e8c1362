"""Create, edit and delete any declared document, with its line items (SPEC §6.1).

One path for the page, the API, demo data and tests: visibility through the selectors,
``authorize()`` before every write, amounts computed here in ``Decimal``, numbers issued once,
every change logged. A document is editable in 未申请 and 驳回 only (its model's ``editable``:
a type without approval, e.g. a 维修订单, says when).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError, FieldError
from kehu.core.money import clean_money
from kehu.org.authz import authorize

from .fields import text as _text
from .models import ApprovalStatus
from .types import DocumentType

CENT = Decimal("0.01")
MAX_ITEMS = 200
MAX_QUANTITY = Decimal("99999999.99")


def clean_quantity(value: Any) -> Decimal:
    if value is None or str(value).strip() == "":
        raise FieldError("请填写数量")
    try:
        qty = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise FieldError("数量必须是数字") from None
    if not qty.is_finite():
        raise FieldError("数量必须是数字")
    if qty <= 0:
        raise FieldError("数量必须大于0")
    if qty > MAX_QUANTITY:
        raise FieldError("数量过大")
    if qty != qty.quantize(CENT):
        raise FieldError("数量最多两位小数")
    return qty.quantize(CENT)


def clean_items(rows: Any) -> list[dict[str, Any]]:
    """Line items: a product (enabled) or a free-text name, quantity, unit price, 优惠金额;
    the amount is computed here. Errors are keyed ``items.<n>.<field>`` (n from 1)."""
    from kehu.basics.models import Product

    if rows is None:
        return []
    if not isinstance(rows, list | tuple):
        raise ApplicationError("明细格式不正确", errors={"items": ["明细应为列表"]})
    if len(rows) > MAX_ITEMS:
        raise ApplicationError(
            f"明细最多{MAX_ITEMS}行", errors={"items": [f"明细最多{MAX_ITEMS}行"]}
        )
    product_ids = {r.get("product") for r in rows if isinstance(r, dict) and r.get("product")}
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[int(str(p)) for p in product_ids if str(p).isdigit() and len(str(p)) < 19]
        )
    }
    cleaned, errors = [], {}
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors[f"items.{n}"] = ["明细格式不正确"]
            continue
        item: dict[str, Any] = {"position": n}
        raw_product = row.get("product")
        product = None
        if raw_product not in (None, ""):
            product = products.get(int(raw_product)) if str(raw_product).isdigit() else None
            if product is None:
                errors[f"items.{n}.product"] = [f"第{n}行：产品不存在"]
                continue
            if not product.is_active:
                errors[f"items.{n}.product"] = [f"第{n}行：产品「{product}」已停用，不能选用"]
                continue
        item["product"] = product
        try:
            item["name"] = _text(row.get("name") or (product.name if product else ""), "品名", 100)
            if not item["name"]:
                raise FieldError(f"第{n}行：请选择产品或填写品名")
            item["spec"] = _text(
                row.get("spec") or (product.spec if product else ""), "型号规格", 100
            )
            item["unit"] = _text(row.get("unit") or (product.unit if product else ""), "单位", 10)
        except FieldError as exc:
            errors[f"items.{n}.name"] = [str(exc)]
            continue
        for field, label, clean in (
            ("quantity", "数量", lambda v, _label: clean_quantity(v)),
            ("unit_price", "单价", clean_money),
            ("discount", "优惠金额", clean_money),
        ):
            raw = row.get(field)
            if field == "unit_price" and raw in (None, "") and product is not None:
                raw = product.list_price
            try:
                item[field] = clean(raw, label)
            except FieldError as exc:
                errors[f"items.{n}.{field}"] = [f"第{n}行：{exc}"]
        if any(k.startswith(f"items.{n}.") for k in errors):
            continue
        gross = (item["quantity"] * item["unit_price"]).quantize(CENT, ROUND_HALF_UP)
        if item["discount"] > gross:
            errors[f"items.{n}.discount"] = [f"第{n}行：优惠金额不能大于数量×单价"]
            continue
        item["amount"] = gross - item["discount"]
        cleaned.append(item)
    if errors:
        raise ApplicationError("明细有误，请检查后重试", errors=errors)
    return cleaned


def clean_common(data: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"remark": _text(data.get("remark"), "备注", 500)}
    except FieldError as exc:
        raise ApplicationError("输入有误，请检查后重试", errors={"remark": [str(exc)]}) from exc


def not_editable(decl: DocumentType, doc) -> ApplicationError:
    return ApplicationError(
        f"{decl.label}「{doc.number}」{decl.state_display(doc)}，不能修改",
        code="not_editable",
        status=409,
    )


@transaction.atomic
def document_save(decl: DocumentType, *, actor, instance, data: dict[str, Any]):
    """Create (``instance`` None) or edit a document of type ``decl``."""
    if instance is None:
        customer = decl.customer_for(actor=actor, data=data)
        authorize(actor, "add", decl.model(customer=customer))
    else:
        instance = decl.model.objects.select_for_update().get(pk=instance.pk)
        authorize(actor, "change", instance)
        if not instance.editable:  # 未申请/驳回; a type's model may say otherwise
            raise not_editable(decl, instance)
        customer = instance.customer
    cleaned = {
        **clean_common(data),
        **decl.clean(actor=actor, data=data, instance=instance, customer=customer),
    }
    items = None
    if decl.item_model is not None and (instance is None or "items" in data):
        items = clean_items(data.get("items"))
    doc = instance or decl.model(customer=customer, creator=actor)
    before = snapshot(doc) if instance is not None else None
    for field, value in cleaned.items():
        setattr(doc, field, value)
    if items:
        doc.amount = sum((i["amount"] for i in items), Decimal("0.00"))
    if instance is None:
        doc.number = decl.new_number(doc)
    doc.save()
    if items is not None:
        decl.item_model.objects.filter(document=doc).delete()
        decl.item_model.objects.bulk_create([decl.item_model(document=doc, **i) for i in items])
    decl.after_save(doc, created=instance is None, actor=actor)
    after = snapshot(doc)
    if items is not None:
        after["items"] = [f"{i['name']} ×{i['quantity']} = {i['amount']}" for i in items]
    record_change(
        actor=actor,
        action=Action.UPDATE if instance is not None else Action.CREATE,
        obj=doc,
        before=before,
        after=after,
        message=f"客户「{customer.name}」的{decl.label}",
    )
    return doc


@transaction.atomic
def document_delete(decl: DocumentType, *, actor, instance) -> None:
    doc = decl.model.objects.select_for_update().get(pk=instance.pk)
    authorize(actor, "delete", doc)
    if not doc.editable:
        if decl.approval and doc.approval_status == ApprovalStatus.APPROVED:
            raise ApplicationError(
                f"{decl.label}「{doc.number}」已审批通过，不能删除；如需撤销请作废",
                code="approved",
                status=409,
            )
        raise ApplicationError(
            f"{decl.label}「{doc.number}」{decl.state_display(doc)}，不能删除",
            code="not_editable",
            status=409,
        )
    reason = decl.delete_refusal(doc)
    if reason:
        raise ApplicationError(reason, code="in_use", status=409)
    record_change(
        actor=actor,
        action=Action.DELETE,
        obj=doc,
        before=snapshot(doc),
        message=f"客户「{doc.customer.name}」的{decl.label}",
    )
    from kehu.recyclebin.services import recycle

    from .models import ApprovalRecord

    # 回收站 (SPEC §13): with its line items, approval records and attachments
    records = ApprovalRecord.objects.filter(doc_type=decl.key, document_id=doc.pk)
    recycle(actor=actor, obj=doc, rows=records)
