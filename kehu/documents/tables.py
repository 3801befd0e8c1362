"""The columns every document list shares (单号, 客户, 审批状态, 创建时间, 操作)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from kehu.core.tables import KehuTable, SelectColumn

STATUS_CSS = {
    "draft": "bg-secondary-lt",
    "pending": "bg-yellow-lt",
    "approved": "bg-green-lt",
    "rejected": "bg-red-lt",
    "void": "bg-dark-lt",
}


def status_badge(doc) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_CSS.get(doc.approval_status, ""),
        doc.get_approval_status_display(),
    )


class DocumentTable(KehuTable):
    url_name = ""  # set by the type: quote → quote_detail, quote_edit, quote_delete

    select = SelectColumn()
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())
    number = tables.Column(verbose_name="单号", order_by=("number",))
    customer = tables.Column(verbose_name="客户名称", orderable=False)
    approval_status = tables.Column(verbose_name="审批状态", order_by=("approval_status", "id"))
    remark = tables.Column(verbose_name="备注", orderable=False)
    created_at = tables.DateTimeColumn(
        verbose_name="创建时间", format="Y-m-d H:i", order_by=("created_at", "id")
    )

    def render_number(self, record):
        return format_html(
            '<a href="{}">{}</a>',
            reverse(f"{self.url_name}_detail", args=[record.pk]),
            record.number,
        )

    def render_customer(self, record):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("customer_detail", args=[record.customer_id]),
            record.customer.name,
        )

    def render_approval_status(self, record):
        return status_badge(record)

    def render_actions(self, record):
        detail = reverse(f"{self.url_name}_detail", args=[record.pk])
        buttons = [
            format_html('<a class="btn btn-sm btn-ghost-primary" href="{}">查看详情</a>', detail)
        ]
        if record.editable:
            edit = reverse(f"{self.url_name}_edit", args=[record.pk])
            delete = reverse(f"{self.url_name}_delete", args=[record.pk])
            buttons.append(
                format_html(
                    '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" '
                    'hx-target="#modal-content">编辑</a>',
                    edit,
                    edit,
                )
            )
            buttons.append(
                format_html(
                    '<a class="btn btn-sm btn-ghost-danger" href="{}" hx-get="{}" '
                    'hx-target="#modal-content">删除</a>',
                    delete,
                    delete,
                )
            )
        return format_html(
            '<div class="btn-list flex-nowrap">{}</div>',
            mark_safe("".join(buttons)),  # noqa: S308
        )
