from __future__ import annotations

import django_filters
from django.db.models import Q

from kehu.core.filters import KehuFilterSet

from .models import ApiToken, Department, Role, User


class UserFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="关键词", method="search")
    department = django_filters.ModelChoiceFilter(label="部门", queryset=Department.objects.all())
    roles = django_filters.ModelChoiceFilter(label="角色", queryset=Role.objects.all())
    is_active = django_filters.BooleanFilter(label="在职")

    class Meta(KehuFilterSet.Meta):
        model = User
        fields = ["q", "department", "roles", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value) | Q(name__icontains=value) | Q(mobile__icontains=value)
        )


class DepartmentFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="部门名称", field_name="name", lookup_expr="icontains")

    class Meta(KehuFilterSet.Meta):
        model = Department
        fields = ["q"]


class RoleFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="角色名称", field_name="name", lookup_expr="icontains")

    class Meta(KehuFilterSet.Meta):
        model = Role
        fields = ["q", "data_scope"]


class ApiTokenFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称", field_name="name", lookup_expr="icontains")

    class Meta(KehuFilterSet.Meta):
        model = ApiToken
        fields = ["q"]
