"""FilterSet base: styled search-panel widgets; one FilterSet serves page, export and API.

Subclasses declare ``class Meta(KehuFilterSet.Meta): model = …; fields = […]``.
"""

from __future__ import annotations

import django_filters
from django import forms

from .forms import StyledFormMixin


class StyledFilterForm(StyledFormMixin, forms.Form):
    empty_choice_label = "全部"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_fields()


# The range of a database integer: a filter value outside it is invalid input (SQLite's driver
# raises OverflowError and PostgreSQL a DataError on it, a 500 before this check).
MAX_INTEGER = 2**63 - 1


class KehuFilterSet(django_filters.FilterSet):
    class Meta:
        form = StyledFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.NumberFilter) and _is_integer(
                model, filter_.field_name
            ):
                # ?customer_id=99999999999999999999 is refused like ?customer_id=abc
                filter_.extra.setdefault("min_value", -MAX_INTEGER)
                filter_.extra.setdefault("max_value", MAX_INTEGER)


def _is_integer(model, field_name: str) -> bool:
    from django.db import models
    from django_filters.utils import get_model_field

    field = get_model_field(model, field_name) if model is not None else None
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return isinstance(field, models.IntegerField | models.AutoField)


def read_choices(form, names) -> None:
    """The pickers ``names`` (ModelChoiceFields) get their options from one plain query each.
    Django reads a ModelChoiceField's options through ``.iterator()`` — on PostgreSQL a
    server-side cursor, three round trips — each time the page is drawn (the 省 picker's 34
    provinces were 2 ms of every list page). A submitted value is still checked against the
    field's queryset. Read when the picker is drawn (an API request never draws it)."""
    for name in names:
        field = form.fields.get(name)
        if field is None:
            continue

        def options(field=field):
            found = [(obj.pk, field.label_from_instance(obj)) for obj in field.queryset]
            return [("", field.empty_label), *found]

        field.widget.choices = options
