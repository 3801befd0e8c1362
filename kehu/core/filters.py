"""FilterSet base: styled search-panel widgets; one FilterSet serves page, export and API.

Subclasses declare ``class Meta(KehuFilterSet.Meta): model = …; fields = […]``.
"""

from __future__ import annotations

import django_filters
from django import forms

from .forms import StyledFormMixin


class StyledFilterForm(StyledFormMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_fields()


class KehuFilterSet(django_filters.FilterSet):
    class Meta:
        form = StyledFilterForm
