"""The change log in the user's language (SPEC §8, issue 14 point 9).

A row stores ``{field: [old, new]}`` with raw values (ids, codes, ISO dates, ``true``). Readers
see one line per change, the way the pages show the record:

    客户等级：B普通客户 → A重点客户
    负责人：张三 → （空）
    法人/经营者：（空） → 王五
    合同金额：1,000.00 → 2,500.00
    决策人：否 → 是

- the field's label (the model field's ``verbose_name``), the object type's name (客户, 合同 …)
  instead of ``customers.customer``;
- related records by their name (a user by display name, a dictionary entry by its name, a
  region by its name), choices by their label, booleans 是/否, money with two decimals and
  thousands separators, datetimes in Asia/Shanghai as ``Y-m-d H:i``;
- masked values stay masked: the rows come through ``selectors.prepare_for_readers`` (secrets
  stripped, contact data of pool customers masked) before they are described here.

:func:`describe` does a page of rows at once: the related names are read with one query per
related model, whatever the number of rows. :func:`display_changes` is the one-row form.
The template fragment ``audit/_entries.html`` renders described rows (the /audit/ page and the
portrait's 日志 tab).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from kehu.core.money import money_display

EMPTY = "（空）"
# Keys that are not model fields but appear in logged data.
EXTRA_LABELS = {
    "items": "明细",
    "tags": "客户标签",
    "shared_with": "分享给",
    "user_ids": "人员",
    "reason": "原因",
    "comment": "意见",
    "pool": "公海",
}
# Keys that are not model fields but hold ids of other records (named like a relation's).
EXTRA_RELATED = {"shared_with": "org.User"}
# Object types that are not models (or whose model has no good name).
OBJECT_LABELS = {"auth.login": "登录"}
_LIST_LIMIT = 10  # items of a list value shown before "等 N 项"


def model_of(object_type: str | None) -> type[models.Model] | None:
    if not object_type or "." not in object_type:
        return None
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_label(object_type: str | None) -> str:
    """``customers.customer`` → 客户 (the model's verbose name); unknown types as they are."""
    if object_type in OBJECT_LABELS:
        return OBJECT_LABELS[object_type]
    model = model_of(object_type)
    return str(model._meta.verbose_name) if model is not None else (object_type or "")


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a key that is not a field
        for field in model._meta.concrete_fields:
            if getattr(field, "attname", None) == name:
                return field
        return None


def field_label(model, name: str) -> str:
    field = _field(model, name)
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    return EXTRA_LABELS.get(name, name)


def _related_model(field) -> type[models.Model] | None:
    if field is not None and field.is_relation and field.related_model is not None:
        return field.related_model
    return None


def _target(model, name: str) -> type[models.Model] | None:
    """The model a logged key points to: a relation field's, or an extra key's (``shared_with``)."""
    target = _related_model(_field(model, name))
    if target is None and name in EXTRA_RELATED:
        target = apps.get_model(EXTRA_RELATED[name])
    return target


def _name_of(obj) -> str:
    for attr in ("display_name",):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return str(obj)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ids(value: Any) -> list[int]:
    if _is_id(value):
        return [value]
    if isinstance(value, list):
        return [v for v in value if _is_id(v)]
    return []


def _names(related: dict, model, value) -> str:
    """A related id (or a list of ids) by name; a gone record as #id."""
    if isinstance(value, list):
        if not value:
            return EMPTY
        names = [_names(related, model, v) for v in value[:_LIST_LIMIT]]
        more = f" 等 {len(value)} 项" if len(value) > _LIST_LIMIT else ""
        return "、".join(names) + more
    if value in (None, ""):
        return EMPTY
    name = related.get(model, {}).get(value)
    return name if name is not None else f"#{value}"


def format_value(field, value: Any, related: dict | None = None) -> str:
    """One logged value as the pages show it."""
    related = related or {}
    target = _related_model(field)
    if target is not None and (_is_id(value) or isinstance(value, list)):
        return _names(related, target, value)
    if value is None or value == "" or value == []:
        return EMPTY
    if field is not None and getattr(field, "choices", None):
        choices = {str(k): str(v) for k, v in field.flatchoices}
        if isinstance(value, list):
            return "、".join(choices.get(str(v), str(v)) for v in value)
        return choices.get(str(value), str(value))
    if isinstance(value, bool) or isinstance(field, models.BooleanField):
        return "是" if value in (True, "true", "True", 1) else "否"
    if isinstance(field, models.DecimalField):
        try:
            return money_display(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return str(value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            if timezone.is_aware(parsed):
                parsed = timezone.localtime(parsed)
            return parsed.strftime("%Y-%m-%d %H:%M")
    if isinstance(field, models.DateField) and isinstance(value, str):
        parsed_date = parse_date(value[:10])
        if parsed_date is not None:
            return parsed_date.strftime("%Y-%m-%d")
    if isinstance(value, list):
        return "、".join(str(v) for v in value[:_LIST_LIMIT]) or EMPTY
    if isinstance(value, dict):
        return "、".join(f"{k}：{v}" for k, v in value.items()) or EMPTY
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _resolve(entries: list) -> dict[type[models.Model], dict[Any, str]]:
    """Names of every related record the rows mention: one query per related model."""
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for entry in entries:
        model = model_of(entry.object_type)
        for name, change in (entry.changes or {}).items():
            target = _target(model, name)
            if target is None or not isinstance(change, list):
                continue
            for side in change[:2]:
                wanted[target].update(_ids(side))
    related: dict[type[models.Model], dict[Any, str]] = {}
    for target, ids in wanted.items():
        manager = getattr(target, "all_objects", None) or target._default_manager
        related[target] = {obj.pk: _name_of(obj) for obj in manager.filter(pk__in=ids)}
    return related


def _field_order(model) -> dict[str, int]:
    if model is None:
        return {}
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return {f.name: i for i, f in enumerate(fields)} | {
        f.attname: i for i, f in enumerate(model._meta.concrete_fields)
    }


def _lines(entry, related: dict) -> list[str]:
    """In the order of the form (the model's fields), not the stored JSON's (PostgreSQL's
    jsonb sorts keys its own way)."""
    model = model_of(entry.object_type)
    order = _field_order(model)
    changes = entry.changes or {}
    lines = []
    for name in sorted(changes, key=lambda key: (order.get(key, len(order)), str(key))):
        change = changes[name]
        field = _field(model, name)
        label = field_label(model, name)
        target = None if field is not None else _target(model, name)
        if target is not None and isinstance(change, list) and len(change) == 2:
            old, new = (_names(related, target, v) for v in change)
            lines.append(f"{label}：{old} → {new}")
        elif isinstance(change, list) and len(change) == 2:
            old, new = (format_value(field, v, related) for v in change)
            lines.append(f"{label}：{old} → {new}")
        else:
            lines.append(f"{label}：{format_value(field, change, related)}")
    return lines


def describe(entries: Iterable) -> list:
    """Set ``object_label`` and ``lines`` (one readable line per change) on each row, in place;
    the rows must come from ``selectors.changelog_list`` / ``prepare_for_readers``."""
    entries = list(entries)
    pending = [e for e in entries if not hasattr(e, "lines")]
    related = _resolve(pending)
    for entry in pending:
        entry.object_label = object_label(entry.object_type)
        entry.lines = _lines(entry, related)
    return entries


def display_changes(entry) -> list[str]:
    """One readable line per change of one row (see the module's docstring)."""
    describe([entry])
    return entry.lines
