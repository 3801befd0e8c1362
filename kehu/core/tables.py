"""Table declarations: Tabler-styled django-tables2 tables with checkboxes and row actions."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe


class SelectColumn(tables.CheckBoxColumn):
    """Row checkbox posting ``pk``; the header box selects the whole page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault(
            "attrs",
            {
                "th__input": {
                    "class": "form-check-input",
                    "data-select-all": "1",
                    "aria-label": "全选",
                },
                "td__input": {"class": "form-check-input", "name": "pk"},
                "th": {"class": "w-1"},
            },
        )
        super().__init__(**kwargs)

    @property
    def header(self):
        return mark_safe(  # noqa: S308 - constant markup
            '<input type="checkbox" class="form-check-input" data-select-all="1" aria-label="全选">'
        )


class ActionsColumn(tables.Column):
    """The 操作 column: edit/delete open modals; ``extra`` adds (label, url_name, css) entries."""

    empty_values = ()

    def __init__(self, url_name: str, *, edit=True, delete=True, extra=(), template=None, **kwargs):
        self.url_name = url_name
        self.edit = edit
        self.delete = delete
        self.extra = extra
        self.template = template
        kwargs.setdefault("verbose_name", "操作")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap"}})
        super().__init__(**kwargs)

    def _url(self, action, record):
        try:
            return reverse(f"{self.url_name}_{action}", args=[record.pk])
        except NoReverseMatch:
            return None

    def render(self, record, table):
        user = getattr(getattr(table, "request", None), "user", None)
        buttons = []
        for label, action, css in self.extra:
            url = self._url(action, record)
            if url:
                buttons.append({"label": label, "url": url, "css": css, "modal": True})
        if self.edit and self._url("edit", record):
            buttons.append(
                {"label": "编辑", "url": self._url("edit", record), "css": "", "modal": True}
            )
        if self.delete and self._url("delete", record):
            buttons.append(
                {
                    "label": "删除",
                    "url": self._url("delete", record),
                    "css": "text-danger",
                    "modal": True,
                }
            )
        return render_to_string(
            self.template or "core/htmx/row_actions.html",
            {"buttons": buttons, "record": record, "user": user},
        )


class KehuTable(tables.Table):
    class Meta:
        attrs = {
            "class": "table table-vcenter card-table table-striped table-hover text-nowrap datatable"
        }
        empty_text = "暂无数据"
        template_name = "core/table.html"

    @property
    def kehu_page_sizes(self):
        from django.conf import settings

        return settings.KEHU_PAGE_SIZES
