import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from kehu.core.tables import KehuTable, SelectColumn

from .models import Lead


class LeadTable(KehuTable):
    select = SelectColumn()
    id = tables.Column(verbose_name="ID")
    name = tables.Column(verbose_name="线索名称", order_by=("name", "id"))
    contact_name = tables.Column(verbose_name="联系人", orderable=False)
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False)
    source = tables.Column(verbose_name="来源", orderable=False)
    status = tables.Column(verbose_name="状态", order_by=("status", "id"))
    owner = tables.Column(verbose_name="负责人", orderable=False)
    created_at = tables.DateTimeColumn(
        verbose_name="创建时间", format="Y-m-d H:i", order_by=("created_at", "id")
    )
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())

    class Meta(KehuTable.Meta):
        model = Lead
        fields = [
            "select",
            "id",
            "name",
            "contact_name",
            "contact_phone",
            "source",
            "status",
            "owner",
            "created_at",
            "actions",
        ]
        order_by = ("-created_at",)

    def render_name(self, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("lead_detail", args=[record.pk]), record.name
        )

    def render_status(self, record):
        css = {"converted": "bg-green-lt", "invalid": "bg-secondary-lt"}.get(
            record.status, "bg-blue-lt"
        )
        return format_html('<span class="badge {}">{}</span>', css, record.get_status_display())

    def render_actions(self, record):
        if record.status == "converted" and record.customer_id:
            return format_html(
                '<a class="btn btn-sm btn-success" href="{}" data-testid="lead-customer">客户</a>',
                reverse("customer_detail", args=[record.customer_id]),
            )
        if record.status == "invalid":
            return format_html('<span class="text-secondary">{}</span>', record.invalid_reason)
        convert = reverse("lead_convert", args=[record.pk])
        edit = reverse("lead_edit", args=[record.pk])
        return format_html(
            '<div class="btn-list flex-nowrap"><a class="btn btn-sm btn-primary" href="{}" hx-get="{}" hx-target="#modal-content">转客户</a>'
            '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" hx-target="#modal-content">编辑</a>'
            '<a class="btn btn-sm btn-ghost-secondary" href="{}">跟进</a></div>',
            convert,
            convert,
            edit,
            edit,
            reverse("lead_detail", args=[record.pk]),
        )
