"""Table declarations: Tabler-styled django-tables2 tables with checkboxes and row actions."""

from __future__ import annotations

import inspect
from datetime import date
from functools import partialmethod

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template.defaultfilters import date as date_format
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_str
from django.utils.formats import localize
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django_tables2.utils import Accessor, AttributeDict

from .money import money_display


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

    def render(self, value, bound_column, record):
        # CheckBoxColumn's markup without its per-cell attribute machinery (20 rows a page).
        return format_html(
            '<input type="checkbox" name="pk" value="{}" class="form-check-input" />', value
        )


class MoneyColumn(tables.Column):
    """An amount, right-aligned, as ``500,000.00``; compact: its header may wrap onto two lines,
    and with ``zero_dash`` a zero shows as a quiet “—” (a row of six ``0.00`` is noise)."""

    def __init__(self, *args, zero_dash: bool = False, **kwargs):
        self.zero_dash = zero_dash
        kwargs.setdefault(
            "attrs",
            {"td": {"class": "text-end kehu-money"}, "th": {"class": "text-end kehu-money"}},
        )
        super().__init__(*args, **kwargs)

    def render(self, value):
        if self.zero_dash and not value:
            return mark_safe('<span class="text-secondary">—</span>')  # noqa: S308 - constant
        return money_display(value)


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


class _CellPlan:
    """What one column needs to render its cells, worked out once per table render.

    django-tables2 re-derives all of this for every cell (accessor parsing, the model field and
    its choices, ``inspect.signature`` of the render method, a template per date cell), which
    costs most of a 20-row × 22-column page. The plan keeps its semantics: ``get_FOO_display``
    for fields with choices, the column's ``empty_values`` → ``default``, the render method
    called with the arguments it names, values localised and escaped as ``{{ cell }}`` would.
    """

    __slots__ = (
        "bound",
        "column",
        "td",
        "parts",
        "display",
        "choices",
        "attname",
        "render",
        "args",
        "date_format",
        "strftime",
    )

    def __init__(self, bound, model):
        from django_tables2.utils import signature

        self.bound = bound
        self.column = bound.column
        self.td = bound.attrs.get("td", AttributeDict()).as_html()
        self.parts = tuple(str(bound.accessor).replace("__", ".").split("."))
        self.display = None
        self.choices: dict | None = None
        self.attname = ""
        if model is not None and len(self.parts) == 1:
            try:
                field = model._meta.get_field(self.parts[0])
            except FieldDoesNotExist:
                field = None
            if field is not None and getattr(field, "choices", None):
                self.display = f"get_{self.parts[0]}_display"
                own = inspect.getattr_static(model, self.display, None)
                if isinstance(own, partialmethod) and own.func is models.Model._get_FIELD_display:
                    # Django's own get_FOO_display, with its choices as one dict built once
                    self.choices = {
                        make_hashable(k): force_str(v, strings_only=True)
                        for k, v in field.flatchoices
                    }
                    self.attname = field.attname
        self.date_format = None
        self.strftime = None
        if type(self.column) in (tables.DateTimeColumn, tables.DateColumn):
            self.date_format = _date_format_of(self.column)
            self.strftime = _strftime_of(self.date_format)
            self.render = None
            self.args: tuple[str, ...] = ()
        else:
            self.render = bound.render
            self.args = signature(self.render)[0]

    def value(self, record):
        if self.choices is not None:
            raw = getattr(record, self.attname)
            return self.choices.get(make_hashable(raw), raw)
        if self.display is not None:
            return getattr(record, self.display)()
        value = record
        try:
            for part in self.parts:
                if value is None:
                    return None
                value = getattr(value, part)
                if (
                    callable(value)
                    and not isinstance(value, models.Manager)
                    and not getattr(value, "do_not_call_in_templates", False)
                    and not getattr(value, "alters_data", False)
                ):
                    value = value()
        except (AttributeError, ObjectDoesNotExist):
            # dict keys, list indexes, missing relations: django-tables2's own resolver
            try:
                return Accessor(str(self.bound.accessor)).resolve(record)
            except Exception:  # noqa: BLE001 - django-tables2 also renders the default then
                return None
        return value

    def cell(self, record, table, bound_row) -> str:
        value = self.value(record)
        if value in self.column.empty_values:
            return _as_html(self.bound.default)
        if self.strftime is not None and isinstance(value, date):
            return template_localtime(value).strftime(self.strftime)
        if self.date_format is not None:
            return _as_html(date_format(template_localtime(value), self.date_format))
        available = {
            "value": value,
            "record": record,
            "column": self.column,
            "bound_column": self.bound,
            "bound_row": bound_row,
            "table": table,
        }
        return _as_html(self.render(**{name: available[name] for name in self.args}))


def _date_format_of(column) -> str:
    code = column.template_code  # '{{ value|date:"FORMAT"|default:default }}'
    start = code.index('date:"') + len('date:"')
    return code[start : code.index('"', start)]


# Date format characters that mean the same in strftime (zero-padded numbers only): a cell in
# such a format is formatted by strftime, ten times quicker than the template filter.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S"}


def _strftime_of(date_format: str) -> str | None:
    out = []
    for char in date_format:
        if char in _STRFTIME:
            out.append(_STRFTIME[char])
        elif char in "-/: .":
            out.append(char)
        else:
            return None
    return "".join(out)


def _as_html(value) -> str:
    """``{{ value }}`` in a template: local time, localised numbers and dates, escaped."""
    if value is None:
        return "None"
    return conditional_escape(localize(template_localtime(value)))


_PK_MARK = 987654321012

# Every list table by its key (``app.classname``): the 列 chooser names a table by it.
TABLES: dict[str, type[KehuTable]] = {}

# Columns a list keeps at its left (row checkbox, 操作, the record's name or number): on a wide
# screen they stay put while the other columns scroll under them (kehu.css, kehu.js), and the
# 列 chooser cannot hide them.
LEAD_COLUMNS = ("select", "actions")
NAME_COLUMNS = ("name", "number")


class KehuTable(tables.Table):
    """A list table: 操作 first like the seed's lists, the name column sticky, every cell
    classed ``kehu-col-<column>``; ``hidden`` (the user's 列 choice) drops columns."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TABLES[cls.columns_key()] = cls

    @classmethod
    def columns_key(cls) -> str:
        return f"{cls.__module__.split('.')[1]}.{cls.__name__.lower()}"

    @classmethod
    def fixed_columns(cls) -> set[str]:
        return {n for n in cls.base_columns if n in LEAD_COLUMNS or n in NAME_COLUMNS}

    @classmethod
    def choosable_columns(cls) -> list[tuple[str, str]]:
        """``(name, label)`` of every column, in display order (the 列 chooser's rows)."""
        names = list(cls.base_columns)
        lead = [n for n in LEAD_COLUMNS if n in names]
        return [
            (n, str(cls.base_columns[n].verbose_name or n))
            for n in lead + [n for n in names if n not in lead]
            if n != "select"
        ]

    def __init__(self, *args, hidden=(), **kwargs):
        names = list(type(self).base_columns)
        if kwargs.get("sequence") is None and any(n in names for n in LEAD_COLUMNS):
            kwargs["sequence"] = [n for n in LEAD_COLUMNS if n in names] + ["..."]
        fixed = type(self).fixed_columns()
        drop = [n for n in hidden if n in names and n not in fixed]
        if drop:
            kwargs["exclude"] = (*(kwargs.get("exclude") or ()), *drop)
        super().__init__(*args, **kwargs)
        sticky = [n for n in names if n in LEAD_COLUMNS] + [
            next((n for n in NAME_COLUMNS if n in names), "")
        ]
        for bound in self.columns.iterall():  # this table's own copies of the columns
            name, column = bound.name, bound.column
            css = f"kehu-col-{name}" + (" kehu-sticky" if name in sticky else "")
            attrs = dict(column.attrs or {})
            for part in ("th", "td"):
                cell = dict(attrs.get(part) or {})
                existing = cell.get("class", "")
                if callable(existing):
                    continue
                cell["class"] = f"{existing} {css}".strip()
                attrs[part] = cell
            column.attrs = attrs

    def url_of(self, url_name: str, pk) -> str:
        """``reverse(url_name, args=[pk])`` for a row: reversed once per table render, then the
        row's pk put in (a page of 20 rows × 4 links was 80 reverses)."""
        makers = self.__dict__.setdefault("_kehu_urls", {})
        maker = makers.get(url_name)
        if maker is None:
            head, _, tail = reverse(url_name, args=[_PK_MARK]).partition(str(_PK_MARK))
            maker = makers[url_name] = (head, tail)
        return f"{maker[0]}{int(pk)}{maker[1]}"

    def url_once(self, url_name: str) -> str:
        """``reverse(url_name)`` once per table render (a URL without arguments)."""
        urls = self.__dict__.setdefault("_kehu_fixed_urls", {})
        if url_name not in urls:
            urls[url_name] = reverse(url_name)
        return urls[url_name]

    def kehu_body(self):
        """The ``<tbody>`` rows as one string, or None when a column needs django-tables2's own
        per-cell machinery (links, per-cell attrs); ``core/table.html`` falls back then."""
        columns = list(self.columns)
        if any(
            bound.link
            or bound.column.localize is not None
            or any(callable(v) for v in bound.column.attrs.get("td", {}).values())
            for bound in columns
        ):
            return None
        model = getattr(self._meta, "model", None)
        plans = [_CellPlan(bound, model) for bound in columns]
        rows = []
        for bound_row in self.paginated_rows:
            record = bound_row.record
            cells = "".join(
                f"<td {plan.td}>{plan.cell(record, self, bound_row)}</td>" for plan in plans
            )
            rows.append(f"<tr {bound_row.attrs.as_html()}>{cells}</tr>")
        return mark_safe("\n".join(rows))  # noqa: S308 - every cell is escaped or SafeString

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
