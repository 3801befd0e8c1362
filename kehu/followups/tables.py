import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from kehu.core.tables import KehuTable

from .models import FollowUp


class FollowUpTable(KehuTable):
    actions = tables.Column(verbose_name="操作", orderable=False, empty_values=())
    followed_at = tables.DateTimeColumn(
        verbose_name="跟进时间", format="Y-m-d H:i", order_by=("followed_at", "id")
    )
    customer = tables.Column(verbose_name="客户", orderable=False)
    type = tables.Column(verbose_name="跟进类型", orderable=False)
    content = tables.Column(
        verbose_name="跟进内容",
        orderable=False,
        attrs={"td": {"class": "text-wrap", "style": "min-width:20rem"}},
    )
    contact = tables.Column(verbose_name="联系人", orderable=False)
    next_followup_at = tables.DateTimeColumn(
        verbose_name="下次跟进", format="Y-m-d H:i", order_by=("next_followup_at", "id")
    )
    author = tables.Column(verbose_name="跟进人", orderable=False)

    class Meta(KehuTable.Meta):
        model = FollowUp
        fields = [
            "actions",
            "followed_at",
            "customer",
            "type",
            "content",
            "contact",
            "next_followup_at",
            "author",
        ]
        order_by = ("-followed_at",)

    def render_customer(self, record):
        url = reverse("customer_detail", args=[record.customer_id])
        return format_html('<a href="{}?tab=followups">{}</a>', url, record.customer.name)

    def render_actions(self, record):
        """编辑 for the follow-up's author (or an admin): a correction, logged."""
        user = getattr(getattr(self, "request", None), "user", None)
        if user is None or not (record.author_id == user.pk or user.is_admin):
            return ""
        if not user.has_perm("followups.change_followup"):
            return ""
        url = reverse("followup_edit", args=[record.pk])
        return format_html(
            '<a class="btn btn-sm btn-ghost-secondary" href="{}" hx-get="{}" '
            'hx-target="#modal-content">编辑</a>',
            url,
            url,
        )
