import django_filters
from django import forms

from kehu.basics.models import DictEntry, DictKind
from kehu.core.filters import KehuFilterSet
from kehu.org.models import User

from .models import FollowUp

DATE = forms.DateInput(attrs={"type": "date"})


class FollowUpFilterSet(KehuFilterSet):
    customer = django_filters.CharFilter(
        label="客户名称", field_name="customer__name", lookup_expr="icontains"
    )
    customer_id = django_filters.NumberFilter(
        label="客户ID", field_name="customer_id", widget=forms.HiddenInput
    )
    type = django_filters.ModelChoiceFilter(
        label="跟进类型", queryset=DictEntry.objects.filter(kind=DictKind.FOLLOWUP_TYPE)
    )
    author = django_filters.ModelChoiceFilter(label="跟进人", queryset=User.objects.all())
    content = django_filters.CharFilter(label="内容", lookup_expr="icontains")
    followed_from = django_filters.DateFilter(
        label="跟进日期从", field_name="followed_at", lookup_expr="date__gte", widget=DATE
    )
    followed_to = django_filters.DateFilter(
        label="跟进日期至", field_name="followed_at", lookup_expr="date__lte", widget=DATE
    )

    class Meta(KehuFilterSet.Meta):
        model = FollowUp
        fields: list[str] = []
