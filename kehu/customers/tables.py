"""The 客户列表 columns, as the seed shows them (SPEC §2.3)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kehu.core.tables import KehuTable, MoneyColumn, SelectColumn

from . import masking
from .models import Customer


class CustomerTable(KehuTable):
    select = SelectColumn()
    id = tables.Column(verbose_name="ID")
    name = tables.Column(verbose_name="客户名称")
    contact_name = tables.Column(verbose_name="联系人", orderable=False)
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False)
    status = tables.Column(verbose_name="状态", order_by=("status", "id"))
    industry = tables.Column(verbose_name="行业", orderable=False)
    level = tables.Column(verbose_name="客户等级", orderable=False)
    tags = tables.Column(verbose_name="标签", orderable=False, empty_values=())
    receivable_total = MoneyColumn(verbose_name="待收款金额", order_by=("receivable_total", "id"))
    receivable_vehicle = MoneyColumn(verbose_name="整车订单", orderable=False, zero_dash=True)
    receivable_parts = MoneyColumn(verbose_name="配件订单", orderable=False, zero_dash=True)
    receivable_used_vehicle = MoneyColumn(
        verbose_name="二手车订单", orderable=False, zero_dash=True
    )
    receivable_lease = MoneyColumn(verbose_name="租赁订单", orderable=False, zero_dash=True)
    receivable_repair = MoneyColumn(verbose_name="维修订单", orderable=False, zero_dash=True)
    receivable_maintenance = MoneyColumn(verbose_name="保养订单", orderable=False, zero_dash=True)
    next_followup_at = tables.DateTimeColumn(
        verbose_name="下次跟进", format="Y-m-d H:i", order_by=("next_followup_at", "id")
    )
    creator = tables.Column(verbose_name="创建人", orderable=False)
    owner = tables.Column(verbose_name="负责人", orderable=False, default="公海")
    created_at = tables.DateTimeColumn(
        verbose_name="创建时间", format="Y-m-d H:i", order_by=("created_at", "id")
    )
    pool_return_at = tables.Column(
        verbose_name="距回收天数", order_by=("pool_return_at", "id"), empty_values=()
    )
    actions = tables.Column(
        verbose_name="操作",
        orderable=False,
        empty_values=(),
        attrs={"td": {"class": "text-nowrap"}},
    )

    class Meta(KehuTable.Meta):
        model = Customer
        fields = [
            "select",
            "id",
            "name",
            "contact_name",
            "contact_phone",
            "status",
            "industry",
            "level",
            "tags",
            "receivable_total",
            "receivable_vehicle",
            "receivable_parts",
            "receivable_used_vehicle",
            "receivable_lease",
            "receivable_repair",
            "receivable_maintenance",
            "next_followup_at",
            "creator",
            "owner",
            "created_at",
            "pool_return_at",
            "actions",
        ]
        order_by = ("-created_at",)

    def render_name(self, record):
        return format_html(
            '<a href="{}">{}</a>', self.url_of("customer_detail", record.pk), record.name
        )

    def render_contact_phone(self, record):
        return masking.customer_phone(record)

    def render_status(self, record, value):
        css = "bg-green-lt" if record.status == "won" else "bg-secondary-lt"
        return format_html('<span class="badge {}">{}</span>', css, value)

    def render_tags(self, record):
        return format_html_join(
            " ", '<span class="badge bg-blue-lt">{}</span>', ((t.name,) for t in record.tags.all())
        )

    def render_pool_return_at(self, record):
        from kehu.pool.rules import days_left

        days = days_left(record.pool_return_at)
        if days is None:
            return format_html(
                '<span class="text-secondary">{}</span>', "锁定" if record.is_locked else "—"
            )
        css = "text-countdown-red" if days < 3 else ""
        return format_html(
            '<span class="{}" title="{}">{}天</span>', css, record.pool_return_rule, max(days, 0)
        )

    def render_actions(self, record):
        # Built as one string: every part is a URL of the row's integer pk or a constant.
        pk = int(record.pk)
        edit = self.url_of("customer_edit", pk)
        detail = self.url_of("customer_detail", pk)
        release = f"{self.url_once('customer_release')}?pk={pk}"
        delete = self.url_of("customer_delete", pk)
        modal = '<a class="btn btn-sm {}" href="{}" hx-get="{}" hx-target="#modal-content">{}</a>'
        return mark_safe(  # noqa: S308 - URLs of an integer pk and constant labels
            '<div class="btn-list flex-nowrap">'
            + modal.format("btn-ghost-secondary", edit, edit, "编辑")
            + f'<a class="btn btn-sm btn-ghost-secondary" href="{detail}?tab=followups">跟进</a>'
            + modal.format("btn-ghost-secondary", release, release, "公海")
            + modal.format("btn-ghost-danger", delete, delete, "删除")
            + "</div>"
        )


class ContactTable(KehuTable):
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())
    name = tables.Column(verbose_name="姓名", order_by=("name", "id"))
    customer = tables.Column(verbose_name="客户", orderable=False)
    mobile = tables.Column(verbose_name="手机", orderable=False, empty_values=())
    phone = tables.Column(verbose_name="电话", orderable=False, empty_values=())
    email = tables.Column(verbose_name="邮箱", orderable=False, empty_values=())
    position = tables.Column(verbose_name="职位", orderable=False)
    gender = tables.Column(verbose_name="性别", orderable=False)
    is_decision_maker = tables.BooleanColumn(verbose_name="决策人", yesno="是,否", orderable=False)
    remark = tables.Column(verbose_name="备注", orderable=False)
    created_at = tables.DateTimeColumn(
        verbose_name="创建时间", format="Y-m-d", order_by=("created_at", "id")
    )

    class Meta(KehuTable.Meta):
        from .models import Contact

        model = Contact
        fields = [
            "actions",
            "name",
            "customer",
            "mobile",
            "phone",
            "email",
            "position",
            "gender",
            "is_decision_maker",
            "remark",
            "created_at",
        ]
        order_by = ("-created_at",)

    def render_customer(self, record):
        return format_html(
            '<a href="{}?tab=contacts">{}</a>',
            reverse("customer_detail", args=[record.customer_id]),
            record.customer.name,
        )

    def render_mobile(self, record):
        return masking.contact_fields(record.customer, record)["mobile"]

    def render_phone(self, record):
        return masking.contact_fields(record.customer, record)["phone"]

    def render_email(self, record):
        return masking.contact_fields(record.customer, record)["email"]

    def render_actions(self, record):
        edit = reverse("contact_edit", args=[record.pk])
        delete = reverse("contact_delete", args=[record.pk])
        return format_html(
            '<div class="btn-list flex-nowrap"><a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" '
            'hx-target="#modal-content">编辑</a><a class="btn btn-sm btn-ghost-danger" href="{}" hx-get="{}" '
            'hx-target="#modal-content">删除</a></div>',
            edit,
            edit,
            delete,
            delete,
        )
