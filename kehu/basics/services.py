"""Dictionary and product writes: both can be disabled, never deleted while something uses them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError, FieldError
from kehu.core.money import clean_money
from kehu.core.registry import delete_refusal
from kehu.core.services import validated_save
from kehu.customers.validation import clean_text
from kehu.org.authz import authorize

from .models import DictEntry, Product, ProductCategory


@transaction.atomic
def dict_entry_save(*, actor, instance: DictEntry | None, data: dict[str, Any]) -> DictEntry:
    entry = instance or DictEntry()
    before = snapshot(entry) if instance else None
    if instance is not None and "kind" in data and data["kind"] != instance.kind:
        raise ApplicationError("字典类型不能修改", errors={"kind": ["字典类型不能修改"]})
    for field in ("kind", "name", "sort", "is_active", "remark"):
        if field in data:
            setattr(entry, field, data[field])
    entry.name = (entry.name or "").strip()
    if DictEntry.objects.filter(kind=entry.kind, name=entry.name).exclude(pk=entry.pk).exists():
        raise ApplicationError("该字典项已存在", errors={"name": ["同类型下已有同名字典项"]})
    validated_save(entry, validate_constraints=False)
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=entry,
        before=before,
        after=snapshot(entry),
    )
    return entry


@transaction.atomic
def dict_entry_delete(*, actor, instance: DictEntry) -> None:
    """Refused while any record uses the entry (SPEC §1): disable it instead."""
    reason = delete_refusal(instance)
    if reason:
        raise ApplicationError(reason, code="in_use")
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=snapshot(instance))
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise ApplicationError("该字典项正在使用，不能删除，可以停用", code="in_use") from exc


# --- 产品 (products) ----------------------------------------------------------------------------

PRODUCT_FIELDS = ("name", "category", "brand", "spec", "unit", "list_price", "is_active", "remark")

# (field, label, max length, required); one-line texts have their whitespace runs collapsed.
_PRODUCT_TEXTS = (
    ("name", "产品名称", 100, True),
    ("brand", "品牌", 50, False),
    ("spec", "型号规格", 100, False),
    ("unit", "单位", 10, True),
)
_CATEGORY_BY_LABEL = {str(label): value for value, label in ProductCategory.choices}
DUPLICATE_PRODUCT = "已有同名同型号规格的产品"


def _clean_product(data: dict[str, Any]) -> dict[str, Any]:
    """Every field of a product, or one ApplicationError listing each refused field in Chinese."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, label, limit, required in _PRODUCT_TEXTS:
        try:
            text = " ".join(clean_text(data.get(field), field, label=label).split())
            if required and not text:
                raise FieldError(f"请填写{label}")
            if len(text) > limit:
                raise FieldError(f"{label}不能超过{limit}个字符")
            cleaned[field] = text
        except FieldError as exc:
            errors[field] = [str(exc)]
    remark = clean_text(data.get("remark"), "product_remark")
    if len(remark) > 200:
        errors["remark"] = ["备注不能超过200个字符"]
    cleaned["remark"] = remark
    category = str(data.get("category") or "").strip()
    category = _CATEGORY_BY_LABEL.get(category, category)
    if category not in ProductCategory.values:
        labels = "、".join(str(label) for label in ProductCategory.labels)
        errors["category"] = [f"请选择产品类别（{labels}）" if not category else "产品类别无效"]
    cleaned["category"] = category
    try:
        cleaned["list_price"] = clean_money(data.get("list_price"), "标准价")
    except FieldError as exc:
        errors["list_price"] = [str(exc)]
    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        errors["is_active"] = ["启用状态只能是是或否"]
    cleaned["is_active"] = is_active
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return cleaned


@transaction.atomic
def product_save(*, actor, instance: Product | None, data: dict[str, Any]) -> Product:
    """Create a product, or edit one (SPEC §13). ``data`` may name only the fields that change.

    Rules: 产品名称 and 单位 required, texts within their lengths and free of control characters,
    标准价 a non-negative amount with at most two decimals, 产品名称 + 型号规格 unique. Only
    holders of ``basics.add_product`` / ``basics.change_product`` (admins by default) write."""
    authorize(actor, "change" if instance else "add", instance or Product)
    product = instance or Product()
    before = snapshot(product) if instance else None
    current = {field: getattr(product, field) for field in PRODUCT_FIELDS}
    cleaned = _clean_product({**current, **{k: v for k, v in data.items() if k in current}})
    for field, value in cleaned.items():
        setattr(product, field, value)
    duplicates = Product.objects.filter(name__iexact=product.name, spec__iexact=product.spec)
    if duplicates.exclude(pk=product.pk).exists():
        raise ApplicationError(
            DUPLICATE_PRODUCT, code="duplicate", errors={"name": [DUPLICATE_PRODUCT]}
        )
    try:
        with transaction.atomic():  # a concurrent twin still meets the unique constraint
            validated_save(product, validate_constraints=False)
    except IntegrityError as exc:
        raise ApplicationError(
            DUPLICATE_PRODUCT, code="duplicate", errors={"name": [DUPLICATE_PRODUCT]}
        ) from exc
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=product,
        before=before,
        after=snapshot(product),
    )
    return product


@transaction.atomic
def product_delete(*, actor, instance: Product) -> None:
    """Refused while a document uses the product (the ``basics.product`` delete guards of
    :mod:`kehu.core.registry`, and any protecting foreign key): disable it instead."""
    authorize(actor, "delete", instance)
    reason = delete_refusal(instance)
    if reason:
        raise ApplicationError(_with_disable_hint(reason), code="in_use")
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=snapshot(instance))
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise ApplicationError("该产品已被单据使用，不能删除，可以停用", code="in_use") from exc


def _with_disable_hint(reason: str) -> str:
    return reason if "停用" in reason else f"{reason}，可以停用"
