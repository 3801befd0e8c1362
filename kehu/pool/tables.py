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
    pooled_at = tables.DateTimeColumn(verbose_name="放入公海时间", format="Y-m-d H:i", order_by=("pooled_at", "id"))
    creator = tables.Column(verbose_name="创建人", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="创建时间", format="Y-m-d H:i", order_by=("created_at", "id"))
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())

    class Meta(KehuTable.Meta):
        model = Customer
        fields = [
            "select", "id", "name", "contact_name", "contact_phone", "status", "industry", "level", "tags",
            "pool", "previous_owner", "pooled_at", "creator", "created_at", "actions",
        ]
        order_by = ("-pooled_at",)

    def render_contact_phone(self, record):
        return format_html('<span class="masked">{}</span>', masking.customer_phone(record))

    render_status = CustomerTable.render_status
    render_tags = CustomerTable.render_tags

    def render_actions(self, record):
        url = reverse("pool_claim")
        return format_html(
            '<button type="button" class="btn btn-sm btn-primary" hx-post="{}" hx-vals=\'{{"pk": "{}"}}\' '
            'hx-target="#modal-content" data-testid="claim-{}">领取</button>',
            url, record.pk, record.pk,
        )
