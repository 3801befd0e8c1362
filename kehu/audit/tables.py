import django_tables2 as tables
from django.utils.html import format_html_join

from kehu.core.tables import KehuTable

from .models import ChangeLog


class ChangeLogTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    created_at = tables.DateTimeColumn(verbose_name="时间", format="Y-m-d H:i:s")
    actor_name = tables.Column(verbose_name="操作人")
    action = tables.Column(verbose_name="动作")
    object_type = tables.Column(verbose_name="对象类型")
    object_repr = tables.Column(verbose_name="对象")
    changes = tables.Column(
        verbose_name="变更",
        orderable=False,
        attrs={"td": {"class": "text-wrap", "style": "min-width: 16rem"}},
    )
    message = tables.Column(
        verbose_name="说明", attrs={"td": {"class": "text-wrap", "style": "min-width: 12rem"}}
    )

    class Meta(KehuTable.Meta):
        model = ChangeLog
        fields = [
            "id",
            "created_at",
            "actor_name",
            "action",
            "object_type",
            "object_repr",
            "changes",
            "message",
        ]

    def render_object_type(self, value, record):
        return getattr(record, "object_label", value)

    def render_changes(self, value, record):
        # The rows come from selectors.changelog_list: secrets stripped, masked values masked,
        # one readable line per change (display.describe).
        return format_html_join("", "<div>{}</div>", ((line,) for line in record.lines))
