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
    awaiting_me = django_filters.BooleanFilter(
        label="待我审批",
        method="filter_awaiting_me",
        widget=forms.Select(choices=[("", "全部"), ("true", "是")]),
    )
    search_fields: tuple[str, ...] = ("number", "customer__name")

    def filter_awaiting_me(self, queryset, name, value):
        """待我审批 (the 首页's figures link here): documents waiting on the user at their
        current step — ``approval.pending_querysets``' condition."""
        if not value:
            return queryset
        from .approval import approvable, approver_q

        user = getattr(self.request, "user", None)
        decl = (
            next((d for d in approvable(user) if d.model is queryset.model), None) if user else None
        )
        cond = approver_q(user, decl) if decl is not None else None
        return queryset.none() if cond is None else queryset.filter(cond)

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
