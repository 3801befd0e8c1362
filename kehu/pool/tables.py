import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from kehu.core.tables import KehuTable, SelectColumn
from kehu.customers import masking
from kehu.customers.models import Customer
from kehu.customers.tables import CustomerTable


class PoolCustomerTable(KehuTable):
    select = SelectColumn()
    id = tables.Column(verbose_name="ID")
    name = tables.Column(verbose_name="客户名称", order_by=("name", "id"))
    contact_name = tables.Column(verbose_name="联系人", orderable=False)
    contact_phone = tables.Column(verbose_name="联系电话", orderable=False)
    status = tables.Column(verbose_name="状态", order_by=("status", "id"))
    industry = tables.Column(verbose_name="行业", orderable=False)
    level = tables.Column(verbose_name="客户等级", orderable=False)
    tags = tables.Column(verbose_name="标签", orderable=False, empty_values=())
    pool = tables.Column(verbose_name="公海", orderable=False)
    previous_owner = tables.Column(verbose_name="原负责人", orderable=False)
    pooled_at = tables.DateTimeColumn(
        verbose_name="放入公海时间", format="Y-m-d H:i", order_by=("pooled_at", "id")
    )
    creator = tables.Column(verbose_name="创建人", orderable=False)
    created_at = tables.DateTimeColumn(
        verbose_name="创建时间", format="Y-m-d H:i", order_by=("created_at", "id")
    )
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())

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
            "pool",
            "previous_owner",
            "pooled_at",
            "creator",
            "created_at",
            "actions",
        ]
        order_by = ("-pooled_at",)
        sequence = ("select", "actions", "...")  # 领取 within reach on narrow screens

    render_name = CustomerTable.render_name  # the pool customer's own page (masked, 领取)

    def render_contact_phone(self, record):
        return format_html('<span class="masked">{}</span>', masking.customer_phone(record))

    render_status = CustomerTable.render_status
    render_tags = CustomerTable.render_tags

    def render_actions(self, record):
        url = self.url_once("pool_claim")
        return format_html(
            '<button type="button" class="btn btn-sm btn-primary" hx-post="{}" hx-vals=\'{{"pk": "{}"}}\' '
            'hx-target="#modal-content" data-testid="claim-{}">领取</button>',
            url,
            record.pk,
            record.pk,
        )


class PoolTable(KehuTable):
    name = tables.Column(verbose_name="公海名称")
    is_default = tables.BooleanColumn(verbose_name="默认", yesno="是,否")
    departments = tables.ManyToManyColumn(verbose_name="成员部门")
    no_followup_days = tables.Column(verbose_name="未跟进回收天数")
    not_won_days = tables.Column(verbose_name="未成交回收天数")
    remind_days = tables.Column(verbose_name="提前提醒")
    max_owned = tables.Column(verbose_name="拥有上限")
    daily_claim_limit = tables.Column(verbose_name="每日领取上限")
    reclaim_cooldown_days = tables.Column(verbose_name="原负责人冷却天数")
    lock_limit = tables.Column(verbose_name="锁定上限")
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())

    class Meta(KehuTable.Meta):
        from .models import Pool

        model = Pool
        fields = [
            "name",
            "is_default",
            "departments",
            "no_followup_days",
            "not_won_days",
            "remind_days",
            "max_owned",
            "daily_claim_limit",
            "reclaim_cooldown_days",
            "lock_limit",
        ]

    def render_actions(self, record):
        url = reverse("poolrule_edit", args=[record.pk])
        return format_html(
            '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" hx-target="#modal-content">编辑</a>',
            url,
            url,
        )
