"""Export (SPEC §4.5): the filtered list to .xlsx — visibility from the selector, contact data
through ``masking``, the template's columns first, formula-like cells escaped."""

from __future__ import annotations

import tempfile

from django.utils.timezone import localtime
from openpyxl import Workbook

from kehu.customers import masking

from .spreadsheets import OPTIONAL_COLUMNS, TEMPLATE_COLUMNS, safe_cell

EXTRA_HEADERS = ["负责人", "创建人", "状态", "待收款金额", "下次跟进时间", "创建时间"]


FIELDS = [
    "pk",
    "name",
    "legal_person",
    "credit_code",
    "bank_name",
    "bank_account",
    "products",
    "raw_materials",
    "contact_name",
    "contact_phone",
    "remark",
    "address",
    "level_id",
    "source_id",
    "industry_id",
    "province_id",
    "city_id",
    "district_id",
    "owner_id",
    "creator_id",
    "status",
    "receivable_total",
    "next_followup_at",
    "created_at",
]
CHUNK = 2000


def export_rows(queryset):
    """Rows as plain values: names of users, dictionaries and regions come from small lookup
    tables read once, tags one query per chunk — no model instances per row."""
    from types import SimpleNamespace

    from kehu.basics.models import DictEntry, Region
    from kehu.customers.models import Customer, CustomerStatus
    from kehu.org.models import User

    users = {
        pk: name or username
        for pk, name, username in User.objects.values_list("pk", "name", "username")
    }
    dicts = dict(DictEntry.objects.values_list("pk", "name"))
    regions = dict(Region.objects.values_list("adcode", "name"))
    statuses = {value: str(label) for value, label in CustomerStatus.choices}
    through = Customer.tags.through

    def emit(chunk):
        tags: dict[int, list[str]] = {}
        for customer_id, tag_id in through.objects.filter(
            customer_id__in=[r[0] for r in chunk]
        ).values_list("customer_id", "dictentry_id"):
            tags.setdefault(customer_id, []).append(dicts.get(tag_id, ""))
        for r in chunk:
            v = dict(zip(FIELDS, r, strict=True))
            phone = masking.customer_phone(
                SimpleNamespace(owner_id=v["owner_id"], contact_phone=v["contact_phone"])
            )
            yield [
                v["name"],
                v["legal_person"],
                v["credit_code"],
                v["bank_name"],
                v["bank_account"],
                v["products"],
                v["raw_materials"],
                v["contact_name"],
                phone,
                v["remark"],
                v["address"],
                dicts.get(v["level_id"], ""),
                dicts.get(v["source_id"], ""),
                dicts.get(v["industry_id"], ""),
                "、".join(tags.get(v["pk"], [])),
                regions.get(v["province_id"], ""),
                regions.get(v["city_id"], ""),
                regions.get(v["district_id"], ""),
                users.get(v["owner_id"], "公海") if v["owner_id"] else "公海",
                users.get(v["creator_id"], ""),
                statuses.get(v["status"], v["status"]),
                v["receivable_total"],
                localtime(v["next_followup_at"]).strftime("%Y-%m-%d %H:%M")
                if v["next_followup_at"]
                else "",
                localtime(v["created_at"]).strftime("%Y-%m-%d %H:%M"),
            ]

    chunk: list[tuple] = []
    for row in queryset.prefetch_related(None).values_list(*FIELDS).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield from emit(chunk)
            chunk = []
    if chunk:
        yield from emit(chunk)


def export_customers(queryset) -> str:
    """Write the workbook to a temporary file (streamed, constant memory) and return its path."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append([h for h, *_ in TEMPLATE_COLUMNS] + [h for h, *_ in OPTIONAL_COLUMNS] + EXTRA_HEADERS)
    for row in export_rows(queryset):
        ws.append([safe_cell(v) for v in row])
    with tempfile.NamedTemporaryFile(prefix="kehu-export-", suffix=".xlsx", delete=False) as handle:
        path = handle.name
    wb.save(path)
    return path
