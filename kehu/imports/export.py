"""Export (SPEC §4.5): the filtered list to .xlsx — visibility from the selector, contact data
through ``masking``, the template's columns first, formula-like cells escaped."""

from __future__ import annotations

import tempfile

from django.utils.timezone import localtime
from openpyxl import Workbook

from kehu.customers import masking

from .spreadsheets import OPTIONAL_COLUMNS, TEMPLATE_COLUMNS, escape_formula

EXTRA_HEADERS = ["负责人", "创建人", "状态", "待收款金额", "下次跟进时间", "创建时间"]


def export_rows(queryset):
    qs = queryset.select_related(
        "owner", "creator", "level", "source", "industry", "province", "city", "district"
    ).prefetch_related("tags")
    for c in qs.iterator(chunk_size=2000):
        yield [
            c.name,
            c.legal_person,
            c.credit_code,
            c.bank_name,
            c.bank_account,
            c.products,
            c.raw_materials,
            c.contact_name,
            masking.customer_phone(c),
            c.remark,
            c.address,
            c.level.name if c.level else "",
            c.source.name if c.source else "",
            c.industry.name if c.industry else "",
            "、".join(t.name for t in c.tags.all()),
            c.province.name if c.province else "",
            c.city.name if c.city else "",
            c.district.name if c.district else "",
            c.owner.display_name if c.owner else "公海",
            c.creator.display_name if c.creator else "",
            c.get_status_display(),
            c.receivable_total,
            localtime(c.next_followup_at).strftime("%Y-%m-%d %H:%M") if c.next_followup_at else "",
            localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
        ]


def export_customers(queryset) -> str:
    """Write the workbook to a temporary file (streamed, constant memory) and return its path."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append([h for h, *_ in TEMPLATE_COLUMNS] + [h for h, *_ in OPTIONAL_COLUMNS] + EXTRA_HEADERS)
    for row in export_rows(queryset):
        ws.append([escape_formula(v) for v in row])
    with tempfile.NamedTemporaryFile(prefix="kehu-export-", suffix=".xlsx", delete=False) as handle:
        path = handle.name
    wb.save(path)
    return path
