import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse

from kehu.core.tables import KehuTable

from .models import RecycleEntry


class RecycleActionsColumn(tables.Column):
    """恢复 for whoever may restore, 彻底删除 for admins: both open a confirmation modal."""

    empty_values = ()

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "操作")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap"}})
        super().__init__(**kwargs)

    def render(self, record, table):
        user = getattr(getattr(table, "request", None), "user", None)
        buttons = []
        if user is not None and user.has_perm("recyclebin.restore_recycleentry"):
            url = reverse("recyclebin_restore", args=[record.pk])
            buttons.append({"label": "恢复", "url": url, "css": "text-primary", "modal": True})
        if user is not None and user.has_perm("recyclebin.delete_recycleentry"):
            url = reverse("recyclebin_delete", args=[record.pk])
            buttons.append({"label": "彻底删除", "url": url, "css": "text-danger", "modal": True})
        return render_to_string("core/htmx/row_actions.html", {"buttons": buttons})


class RecycleEntryTable(KehuTable):
    type_label = tables.Column(verbose_name="类型", accessor="type_label", order_by="object_type")
    display_name = tables.Column(verbose_name="名称")
    customer_name = tables.Column(verbose_name="所属客户")
    row_count = tables.Column(verbose_name="记录数")
    owner = tables.Column(verbose_name="负责人", accessor="owner__display_name", order_by="owner")
    deleted_by = tables.Column(
        verbose_name="删除人", accessor="deleted_by__display_name", order_by="deleted_by"
    )
    deleted_at = tables.DateTimeColumn(verbose_name="删除时间", format="Y-m-d H:i")
    expires_at = tables.DateTimeColumn(verbose_name="到期时间", format="Y-m-d H:i")
    actions = RecycleActionsColumn()

    class Meta(KehuTable.Meta):
        model = RecycleEntry
        fields = [
            "type_label",
            "display_name",
            "customer_name",
            "row_count",
            "owner",
            "deleted_by",
            "deleted_at",
            "expires_at",
            "actions",
        ]

    def render_customer_name(self, value, record):
        # a customer's own entry: the name column says it already
        return "—" if record.object_type == "customers.customer" else value
