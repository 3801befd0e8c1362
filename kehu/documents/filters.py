"""The search panel every document list shares; a type adds its own filters."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from kehu.core.filters import KehuFilterSet

from .models import ApprovalStatus


class DocumentFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="单号/客户名称", method="search")
    approval_status = django_filters.ChoiceFilter(label="审批状态", choices=ApprovalStatus.choices)
    customer_id = django_filters.NumberFilter(
        label="客户ID", field_name="customer_id", widget=forms.HiddenInput
    )
    created_from = django_filters.DateFilter(
        label="创建时间从",
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        label="创建时间至",
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    search_fields: tuple[str, ...] = ("number", "customer__name")

    class Meta(KehuFilterSet.Meta):
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        cond = Q()
        for path in self.search_fields:
            cond |= Q(**{f"{path}__icontains": value})
        return queryset.filter(cond)
