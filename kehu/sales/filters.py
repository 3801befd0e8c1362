import django_filters
from django import forms
from django.db.models import Q

from kehu.basics.models import DictEntry, DictKind
from kehu.core.filters import KehuFilterSet
from kehu.core.forms import RemoteSelect
from kehu.org.models import User

from .models import Lead, LeadStatus, Opportunity, OpportunityStatus


class LeadFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称/联系人/电话", method="search")
    status = django_filters.ChoiceFilter(label="状态", choices=LeadStatus.choices)
    source = django_filters.ModelChoiceFilter(
        label="来源", queryset=DictEntry.objects.filter(kind=DictKind.SOURCE)
    )
    owner = django_filters.ModelChoiceFilter(label="负责人", queryset=User.objects.all())

    class Meta(KehuFilterSet.Meta):
        model = Lead
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(contact_name__icontains=value)
            | Q(contact_phone__contains=value)
        )


class OpportunityFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="商机/客户名称", method="search")
    status = django_filters.ChoiceFilter(label="状态", choices=OpportunityStatus.choices)
    owner = django_filters.ModelChoiceFilter(
        label="客户负责人",
        field_name="customer__owner",
        queryset=User.objects.all(),
        widget=RemoteSelect("/api/v1/users"),
    )
    customer_id = django_filters.NumberFilter(
        label="客户ID", field_name="customer_id", widget=forms.HiddenInput
    )
    expected_from = django_filters.DateFilter(
        label="预计成交从",
        field_name="expected_close_at",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    expected_to = django_filters.DateFilter(
        label="预计成交至",
        field_name="expected_close_at",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta(KehuFilterSet.Meta):
        model = Opportunity
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(customer__name__icontains=value))
