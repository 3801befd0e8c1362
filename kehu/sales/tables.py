import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from kehu.core.tables import KehuTable, MoneyColumn, SelectColumn

from .models import Lead, Opportunity


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


class OpportunityTable(KehuTable):
    """The seed's 客户商机 columns: 操作 商机名称 客户预算 产品价格 备注 预计成交 下次跟进 创建人
    更新时间 状态 (plus the customer on the full list)."""

    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())
    name = tables.Column(verbose_name="商机名称", order_by=("name", "id"))
    customer = tables.Column(verbose_name="客户名称", orderable=False)
    budget = MoneyColumn(verbose_name="客户预算", order_by=("budget", "id"))
    product_price = MoneyColumn(verbose_name="产品价格", orderable=False)
    remark = tables.Column(verbose_name="备注", orderable=False)
    expected_close_at = tables.DateColumn(
        verbose_name="预计成交", format="Y-m-d", order_by=("expected_close_at", "id")
    )
    next_followup_at = tables.DateTimeColumn(
        verbose_name="下次跟进", format="Y-m-d", order_by=("next_followup_at", "id")
    )
    creator = tables.Column(verbose_name="创建人", orderable=False)
    updated_at = tables.DateTimeColumn(
        verbose_name="更新时间", format="Y-m-d", order_by=("updated_at", "id")
    )
    status = tables.Column(verbose_name="状态", order_by=("status", "id"))

    class Meta(KehuTable.Meta):
        model = Opportunity
        fields = [
            "actions",
            "name",
            "customer",
            "budget",
            "product_price",
            "remark",
            "expected_close_at",
            "next_followup_at",
            "creator",
            "updated_at",
            "status",
        ]
        order_by = ("-updated_at",)

    def render_customer(self, record):
        return format_html(
            '<a href="{}?tab=opportunities">{}</a>',
            reverse("customer_detail", args=[record.customer_id]),
            record.customer.name,
        )

    def render_status(self, record):
        css = {"won": "bg-green-lt", "lost": "bg-secondary-lt"}.get(record.status, "bg-blue-lt")
        return format_html('<span class="badge {}">{}</span>', css, record.get_status_display())

    def render_actions(self, record):
        edit = reverse("opportunity_edit", args=[record.pk])
        delete = reverse("opportunity_delete", args=[record.pk])
        # 跟进 opens the customer's follow-up dialog with this 商机 chosen (客户画像 跟进记录)
        followup = (
            reverse("customer_detail", args=[record.customer_id])
            + f"?tab=followups&opportunity={record.pk}"
        )
        return format_html(
            '<div class="btn-list flex-nowrap">'
            '<a class="btn btn-sm btn-ghost-secondary" href="{}">跟进</a>'
            '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" hx-target="#modal-content">编辑</a>'
            '<a class="btn btn-sm btn-ghost-danger" href="{}" hx-get="{}" hx-target="#modal-content">删除</a></div>',
            followup,
            edit,
            edit,
            delete,
            delete,
        )
